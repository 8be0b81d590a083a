#!/usr/bin/env bash
# Learned phrasing (issue 13) on StackFAQ: the public queries split in two halves by line
# (odd lines -> A, even lines -> B, so every article has queries on both sides), each half
# learned as history while the other is the test, both ways; figures in benches/README.md.
#   benches/learned-phrasing.sh [path/to/triage]   (default: target/release/triage)
source "$(dirname "$0")/stackfaq-split.sh"
echo "== without history, all queries"
"$triage" eval retrieval --articles "$data/articles.jsonl" --queries "$data/queries.jsonl"
echo "== A as history, B as test"
"$triage" eval retrieval --articles "$data/articles.jsonl" --history "$out/a.jsonl" --queries "$out/b.jsonl"
echo "== B as history, A as test"
"$triage" eval retrieval --articles "$data/articles.jsonl" --history "$out/b.jsonl" --queries "$out/a.jsonl"
