# Sourced by the StackFAQ benches (learned-phrasing.sh, fix-probability.sh): sets `triage` (the
# binary: $1, else target/release/triage), `data` (the StackFAQ folder, $STACKFAQ or
# ../shared/datasets/stackfaq) and `out` (a scratch folder), and splits the public queries in
# two halves by line: odd lines -> $out/a.jsonl, even lines -> $out/b.jsonl (so every article
# has queries on both sides).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
triage=${1:-${CARGO_TARGET_DIR:-$here/../target}/release/triage}
data=${STACKFAQ:-$here/../../shared/datasets/stackfaq}
out=${TMPDIR:-/tmp}/stackfaq-split
mkdir -p "$out"
awk 'NR % 2 == 1' "$data/queries.jsonl" > "$out/a.jsonl"
awk 'NR % 2 == 0' "$data/queries.jsonl" > "$out/b.jsonl"
