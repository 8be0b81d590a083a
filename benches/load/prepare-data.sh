#!/usr/bin/env bash
# A fresh data directory for the load tests: the public ticket sets imported as resolved tickets
# of four tenants (49,413 tickets), the same data the peer loads. Every load-test run adds a
# triage record per request to the store, so start each comparison from a fresh copy.
#   benches/load/prepare-data.sh [DATA_DIR]      # default /tmp/perf/data (deleted first)
#   BIN=/tmp/triage-base benches/load/prepare-data.sh /tmp/perf/base   # with another binary
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/triage-target}"
data=${1:-/tmp/perf/data}
d=${TRIAGE_SHARED_DATASETS:-../shared/datasets}
[ -d "$d/endava-topics" ] || { echo "needs the shared data sets at $d" >&2; exit 1; }
# BIN: a given binary (e.g. an older release for a before/after comparison); default: build ours
if [ -n "${BIN:-}" ]; then bin=$BIN; else cargo build --quiet --release -p triage-cli; bin="$CARGO_TARGET_DIR/release/triage"; fi
rm -rf "$data"
"$bin" import "$d/endava-topics/train.csv" --text text --label category=topic_group --id ticket_id --tenant northmoor --data-dir "$data"
"$bin" import "$d/endava-topics/dev.csv" --text text --label category=topic_group --id ticket_id --tenant eastbrook --data-dir "$data"
"$bin" import "$d/ata-assignment-groups/train.csv" "$d/ata-assignment-groups/dev.csv" --text short_description,description \
  --label assignment_group=assignment_group --id ticket_id --tenant southvale --data-dir "$data"
"$bin" import "$d/endava-original-labels/train.csv" "$d/endava-original-labels/dev.csv" --text title,body \
  --label category=category --id ticket_id --tenant westwater --data-dir "$data"
# the service writes operator.key at its first start
"$bin" keys list --data-dir "$data" >/dev/null 2>&1 || true
[ -f "$data/operator.key" ] || { "$bin" serve --data-dir "$data" --port 18098 >/dev/null 2>&1 & pid=$!; until [ -f "$data/operator.key" ]; do sleep 0.1; done; kill $pid; wait $pid 2>/dev/null || true; }
echo "data directory ready: $data"
