-- wrk script: POST /v1/events with BATCH events per request, spread over SERIES series; every non-202 is a failure.
--   wrk -t1 -c32 -d10s -s Benchmarks/wrk/ingest.lua http://127.0.0.1:9470/v1/events -- BATCH SERIES
-- Bodies are built once per thread (a pool of 64 requests, cycled), so wrk spends its time on I/O.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local outcomes = { "miss", "completed", "hit", "miss", "completed", "in_flight", "miss", "completed" }

function init(args)
  local batch = tonumber(args[1] or "1")
  local series = tonumber(args[2] or "100")
  local headers = { ["Content-Type"] = "application/json" }
  requests = {}
  local event = 0
  for r = 1, 64 do
    local parts = {}
    for i = 1, batch do
      parts[i] = string.format('{"service":"wrk","operation":"op%d","outcome":"%s","key":"k%d"}',
        event % series, outcomes[(event % #outcomes) + 1], event)
      event = event + 1
    end
    local body = batch == 1 and parts[1] or ("[" .. table.concat(parts, ",") .. "]")
    requests[r] = wrk.format("POST", wrk.path, headers, body)
  end
  okStatus = 202
  itemsPerRequest = batch
  itemUnit = "events"
end
