-- S4 (POST a thought) and S5 (GET the caller's own thoughts), each
-- request with the token of one of the users in BENCH_TOKENS, in turn.
package.path = package.path .. ";" .. os.getenv("BENCH_LUA") .. "/?.lua"
require "common"

local tokens = read_lines(os.getenv("BENCH_TOKENS"))
local method = os.getenv("BENCH_METHOD") or "GET"
local i = 0

request = function()
    if i == 0 then
        i = math.random(1, #tokens)
    end
    i = i % #tokens + 1
    local headers = {["Authorization"] = tokens[i]}
    if method == "POST" then
        headers["Content-Type"] = "application/json"
        return wrk.format("POST", "/api/me/thoughts/", headers,
                          '{"text": "A benchmark thought number ' ..
                          math.random(1, 1000000) .. '"}')
    end
    return wrk.format("GET", "/api/me/thoughts/", headers)
end
