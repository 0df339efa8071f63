-- S2, S3: GET a fixed path (BENCH_PATH).
package.path = package.path .. ";" .. os.getenv("BENCH_LUA") .. "/?.lua"
require "common"

local path = os.getenv("BENCH_PATH")

request = function()
    return wrk.format("GET", path)
end
