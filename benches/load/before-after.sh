#!/usr/bin/env bash
# Before/after load test of two release binaries on the same machine, interleaved (A B A B ...)
# so both see the same background noise; each run starts from a fresh copy of its data directory.
#   benches/load/before-after.sh BIN_A DATA_A DIR_A BIN_B DATA_B DIR_B
# DIR_x: the folder each binary runs in (its knowledge-base/ and models/starter/ are found there).
# DATA_x: made by `BIN=BIN_x benches/load/prepare-data.sh DATA_x`. Requests: many distinct real
# tickets (benches/load/make-tickets.py -> TRIAGE_TICKETS, default /tmp/perf/tickets.jsonl).
# Env: ROUNDS (3), DURATION (10s), CONNS ("64 1"), PORT (18097); ENV_A / ENV_B: extra settings
# for one side, e.g. ENV_B="TRIAGE__STORE__URL=postgres://..." (one binary on two stores; a
# PostgreSQL database is not copied per run, so its triage records accumulate across rounds).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rounds=${ROUNDS:-3}; duration=${DURATION:-10s}; conns=${CONNS:-"64 1"}; port=${PORT:-18097}
export TRIAGE_TICKETS=${TRIAGE_TICKETS:-/tmp/perf/tickets.jsonl}
[ -f "$TRIAGE_TICKETS" ] || python3 "$here/make-tickets.py" "$TRIAGE_TICKETS"
out=$(mktemp -d /tmp/before-after.XXXXXX)
pid=""; trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null || true' EXIT

# CPU time (user + system, in clock ticks) the server used: less sensitive than throughput to
# other work on a shared machine, so the two binaries are compared on CPU per request too.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

run() { # name bin data dir round
  local work; work=$(mktemp -d /tmp/ba-data.XXXXXX); cp -a "$3/." "$work/"
  local extra; if [ "$1" = A ]; then extra=${ENV_A:-}; else extra=${ENV_B:-}; fi
  (cd "$4" && TRIAGE__LIMITS__REQUESTS_PER_SECOND=1000000 TRIAGE__LIMITS__BURST=1000000 TRIAGE__LOG__LEVEL=warn \
    exec env $extra "$2" serve --port "$port" --data-dir "$work") > "$out/$1-$5.log" 2>&1 & pid=$!
  until curl -fs "http://127.0.0.1:$port/readyz" 2>/dev/null | grep -q '"similar_tickets":"ready"'; do
    kill -0 $pid 2>/dev/null || { echo "$1 exited: $(tail -3 "$out/$1-$5.log")" >&2; exit 1; }; sleep 0.1
  done
  export TRIAGE_KEY; TRIAGE_KEY=$(cat "$work/operator.key")
  for c in $conns; do
    local before; before=$(cpu_ticks $pid)
    wrk -t$(( c < 2 ? 1 : 2 )) -c"$c" -d"$duration" --latency -s "$here/distinct.lua" "http://127.0.0.1:$port" > "$out/$1-$5-c$c.txt"
    echo "cpu_ticks $(( $(cpu_ticks $pid) - before ))" >> "$out/$1-$5-c$c.txt"
    echo "$1 round $5, $c conn: $(grep Requests/sec "$out/$1-$5-c$c.txt" | awk '{print $2}') req/s, p99 $(grep ' 99%' "$out/$1-$5-c$c.txt" | awk '{print $2}'), non-2xx: $(grep Non-2xx "$out/$1-$5-c$c.txt" | awk '{print $NF}')"
  done
  kill $pid; wait $pid 2>/dev/null || true; pid=""; rm -rf "$work"
}
for r in $(seq "$rounds"); do
  run A "$1" "$2" "$3" "$r"
  run B "$4" "$5" "$6" "$r"
done
python3 - "$out" "$rounds" "$conns" "$hz" <<'PY'
import re, sys, statistics as st
out, rounds, conns, hz = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), int(sys.argv[4])
def ms(v):
    n, u = re.match(r"([\d.]+)(us|ms|s)", v).groups(); return float(n) * {"us": 1e-3, "ms": 1, "s": 1e3}[u]
def read(name, r, c):
    t = open(f"{out}/{name}-{r}-c{c}.txt").read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    p50 = ms(re.search(r"\s50%\s+(\S+)", t).group(1)); p99 = ms(re.search(r"\s99%\s+(\S+)", t).group(1))
    requests = int(re.search(r"(\d+) requests in", t).group(1))
    cpu_us = int(re.search(r"cpu_ticks (\d+)", t).group(1)) / hz * 1e6 / requests
    return rps, p50, p99, cpu_us
print("| conns | A req/s (median) | B req/s (median) | B/A | A p50 / p99 ms | B p50 / p99 ms | A / B server CPU per request (median) |")
print("|---|---|---|---|---|---|---|")
for c in conns:
    a = [read("A", r, c) for r in range(1, rounds + 1)]; b = [read("B", r, c) for r in range(1, rounds + 1)]
    med = lambda xs, i: st.median(x[i] for x in xs)
    print(f"| {c} | {med(a,0):,.0f} | {med(b,0):,.0f} | {med(b,0)/med(a,0):.3f} | {med(a,1):.2f} / {med(a,2):.2f} | {med(b,1):.2f} / {med(b,2):.2f} | {med(a,3):.0f} / {med(b,3):.0f} us |")
print(f"(runs in {out})")
PY
