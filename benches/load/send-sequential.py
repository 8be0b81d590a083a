# Sends N distinct tickets one after another on one keep-alive connection (for instruction
# counts under callgrind): send-sequential.py PORT KEY N OFFSET
import sys, http.client
port, key, n, off = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
bodies = open("/tmp/perf/tickets.jsonl").read().splitlines()
c = http.client.HTTPConnection("127.0.0.1", port)
bad = 0
for i in range(n):
    c.request("POST", "/v1/triage", bodies[(off + i) % len(bodies)], {"Content-Type": "application/json", "Authorization": "Bearer " + key})
    r = c.getresponse(); r.read()
    if r.status != 200: bad += 1
print("sent", n, "non-200", bad)
