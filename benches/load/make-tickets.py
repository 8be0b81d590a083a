#!/usr/bin/env python3
"""Request bodies for the load test: one JSON body per line, many distinct real tickets.

  benches/load/make-tickets.py [OUT] [TENANT]   # default /tmp/perf/tickets.jsonl, northmoor

Reads the public dev sets (never the training rows the load-test data directory holds):
endava-topics dev (7,654 tickets) and ata-assignment-groups dev (1,360, title + description).
Only the standard library; ../shared/datasets by default (TRIAGE_SHARED_DATASETS overrides).
"""
import csv, json, os, sys

out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/perf/tickets.jsonl"
tenant = sys.argv[2] if len(sys.argv) > 2 else "northmoor"
root = os.environ.get("TRIAGE_SHARED_DATASETS", os.path.join(os.path.dirname(__file__), "../../../shared/datasets"))
bodies = []
with open(os.path.join(root, "endava-topics/dev.csv"), newline="") as f:
    for row in csv.DictReader(f):
        words = row["text"].split()
        if words:
            bodies.append({"title": " ".join(words[:8]), "description": " ".join(words[:300]), "tenant": tenant})
with open(os.path.join(root, "ata-assignment-groups/dev.csv"), newline="") as f:
    for row in csv.DictReader(f):
        title, desc = (row.get("short_description") or "").strip(), (row.get("description") or "").strip()
        if title or desc:
            bodies.append({"title": title[:500] or desc[:80], "description": desc[:20000], "tenant": tenant})
os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
with open(out, "w") as f:
    for b in bodies:
        f.write(json.dumps(b, ensure_ascii=False) + "\n")
print(f"{len(bodies)} distinct tickets written to {out}")
