-- wrk script: POST /v1/triage with many distinct real tickets (one JSON body per line of
-- TRIAGE_TICKETS, made by benches/load/make-tickets.py), each thread starting at its own offset.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("TRIAGE_KEY") or "")
local bodies = {}
for line in io.lines(os.getenv("TRIAGE_TICKETS") or "/tmp/perf/tickets.jsonl") do
  bodies[#bodies + 1] = line
end
local thread_count = 0
local i = 0
setup = function(thread)
  thread_count = thread_count + 1
  thread:set("offset", thread_count * 997)
end
init = function()
  i = offset or 0
end
request = function()
  i = i + 1
  return wrk.format(nil, "/v1/triage", nil, bodies[(i % #bodies) + 1])
end
local non2xx = 0
response = function(status)
  if status ~= 200 then non2xx = non2xx + 1 end
end
