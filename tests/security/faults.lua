-- wrk script of tests/security/test_faults.py: cycles over the demo's pages and counts the
-- answers by status (wrk itself only counts "non-2xx or 3xx"), then prints one JSON line:
--   FAULTS-JSON {"requests": N, "statuses": {"200": N, ...}, "errors_5xx": N,
--                "max_latency_us": N, "p99_latency_us": N, "socket_errors": {...}}
local paths = {}
for id = 1, 20 do paths[#paths + 1] = "/products/" .. id end
for page = 1, 10 do paths[#paths + 1] = "/news?page=" .. page end
paths[#paths + 1] = "/"

local threads = {}

function setup(thread)
  thread:set("offset", #threads * 7)
  threads[#threads + 1] = thread
end

function init(args)
  counter = offset or 0
  statuses = {}
  errors_5xx = 0
end

function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 500 then
    errors_5xx = errors_5xx + 1
  end
end

function done(summary, latency, requests)
  local total = {}
  local fives = 0
  for _, thread in ipairs(threads) do
    fives = fives + thread:get("errors_5xx")
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(total) do
    parts[#parts + 1] = string.format('"%d": %d', status, count)
  end
  local e = summary.errors
  io.write(string.format(
    'FAULTS-JSON {"requests": %d, "statuses": {%s}, "errors_5xx": %d, "max_latency_us": %d,'
      .. ' "p99_latency_us": %d, "socket_errors": {"connect": %d, "read": %d, "write": %d,'
      .. ' "timeout": %d}}\n',
    summary.requests, table.concat(parts, ", "), fives, latency.max,
    latency:percentile(99), e.connect, e.read, e.write, e.timeout))
end
