#!/usr/bin/env bash
# Load test of POST /v1/triage against the release binary on loopback with wrk (Debian package).
#   benches/load/run.sh DATA_DIR   # a data dir with resolved tickets imported (see benches/README.md)
# Prints throughput and latency percentiles at 1, 16 and 64 connections, and the peak RSS.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/triage-target}"
data=${1:?usage: benches/load/run.sh DATA_DIR}
duration=${DURATION:-10s}
port=${PORT:-18099}
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 1; }
cargo build --quiet --release -p triage-cli
# the load generator is one key: lift the per-key rate limit for the measurement
TRIAGE__LIMITS__REQUESTS_PER_SECOND=1000000 TRIAGE__LIMITS__BURST=1000000 TRIAGE__LOG__LEVEL=warn "$CARGO_TARGET_DIR/release/triage" serve --port "$port" --data-dir "$data" & pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
# ready, and the in-memory similar-ticket scorer loaded (steady state, not the start-up window)
until curl -fs "http://127.0.0.1:$port/readyz" 2>/dev/null | grep -q '"similar_tickets":"ready"'; do sleep 0.05; done
echo "ready: $(curl -s http://127.0.0.1:$port/readyz)"
export TRIAGE_KEY=$(cat "$data/operator.key")
for c in 1 16 64; do
  threads=$(( c < 2 ? 1 : 2 ))
  echo "== $c connections, $duration"
  wrk -t"$threads" -c"$c" -d"$duration" --latency -s benches/load/triage.lua "http://127.0.0.1:$port" | grep -E "Requests/sec|Latency|50%|90%|99%|Non-2xx|Socket errors|requests in"
done
echo "peak RSS: $(grep VmHWM /proc/$pid/status)"
