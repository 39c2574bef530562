-- wrk script: the Prometheus Pushgateway side of the comparison. Each request POSTs SAMPLES samples (text format)
-- to /metrics/job/bench/instance/<n>, cycling over 64 instances; every non-2xx is a failure.
--   wrk -t1 -c32 -d10s -s Benchmarks/wrk/pushgateway.lua http://127.0.0.1:9091 -- SAMPLES
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

function init(args)
  local samples = tonumber(args[1] or "1")
  requests = {}
  for r = 1, 64 do
    local lines = {}
    for i = 1, samples do
      lines[i] = string.format('dedup_bench_events_total{operation="op%d",outcome="miss"} %d\n', i, r * i)
    end
    requests[r] = wrk.format("POST", string.format("/metrics/job/bench/instance/i%d", r),
      { ["Content-Type"] = "text/plain; version=0.0.4" }, table.concat(lines))
  end
  itemsPerRequest = samples
  itemUnit = "samples"
end
