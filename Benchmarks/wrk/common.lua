-- Shared by ingest.lua and pushgateway.lua: cycles over a pool of pre-formatted requests (global `requests`), counts
-- answers that are not `okStatus` (or any 2xx when okStatus is nil) and prints one summary line with the rates.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function request()
  nextRequest = (nextRequest % #requests) + 1
  return requests[nextRequest]
end

function response(status, headers, body)
  local ok = okStatus and status == okStatus or (not okStatus and status >= 200 and status <= 299)
  if not ok then failures = failures + 1 end
end

function done(summary, latency, requests)
  local failed = 0
  local perRequest = 1
  local unit = "items"
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("failures")
    perRequest = thread:get("itemsPerRequest")
    unit = thread:get("itemUnit")
  end
  local seconds = summary.duration / 1e6
  io.write(string.format("requests/s %.0f, %s/s %.0f, failures %d, p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms\n",
    summary.requests / seconds, unit, summary.requests * perRequest / seconds, failed,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000))
end

nextRequest = 0
failures = 0
