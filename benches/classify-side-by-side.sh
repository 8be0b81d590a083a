#!/usr/bin/env bash
# Ours and the scikit-learn reference on the same splits, one after the other, in one run.
# Needs ../shared/datasets and `pip install scikit-learn` for the reference half.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/triage-target}"
D="${TRIAGE_SHARED_DATASETS:-../shared/datasets}"
cargo build --quiet --release -p triage-cli
bin="$CARGO_TARGET_DIR/release/triage"
out="${TMPDIR:-/tmp}/triage-side-by-side"; mkdir -p "$out"

ours() { # set text heads...
  local set=$1 text=$2; shift 2
  local labels=(); for h in "$@"; do labels+=(--label "$h=$h"); done
  "$bin" eval classify --train "$D/$set/train.csv" --test "$D/$set/dev.csv" --text "$text" "${labels[@]}" \
    --id ticket_id --json --report "$out/$set.md" 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)
for h, m in r["heads"].items():
    b = r["baselines"].get(h, {})
    print(json.dumps({"set": sys.argv[1], "head": h, "system": "triage", "accuracy": round(m["accuracy"], 4), "macro_f1": round(m["macro_f1"], 4),
        "ece": round(m["ece"], 4), "auto_coverage": round(m["auto_coverage"], 4), "auto_precision": round(m["auto_precision"], 4),
        "fit_seconds_incl_calibration": round(r["train_seconds"], 2), "one_ticket_us_p50": round(r["predict_p50_micros"], 1),
        "nb_accuracy": round(b.get("accuracy", 0), 4), "nb_macro_f1": round(b.get("macro_f1", 0), 4)}))' "$set"
}
reference() {
  if python3 -c 'import sklearn' 2>/dev/null; then python3 benches/reference/sklearn_classify.py "$D/$1" "$2" "$3"; else echo '{"reference": "skipped: pip install scikit-learn"}'; fi
}

ours endava-topics text topic_group;                         reference endava-topics text topic_group
ours ata-assignment-groups short_description,description assignment_group; reference ata-assignment-groups short_description,description assignment_group
ours endava-original-labels title,body category business_service urgency; reference endava-original-labels title,body category,business_service,urgency
echo "markdown reports in $out"
