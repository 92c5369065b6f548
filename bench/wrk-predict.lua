-- wrk load script: POST /api/v1/predict with one 300-beat recording (the README's API figures).
--   wrk -t2 -c16 -d30s --latency -s bench/wrk-predict.lua http://127.0.0.1:8080/api/v1/predict
-- With --auth-token-file on the server: CARDIOSPIKE_TOKEN=<a token of that file> wrk ...
-- Prints, after wrk's own summary, how many answers had each status (503 = over --max-concurrent-requests).
-- A connection answered 503 waits its Retry-After before its next request, as a well-behaved client does
-- (CARDIOSPIKE_IGNORE_RETRY_AFTER=1: it asks again at once, as a flood would).

-- Sinus rhythm around 800 ms with breathing-like variation, a premature beat and its pause every 50 beats:
-- deterministic, so every run sends the same body.
local beats = {}
for i = 0, 299 do
  local rr = 800 + 40 * math.sin(i / 4.0)
  if i % 50 == 25 then rr = 430 elseif i % 50 == 26 then rr = 1210 end
  beats[#beats + 1] = string.format("%.0f", rr)
end

wrk.method = "POST"
wrk.body = '{"study": "wrk", "sequence": [' .. table.concat(beats, ",") .. ']}'
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("CARDIOSPIKE_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

local honour_retry_after = os.getenv("CARDIOSPIKE_IGNORE_RETRY_AFTER") ~= "1"
local wait_ms = 0

function init(args)
  statuses = {}
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 503 and honour_retry_after then
    wait_ms = 1000 * (tonumber(headers["Retry-After"]) or 1)
  end
end

-- wrk asks before each request of a connection, right after that connection's previous answer
function delay()
  local ms = wait_ms
  wait_ms = 0
  return ms
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("statuses")) do
      total[status] = (total[status] or 0) + n
    end
  end
  local line = {}
  for status, n in pairs(total) do
    line[#line + 1] = status .. ": " .. n
  end
  table.sort(line)
  io.write(string.format("req/s %.1f  p50 %.1f ms  p99 %.1f ms  statuses {%s}  socket errors %d connect, %d read, %d write, %d timeout\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    table.concat(line, ", "), summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout))
end
