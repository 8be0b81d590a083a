#!/usr/bin/env bash
# Cold start of `triage serve` on the bundled knowledge base: milliseconds from exec to the first
# 200 from /readyz, with an empty data directory (index built) and with an existing index.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/triage-target}"
cargo build --quiet --release -p triage-cli
bin="$CARGO_TARGET_DIR/release/triage"
data=$(mktemp -d)
port=${PORT:-18089}
trap 'rm -rf "$data"' EXIT

measure() {
  local start end pid
  start=$(date +%s%N)
  RUST_LOG=warn "$bin" serve --port "$port" --data-dir "$data" & pid=$!
  until curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do sleep 0.005; done
  end=$(date +%s%N)
  kill -TERM "$pid"; wait "$pid" || true
  echo $(( (end - start) / 1000000 ))
}

echo "cold start, empty data dir (builds the index): $(measure) ms"
for i in 1 2 3; do echo "cold start, existing index (run $i): $(measure) ms"; done
