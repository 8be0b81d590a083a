#!/usr/bin/env bash
# Training time and peak memory as training tickets grow: the first N rows of Endava topics
# train.csv (subsets written to a temp folder, never to the repository), `triage train` with its
# defaults, one head. Prints a Markdown table and writes benches/training-growth.svg.
#   benches/training-growth.sh [SIZES]     # default "5000 10000 20000 30615"
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/triage-target}"
src=../shared/datasets/endava-topics/train.csv
[ -f "$src" ] || { echo "needs $src (the shared data sets beside the repository)" >&2; exit 1; }
sizes=${1:-"5000 10000 20000 30615"}
cargo build --quiet --release -p triage-cli
bin="$CARGO_TARGET_DIR/release/triage"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rows="$tmp/rows.tsv"
for n in $sizes; do
  head -n $((n + 1)) "$src" > "$tmp/train-$n.csv"
  echo "training on $n tickets" >&2
  /usr/bin/time -f "%e %M" -o "$tmp/time-$n" "$bin" train --train "$tmp/train-$n.csv" --text text \
    --label topic_group=topic_group --out "$tmp/m-$n" > "$tmp/out-$n" 2>&1
  features=$(python3 -c "import json,sys; print(json.load(open('$tmp/m-$n/manifest.json'))['features']['n_features'])" 2>/dev/null || echo "?")
  read -r secs kb < "$tmp/time-$n"
  echo -e "$n\t$features\t$secs\t$((kb / 1024))" >> "$rows"
done
echo "| training tickets | features | training time (whole command) | peak RSS |"
echo "|---|---|---|---|"
while IFS=$'\t' read -r n f s m; do echo "| $n | $f | $s s | $m MB |"; done < "$rows"
python3 - "$rows" benches/training-growth.svg <<'PY'
import sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l]
n = [int(r[0]) for r in rows]; t = [float(r[2]) for r in rows]; m = [int(r[3]) for r in rows]
W, H, P = 420, 260, 48
def panel(x0, title, ys, unit, color):
    top = max(ys) * 1.15 or 1
    px = lambda v: x0 + P + v / max(n) * (W - P - 16)
    py = lambda v: H - P + 8 - v / top * (H - P - 28)
    out = [f'<text x="{x0 + P}" y="16" font-size="13" font-weight="bold">{title}</text>',
           f'<line x1="{x0 + P}" y1="{H - P + 8}" x2="{x0 + W - 16}" y2="{H - P + 8}" stroke="#555"/>',
           f'<line x1="{x0 + P}" y1="{H - P + 8}" x2="{x0 + P}" y2="24" stroke="#555"/>']
    for f in (0, .25, .5, .75, 1):
        v = top * f
        out.append(f'<text x="{x0 + P - 4}" y="{py(v) + 3:.1f}" font-size="10" text-anchor="end">{v:.1f}</text>')
    for v in n:
        out.append(f'<text x="{px(v):.1f}" y="{H - P + 22}" font-size="10" text-anchor="middle">{v / 1000:.0f}k</text>')
    out.append(f'<text x="{x0 + W / 2}" y="{H - 8}" font-size="10" text-anchor="middle">training tickets ({unit})</text>')
    out.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (color, " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in zip(n, ys))))
    out += [f'<circle cx="{px(a):.1f}" cy="{py(b):.1f}" r="3" fill="{color}"/>' for a, b in zip(n, ys)]
    return "".join(out)
svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {2 * W} {H}" width="{2 * W}" height="{H}" font-family="sans-serif">'
       f'<rect width="100%" height="100%" fill="#fff"/>' + panel(0, "Training time (one head, calibration included)", t, "s", "#1f5fbf")
       + panel(W, "Peak RSS while training", m, "MB", "#b45309") + "</svg>\n")
open(sys.argv[2], "w").write(svg)
print(f"plot written to {sys.argv[2]}", file=sys.stderr)
PY
