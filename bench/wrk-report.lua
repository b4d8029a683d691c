-- wrk's script for bench/gateway.ts. Arguments after `--`: the file of request headers
-- ("Name: value" lines; they hold tokens, which never go in argv) and each connection's mean
-- pause in ms between an answer and its next request (0: none, saturation; else uniform
-- 0..2x, as bench/load.ts pauses). The summary is printed as one JSON line at the end.
function init(args)
  for line in io.lines(args[1]) do
    local name, value = line:match("^([^:]+):%s*(.*)$")
    if name then wrk.headers[name] = value end
  end
  local think = tonumber(args[2]) or 0
  -- wrk looks for delay() after init: defined only when there is a pause to take.
  if think > 0 then
    delay = function() return math.random(0, 2 * think) end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationUs":%d,"non2xx":%d,"socketErrors":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
