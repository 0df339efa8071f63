-- S1 (and the nginx ceiling): GET one thought by a random id in 1..N.
package.path = package.path .. ";" .. os.getenv("BENCH_LUA") .. "/?.lua"
require "common"

local n = tonumber(os.getenv("BENCH_IDS") or "10000")

request = function()
    return wrk.format("GET", "/api/thoughts/" .. math.random(1, n) .. "/")
end
