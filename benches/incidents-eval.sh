#!/usr/bin/env bash
# Major-incident detection (issue 14) replayed offline: 20 seeds of a 14-day desk (4 tenants x
# 150 tickets a weekday, 7 days of warm-up) with 10 surges each, from the shared data sets
# (background: Endava topics + ATA train; surges: StackFAQ paraphrases); figures in
# benches/README.md.
#   benches/incidents-eval.sh [path/to/triage] [more flags for `triage eval incidents`]
#   SWEEP=1 benches/incidents-eval.sh     # also the parameter sweep of benches/README.md
#   SPLIT=dev benches/incidents-eval.sh    # the held-out check: background from the dev sets
#                                          # (the parameters were chosen on train)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
triage=${1:-${CARGO_TARGET_DIR:-$here/../target}/release/triage}
shift || true
data=${DATASETS:-$here/../../shared/datasets}
if [ ! -d "$data/stackfaq" ]; then
  echo "skipped: $data (the shared data sets) is absent" >&2
  exit 0
fi
split=${SPLIT:-train}
case "$split" in train|dev) ;; *) echo "SPLIT is train or dev, not $split" >&2; exit 2 ;; esac
echo "background: Endava topics and ATA, $split sets"
run() {
  "$triage" eval incidents --seeds 20 \
    --background "$data/endava-topics/$split.csv=text" \
    --background "$data/ata-assignment-groups/$split.csv=short_description,description" \
    --surge-queries "$data/stackfaq/queries.jsonl" "$@"
}
echo "== defaults (similarity 0.4, min_tickets 4, max_p_value 1e-4, quiet_hours 4: chosen with the sweep below)"
run "$@"
echo "== the first defaults, for comparison: similarity 0.25, min_tickets 5, max_p_value 1e-3, quiet_hours 24"
run --similarity 0.25 --min-tickets 5 --max-p-value 0.001 --quiet-hours 24 "$@"
[ "${SWEEP:-0}" = 1 ] || exit 0
for sim in 0.2 0.25 0.3 0.35 0.4 0.45 0.5; do
  for min in 4 5; do
    for p in 0.001 0.0001; do
      for quiet in 24 4; do
        echo "== sweep: similarity $sim, min_tickets $min, max_p_value $p, quiet_hours $quiet"
        run --similarity "$sim" --min-tickets "$min" --max-p-value "$p" --quiet-hours "$quiet" "$@" | sed -n '5,13p'
      done
    done
  done
done
