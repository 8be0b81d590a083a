#!/usr/bin/env python3
"""Shadow-mode replay (issue 13): with a service on port 18232 whose data dir has ATA train imported
for northmoor and a candidate `ata-1` trained (POST /v1/admin/models/train), shadows ata-1, triages
the first 800 ATA dev tickets, then sends them resolved with their labels and prints the
shadow figures. Commands in benches/README.md."""
import csv, json, os, re, time, urllib.request
B='http://127.0.0.1:18232'
key=open(os.environ.get('TRIAGE_DATA', '/tmp/shadow/data') + '/operator.key').read().strip()
H={'Content-Type':'application/json','Authorization':'Bearer '+key}
def call(m, p, body=None):
    req=urllib.request.Request(B+p, data=None if body is None else json.dumps(body).encode(), headers=H, method=m)
    return json.load(urllib.request.urlopen(req))
clean=lambda s: re.sub(r'[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]', ' ', s or '')
call('POST','/v1/admin/models/ata-1/shadow')
rows=list(csv.DictReader(open(os.path.join(os.environ.get('TRIAGE_SHARED_DATASETS', '../shared/datasets'), 'ata-assignment-groups/dev.csv'), newline='')))[:800]
n=0
for r in rows:
    body={"title": clean(r['short_description'] or 'ticket')[:400], "tenant":"northmoor", "external_id": "D"+r['ticket_id'][-20:]}
    if clean(r['description']).strip(): body["description"]=clean(r['description'])[:5000]
    try: call('POST','/v1/triage',body); n+=1
    except Exception as e: pass
print('triaged', n)
time.sleep(2)
batch=[]
for r in rows:
    b={"tenant":"northmoor","external_id":"D"+r['ticket_id'][-20:],"title":clean(r['short_description'] or 'ticket')[:400],"assignment_group":r['assignment_group'],"resolution_notes":"resolved","resolved_at":"2026-11-30T12:00:00Z"}
    if clean(r['description']).strip(): b["description"]=clean(r['description'])[:5000]
    batch.append(b)
ok=0
for i in range(0,len(batch),200):
    try: call('POST','/v1/tickets/resolved',{"tickets":batch[i:i+200]}); ok+=len(batch[i:i+200])
    except urllib.error.HTTPError as e: print(e.read()[:300])
print('resolved sent', ok)
m=call('GET','/v1/admin/models')
print(json.dumps(m['shadow'], indent=1))
