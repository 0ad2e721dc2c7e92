-- wrk script for benches/load.sh: one request shape from the environment, statuses counted
-- per class, and one machine-readable RESULT line at the end.
--   METHOD (GET), BODY (none), TOKEN (bearer, none), PACE_MS (delay between requests, 0),
--   VARY_DRUGS (1: BODY is {"drugs": [...]} and each request sends another list: the names
--   rotated and their first letters' case varied by the request's number, 10,240 lists for
--   ten names, so that answers kept from earlier checks rarely serve)
local method = os.getenv("METHOD") or "GET"
local body = os.getenv("BODY")
local token = os.getenv("TOKEN")
local pace = tonumber(os.getenv("PACE_MS") or "0")

local threads = {}

function setup(thread)
    table.insert(threads, thread)
    -- Threads start far apart in the sequence of lists.
    thread:set("first", #threads * 5000)
end

if os.getenv("VARY_DRUGS") == "1" then
    local names = {}
    for name in body:gmatch('"([^"]+)"') do
        if name ~= "drugs" then names[#names + 1] = name end
    end
    local sent = nil
    function request()
        sent = (sent or first or 0) + 1
        local rotation, pattern = sent % #names, math.floor(sent / #names) % 1024
        local parts = {}
        for i = 0, #names - 1 do
            local name = names[(i + rotation) % #names + 1]
            if math.floor(pattern / 2 ^ i) % 2 == 1 then name = name:sub(1, 1):upper() .. name:sub(2) end
            parts[#parts + 1] = '"' .. name .. '"'
        end
        return wrk.format(nil, nil, nil, '{"drugs":[' .. table.concat(parts, ",") .. ']}')
    end
end

function init(args)
    counts = { s2 = 0, s4 = 0, s429 = 0, s500 = 0, s503 = 0, other = 0 }
    wrk.method = method
    if body and body ~= "" then
        wrk.body = body
        wrk.headers["Content-Type"] = "application/json"
    end
    if token and token ~= "" then
        wrk.headers["Authorization"] = "Bearer " .. token
    end
end

function delay()
    return pace
end

function response(status, headers, resp_body)
    if status >= 200 and status < 300 then counts.s2 = counts.s2 + 1
    elseif status == 429 then counts.s429 = counts.s429 + 1
    elseif status >= 400 and status < 500 then counts.s4 = counts.s4 + 1
    elseif status == 500 then counts.s500 = counts.s500 + 1
    elseif status == 503 then counts.s503 = counts.s503 + 1
    else counts.other = counts.other + 1 end
end

function done(summary, latency, requests)
    local total = { s2 = 0, s4 = 0, s429 = 0, s500 = 0, s503 = 0, other = 0 }
    for _, t in ipairs(threads) do
        local c = t:get("counts")
        for k, v in pairs(c) do total[k] = total[k] + v end
    end
    local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
    io.write(string.format(
        "RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f ok=%d c4xx=%d c429=%d c500=%d c503=%d other=%d socket_errors=%d\n",
        summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        total.s2, total.s4, total.s429, total.s500, total.s503, total.other, errors))
end
