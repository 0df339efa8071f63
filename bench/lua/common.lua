-- Shared by every scenario: prints one JSON line of results at the end,
-- which bench/run reads.  Latencies are in microseconds.
function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        '\nBENCH {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
        '"p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
        '"connect": %d, "read": %d, "write": %d, "status": %d, ' ..
        '"timeout": %d}\n',
        summary.requests, summary.duration, summary.bytes,
        latency:percentile(50), latency:percentile(99), latency.max,
        e.connect, e.read, e.write, e.status, e.timeout))
end

-- Lines of a file, for the tokens.
function read_lines(path)
    local lines = {}
    for line in io.lines(path) do
        lines[#lines + 1] = line
    end
    return lines
end

-- wrk runs one Lua state per thread; number them to seed each apart.
local threads = 0
function setup(thread)
    threads = threads + 1
    thread:set("thread_number", threads)
end

function init(args)
    math.randomseed(os.time() * 1000 + (thread_number or 0))
end
