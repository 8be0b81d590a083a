#!/usr/bin/env bash
# Side-by-side load test: our release binary, then the Python peer (benches/peer), same machine,
# same wrk script (benches/load/triage.lua, tenant northmoor), one after the other.
#   benches/load/side-by-side.sh [DATA_DIR]     # DATA_DIR: ours, with the 49k tickets imported
# Env: DURATION (10s), PORT (18099, ours), PEER_PORT (18100), BIN (/tmp/triage-bin, a copy of the
# release binary so a rebuild cannot swap it mid-run), PEER_WORKERS (2).
# Needs: wrk, python3 with benches/peer/requirements.txt installed. Does not build anything.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
data=${1:-${DATA_DIR:-/tmp/perf/data}}
duration=${DURATION:-10s}
port=${PORT:-18099}
peer_port=${PEER_PORT:-18100}
bin=${BIN:-/tmp/triage-bin}
workers=${PEER_WORKERS:-2}
out=$(mktemp -d /tmp/side-by-side.XXXXXX)
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 1; }
[ -x "$bin" ] || cp "${CARGO_TARGET_DIR:-$HOME/.cache/triage-target}/release/triage" "$bin"
[ -f "$data/operator.key" ] || { echo "no $data/operator.key: import the tickets first (benches/README.md)" >&2; exit 1; }
export TRIAGE_KEY=$(cat "$data/operator.key")

pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

wait_ready() { # url, seconds
  local t=0
  until curl -fs "$1" >/dev/null 2>&1; do
    sleep 0.1; t=$((t + 1))
    kill -0 "$pid" 2>/dev/null || { echo "server exited before ready" >&2; exit 1; }
    [ $t -lt $(($2 * 10)) ] || { echo "not ready after $2 s: $1" >&2; exit 1; }
  done
}

run_wrk() { # name, url
  for c in 1 16 64; do
    threads=$(( c < 2 ? 1 : 2 ))
    echo "== $1, $c connections, $duration"
    wrk -t"$threads" -c"$c" -d"$duration" --latency -s benches/load/triage.lua "$2" | tee "$out/$1-$c.txt" \
      | grep -E "Requests/sec|Latency|50%|99%|Non-2xx|Socket errors|requests in"
  done
}

hwm_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# ---- ours
echo "ours: $bin serve --port $port --data-dir $data"
TRIAGE__LIMITS__REQUESTS_PER_SECOND=1000000 TRIAGE__LIMITS__BURST=1000000 TRIAGE__LOG__LEVEL=warn \
  "$bin" serve --port "$port" --data-dir "$data" > "$out/ours.log" 2>&1 & pid=$!
start=$(date +%s.%N)
wait_ready "http://127.0.0.1:$port/readyz" 60
until curl -fs "http://127.0.0.1:$port/readyz" | grep -q '"similar_tickets":"ready"'; do sleep 0.1; done   # scorer loaded
echo "ours ready in $(python3 -c "import time; print(round(time.time() - $start, 2))") s"
run_wrk ours "http://127.0.0.1:$port"
hwm_kb "$pid" > "$out/ours.rss"
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""

# ---- peer
echo "peer: uvicorn app:app --workers $workers --port $peer_port (benches/peer)"
(cd benches/peer && exec uvicorn app:app --workers "$workers" --port "$peer_port" \
  --log-level warning --no-access-log) > "$out/peer.log" 2>&1 & pid=$!
start=$(date +%s.%N)
wait_ready "http://127.0.0.1:$peer_port/readyz" 900   # 900 s: the first start trains and pickles (~75 s here)
# /readyz answers as soon as one worker is up: wait for every worker
until [ "$(grep -c 'peer: ready' "$out/peer.log")" -ge "$workers" ]; do sleep 0.1; done
echo "peer ready (all $workers workers) in $(python3 -c "import time; print(round(time.time() - $start, 2))") s"
run_wrk peer "http://127.0.0.1:$peer_port"
rss=0; for w in $(pgrep -P "$pid"); do rss=$((rss + $(hwm_kb "$w"))); done
echo "$rss" > "$out/peer.rss"; echo "$(hwm_kb "$pid")" > "$out/peer-parent.rss"
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""

# ---- table
python3 - "$out" <<'EOF'
import re, sys
out = sys.argv[1]
def ms(v):
    n, u = re.match(r"([\d.]+)(us|ms|s|m)", v).groups()
    return float(n) * {"us": 1e-3, "ms": 1, "s": 1e3, "m": 6e4}[u]
def parse(path):
    t = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    p50 = ms(re.search(r"^\s+50%\s+(\S+)", t, re.M).group(1))
    p99 = ms(re.search(r"^\s+99%\s+(\S+)", t, re.M).group(1))
    non2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", t) or [0, 0])[1])
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
    errs = non2xx + (sum(map(int, sock.groups())) if sock else 0)
    return rps, p50, p99, errs
print()
print("| connections | ours req/s | ours p50 | ours p99 | ours errors | peer req/s | peer p50 | peer p99 | peer errors | ours/peer req/s |")
print("|---|---|---|---|---|---|---|---|---|---|")
for c in (1, 16, 64):
    o, p = parse(f"{out}/ours-{c}.txt"), parse(f"{out}/peer-{c}.txt")
    print(f"| {c} | {o[0]:,.0f} | {o[1]:.2f} ms | {o[2]:.2f} ms | {o[3]} | {p[0]:,.0f} | {p[1]:.2f} ms | {p[2]:.2f} ms | {p[3]} | {o[0] / p[0]:.1f}x |")
rss = lambda f: int(open(f"{out}/{f}").read().strip() or 0) / 1024
print()
print(f"peak RSS (VmHWM): ours {rss('ours.rss'):.0f} MB; peer {rss('peer.rss'):.0f} MB (sum of the workers; "
      f"uvicorn parent {rss('peer-parent.rss'):.0f} MB more)")
print(f"raw wrk output and server logs: {out}")
EOF
