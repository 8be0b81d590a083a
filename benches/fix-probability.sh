#!/usr/bin/env bash
# Fix probability and no_good_fix (issue 13) on StackFAQ, cross-fitted: the fix-probability
# model is fitted on one half of the public queries (A: odd lines, B: even lines; the other
# half learned as history) and scores the other half, both ways. A is the fit the shipped
# default (triage_engine::fix::FixModel::DEFAULT) comes from. Prints a Markdown table; figures
# in benches/README.md.
#   benches/fix-probability.sh [path/to/triage]   (default: target/release/triage)
source "$(dirname "$0")/stackfaq-split.sh"
drop=(--drop-articles 13 --seed 1)
run() { "$triage" eval retrieval --articles "$data/articles.jsonl" --json "$@"; }
echo "fitting on A (B as history) and on B (A as history), 13 articles dropped ..." >&2
run --queries "$out/a.jsonl" --history "$out/b.jsonl" "${drop[@]}" --fit-fix |
    python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["fitted_fix_model"]))' > "$out/fit-a.json"
run --queries "$out/b.jsonl" --history "$out/a.jsonl" "${drop[@]}" --fit-fix |
    python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["fitted_fix_model"]))' > "$out/fit-b.json"
: > "$out/calibration.jsonl"
echo "| test half (model fitted on) | articles | history | P@1 | Hit@3 | top p (mean) | ECE | no_good_fix flagged / P / R / F1 |"
echo "|---|---|---|---|---|---|---|---|"
for test in b a; do
    other=$([ "$test" = b ] && echo a || echo b)
    for dropped in 13 0; do
        run --queries "$out/$test.jsonl" --history "$out/$other.jsonl" --drop-articles "$dropped" --seed 1 \
            --fix-model "$out/fit-$other.json" | CAL="$out/calibration.jsonl" TEST=$test OTHER=$other DROPPED=$dropped python3 -c '
import json, os, sys
r = json.load(sys.stdin)
for name, x in (("without", r), ("with", r["with_history"])):
    g = x["no_good_fix"]
    ngf = "%d / %.2f / %.2f / %.2f" % (g["flagged"], g["precision"], g["recall"], g["f1"]) if g["dropped_articles"] else "%d flagged, no positives" % g["flagged"]
    print("| %s (%s) | %s | %s | %.3f | %.3f | %.3f | %.3f | %s |" % (os.environ["TEST"].upper(), os.environ["OTHER"].upper(),
          "125 - %s" % os.environ["DROPPED"] if os.environ["DROPPED"] != "0" else "all 125", name, x["p_at_1"], x["hit_at_3"],
          x["top_fix_probability_mean"], x["ece"], ngf))
    with open(os.environ["CAL"], "a") as f:
        f.write(json.dumps({"dropped": os.environ["DROPPED"], "history": name, "bins": x["calibration"], "ngf": g}) + "\n")'
    done
done
# both halves pooled (625 queries, each scored by the model fitted on the other half): the
# reliability tables summed bin by bin, and no_good_fix counted over both
python3 - "$out/calibration.jsonl" <<'PY'
import collections, json, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    runs[(r["dropped"], r["history"])].append(r)
print()
print("| both halves pooled | articles | history | top p (mean) | right | ECE | no_good_fix flagged / P / R / F1 |")
print("|---|---|---|---|---|---|---|")
for (dropped, history), rs in runs.items():
    bins = collections.defaultdict(lambda: [0, 0.0, 0.0])
    for r in rs:
        for b in r["bins"]:
            t = bins[b["lower"]]
            t[0] += b["count"]; t[1] += b["count"] * b["mean_probability"]; t[2] += b["count"] * b["accuracy"]
    n = sum(t[0] for t in bins.values())
    ece = sum(abs(t[2] - t[1]) for t in bins.values()) / n
    flagged = sum(r["ngf"]["flagged"] for r in rs)
    tp = sum(round(r["ngf"]["precision"] * r["ngf"]["flagged"]) for r in rs)
    pos = sum(r["ngf"]["queries_without_article"] for r in rs)
    p = tp / flagged if flagged else 0.0
    rc = tp / pos if pos else 0.0
    f1 = 2 * p * rc / (p + rc) if p + rc else 0.0
    ngf = "%d / %.2f / %.2f / %.2f" % (flagged, p, rc, f1) if pos else "%d flagged, no positives" % flagged
    print("| A + B (%d) | %s | %s | %.3f | %.3f | %.3f | %s |" % (n, "125 - " + dropped if dropped != "0" else "all 125", history,
          sum(t[1] for t in bins.values()) / n, sum(t[2] for t in bins.values()) / n, ece, ngf))
PY
