#!/usr/bin/env bash
# Learned phrasing (issue 13) on StackFAQ: the public queries split in two halves by line
# (odd lines -> A, even lines -> B, so every article has queries on both sides), each half
# learned as history while the other is the test, both ways; figures in benches/README.md.
#   benches/learned-phrasing.sh [path/to/triage]   (default: target/release/triage)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
triage=${1:-${CARGO_TARGET_DIR:-$here/../target}/release/triage}
data=${STACKFAQ:-$here/../../shared/datasets/stackfaq}
out=${TMPDIR:-/tmp}/stackfaq-split
mkdir -p "$out"
awk 'NR % 2 == 1' "$data/queries.jsonl" > "$out/a.jsonl"
awk 'NR % 2 == 0' "$data/queries.jsonl" > "$out/b.jsonl"
echo "== without history, all queries"
"$triage" eval retrieval --articles "$data/articles.jsonl" --queries "$data/queries.jsonl"
echo "== A as history, B as test"
"$triage" eval retrieval --articles "$data/articles.jsonl" --history "$out/a.jsonl" --queries "$out/b.jsonl"
echo "== B as history, A as test"
"$triage" eval retrieval --articles "$data/articles.jsonl" --history "$out/b.jsonl" --queries "$out/a.jsonl"
