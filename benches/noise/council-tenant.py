#!/usr/bin/env python3
"""A council's resolved tickets as its ticketing system would export them: the Endava topics
dev tickets, 40% of them sent by e-mail with Eastbrook's own footer (a disclaimer and a
campaign banner) under a signature, or the two plain sentences its mail gateway appends
straight after the caller's words, which no shipped rule or phrase knows: the learned-
boilerplate detector must find those. Used to show what the learned-
boilerplate detector finds on a tenant after importing its tickets (benches/README.md).

  benches/noise/council-tenant.py OUT.csv     # then: triage import OUT.csv --text text \\
      --label category=topic_group --id ticket_id --tenant eastbrook --data-dir D
      triage boilerplate --tenant eastbrook --data-dir D
"""
import csv, os, random, sys

root = os.environ.get("TRIAGE_SHARED_DATASETS", os.path.join(os.path.dirname(__file__), "../../../shared/datasets"))
out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/perf/eastbrook.csv"
names = ["Sam Patel", "Alex Morgan", "Jo Hughes", "Chris Evans", "Priya Shah", "Tom Walsh"]
titles = ["Benefits Officer", "Planning Technician", "Customer Services Adviser", "Finance Assistant"]
footer = (
    "Eastbrook District Council is committed to protecting your privacy and does not accept "
    "responsibility for any views expressed in this message that are not the views of the council.\n"
    "Report a missed bin, pay your council tax or apply for a permit online at any time of day.\n"
    "Eastbrook District Council, working together for a greener and fairer district."
)
# what the council's mail gateway appends: plain sentences with none of the words the shipped
# rules key on (no council name, no link, no "privacy" or "disclaimer")
gateway = (
    "Leisure centres now offer free swimming for under sixteens during the summer holidays.\n"
    "Our contact centre is open Monday to Friday from half past eight until five."
)
rng = random.Random(16)
with open(os.path.join(root, "endava-topics/dev.csv"), newline="") as f, open(out, "w", newline="") as g:
    reader, writer = csv.DictReader(f), None
    for row in reader:
        if writer is None:
            writer = csv.DictWriter(g, fieldnames=reader.fieldnames)
            writer.writeheader()
        r = rng.random()
        if r < 0.2:
            row["text"] += f"\n\nKind regards\n{rng.choice(names)}\n{rng.choice(titles)}\n\n{footer}"
        elif r < 0.4:
            row["text"] += f"\n\n{gateway}"
        writer.writerow(row)
print(f"written {out}")
