"""Peer reference service: the triage API a capable team would build in Python without us.

FastAPI + uvicorn (uvloop, httptools), scikit-learn TF-IDF + LinearSVC for the labels, bm25s for
the knowledge base and for similar resolved tickets. Everything is built once at startup (the
models are trained once and pickled to $PEER_CACHE, default /tmp/triage-peer-cache.pkl, so the
second worker and later starts only load them); a request vectorises its ticket once and runs
three BM25 lookups over prebuilt indexes.

    cd benches/peer && uvicorn app:app --workers 2 --port 18100
"""

from __future__ import annotations

import csv
import fcntl
import glob
import html
import os
import pickle
import re
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import bm25s
import numpy as np
import Stemmer
from fastapi import FastAPI, Request
import orjson
from fastapi.responses import JSONResponse, Response
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
KB_DIR = os.environ.get("PEER_KB_DIR", os.path.join(REPO, "knowledge-base"))
DATASETS = os.environ.get("PEER_DATASETS", os.path.abspath(os.path.join(REPO, "..", "shared", "datasets")))
CACHE = os.environ.get("PEER_CACHE", "/tmp/triage-peer-cache.pkl")
TENANTS = ["northmoor", "eastbrook", "southvale", "westwater"]
AUTO_THRESHOLD = 0.9
CSV_LIMIT = 1 << 24
csv.field_size_limit(CSV_LIMIT)

# ----------------------------------------------------------------------------- text analysis

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_STOP = frozenset(bm25s.stopwords.STOPWORDS_EN)
_STEMMER = Stemmer.Stemmer("english")


def analyse(text: str) -> list[str]:
    """Lower case, \\w\\w+ tokens, English stop words out, Snowball stemming (bm25s' own defaults)."""
    return _STEMMER.stemWords([t for t in _TOKEN.findall(text.lower()) if t not in _STOP])


# ----------------------------------------------------------------------------- data

@dataclass
class Ticket:
    id: str
    title: str
    description: str
    category: str | None
    assignment_group: str | None


def load_tickets() -> dict[str, list[Ticket]]:
    d = DATASETS
    out: dict[str, list[Ticket]] = {t: [] for t in TENANTS}

    def rows(path):
        with open(path, newline="", encoding="utf-8") as f:
            yield from csv.DictReader(f)

    for r in rows(f"{d}/endava-topics/train.csv"):
        out["northmoor"].append(Ticket(r["ticket_id"], r["text"], "", r["topic_group"], None))
    for r in rows(f"{d}/endava-topics/dev.csv"):
        out["eastbrook"].append(Ticket(r["ticket_id"], r["text"], "", r["topic_group"], None))
    for split in ("train", "dev"):
        for r in rows(f"{d}/ata-assignment-groups/{split}.csv"):
            out["southvale"].append(
                Ticket(r["ticket_id"], r["short_description"], r["description"], None, r["assignment_group"]))
        for r in rows(f"{d}/endava-original-labels/{split}.csv"):
            out["westwater"].append(Ticket(r["ticket_id"], r["title"], r["body"], r["category"], None))
    return out


@dataclass
class Article:
    id: str
    title: str
    summary: str
    category: str
    tenants: list[str]
    symptoms: list[str]
    escalation_group: str
    body: str
    steps: list[str] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)


def parse_article(path: str) -> Article | None:
    text = open(path, encoding="utf-8").read()
    if not text.startswith("---"):
        return None
    _, front, body = text.split("---", 2)
    meta: dict[str, object] = {}
    key = None
    for line in front.splitlines():
        if not line.strip():
            continue
        if line.startswith("  - ") and key:
            meta.setdefault(key, [])
            meta[key].append(line[4:].strip())  # type: ignore[union-attr]
            continue
        k, _, v = line.partition(":")
        key, v = k.strip(), v.strip()
        if v.startswith("[") and v.endswith("]"):
            meta[key] = [x.strip() for x in v[1:-1].split(",") if x.strip()]
        elif v:
            meta[key] = v
    steps, in_res = [], False
    for line in body.splitlines():
        if line.startswith("## "):
            in_res = line.strip().lower() == "## resolution"
            continue
        m = re.match(r"^\d+\.\s+(.*)", line)
        if in_res and m:
            steps.append(m.group(1).strip())
    plain = re.sub(r"^#+ .*$", "", body, flags=re.M)
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", plain) if len(s.strip()) > 20]
    return Article(
        id=str(meta.get("id")), title=str(meta.get("title", "")), summary=str(meta.get("summary", "")),
        category=str(meta.get("category", "")), tenants=list(meta.get("tenants", ["all"])),  # type: ignore[arg-type]
        symptoms=list(meta.get("symptoms", [])), escalation_group=str(meta.get("escalation_group", "")),  # type: ignore[arg-type]
        body=body, steps=steps, sentences=sentences)


def load_articles() -> list[Article]:
    arts = []
    for p in sorted(glob.glob(os.path.join(KB_DIR, "**", "*.md"), recursive=True)):
        if os.path.basename(p).lower() == "readme.md":
            continue
        a = parse_article(p)
        if a:
            arts.append(a)
    return arts


# ----------------------------------------------------------------------------- models

def make_vectorizer() -> FeatureUnion:
    return FeatureUnion([
        ("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, lowercase=True)),
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, lowercase=True)),
    ])


def fit_head(X, y: np.ndarray) -> tuple[LinearSVC, float]:
    """LinearSVC(C=0.5); a softmax temperature fitted on a 20% hold-out, then refit on everything."""
    rng = np.random.default_rng(7)
    idx = rng.permutation(len(y))
    cut = int(len(y) * 0.8)
    tr, ho = idx[:cut], idx[cut:]
    svc = LinearSVC(C=0.5).fit(X[tr], y[tr])
    scores = svc.decision_function(X[ho])
    pos = {c: i for i, c in enumerate(svc.classes_)}
    keep = np.array([c in pos for c in y[ho]])
    cols = np.array([pos[c] for c in y[ho][keep]])
    s = scores[keep]

    def nll(log_t):
        lp = log_softmax(s / np.exp(log_t), axis=1)
        return -lp[np.arange(len(cols)), cols].mean()

    temp = float(np.exp(minimize_scalar(nll, bounds=(-6, 3), method="bounded").x))
    return LinearSVC(C=0.5).fit(X, y), temp


def train(tickets: dict[str, list[Ticket]]) -> dict:
    all_t = [t for ts in tickets.values() for t in ts]
    texts = [f"{t.title} {t.description}" for t in all_t]
    t0 = time.time()
    vec = make_vectorizer().fit(texts)
    X = vec.transform(texts).tocsr()
    heads = {}
    for head in ("category", "assignment_group"):
        rows = [i for i, t in enumerate(all_t) if getattr(t, head)]
        y = np.array([getattr(all_t[i], head) for i in rows])
        svc, temp = fit_head(X[rows], y)
        heads[head] = (svc, temp)
        print(f"peer: head {head}: {len(rows)} rows, {len(svc.classes_)} labels, T={temp:.3f}", flush=True)
    print(f"peer: trained in {time.time() - t0:.1f} s, {X.shape[1]} features", flush=True)
    return {"vec": vec, "heads": heads}


def load_or_train(tickets) -> dict:
    lock = open(CACHE + ".lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)  # one worker trains, the other waits and loads
    try:
        if os.path.exists(CACHE):
            with open(CACHE, "rb") as f:
                return pickle.load(f)
        model = train(tickets)
        with open(CACHE + ".tmp", "wb") as f:
            pickle.dump(model, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(CACHE + ".tmp", CACHE)
        return model
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()


# ----------------------------------------------------------------------------- indexes

def bm25_index(token_lists: list[list[str]]) -> bm25s.BM25:
    r = bm25s.BM25(k1=1.2, b=0.75)
    r.index(token_lists, show_progress=False)
    return r


class State:
    def __init__(self):
        t0 = time.time()
        self.articles = load_articles()
        self.tickets = load_tickets()
        self.model = load_or_train(self.tickets)
        art_tokens = [analyse(" ".join([a.title, a.title, a.summary, " ".join(a.symptoms), a.body]))
                      for a in self.articles]
        self.art_sent_tokens = [[set(analyse(s)) for s in a.sentences] for a in self.articles]
        # each sentence pre-split into (escaped word, stem) pairs, so a snippet is a scan, no analysis
        self.art_sent_words = [[[(html.escape(w), (analyse(w) or [None])[0]) for w in s.split()]
                                for s in a.sentences] for a in self.articles]
        self.kb = {}  # tenant -> (index, [article positions])
        self.tk = {}  # tenant -> index over that tenant's tickets
        for ten in TENANTS:
            pos = [i for i, a in enumerate(self.articles) if "all" in a.tenants or ten in a.tenants]
            self.kb[ten] = (bm25_index([art_tokens[i] for i in pos]), pos)
            self.tk[ten] = bm25_index([analyse(f"{t.title} {t.title} {t.description}") for t in self.tickets[ten]])
        n = sum(len(v) for v in self.tickets.values())
        print(f"peer: ready in {time.time() - t0:.1f} s: {len(self.articles)} articles, {n} tickets", flush=True)


def top_k(index: bm25s.BM25, q: list[str], k: int) -> list[tuple[int, float]]:
    scores = index.get_scores(q)
    if len(scores) == 0:
        return []
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top])]
    return [(int(i), float(scores[i])) for i in top if scores[i] > 0]


def snippet(sent_words: list[list[tuple]], sent_tokens: list[set], q: set[str], fallback: str) -> str:
    best, best_n = None, 0
    for words, toks in zip(sent_words, sent_tokens):
        n = len(toks & q)
        if n > best_n:
            best, best_n = words, n
    if best is None:
        return html.escape(fallback)
    return " ".join(f"<b>{w}</b>" if stem in q else w for w, stem in best)


def label_head(x, svc: LinearSVC, temp: float) -> dict:
    p = softmax(svc.decision_function(x)[0] / temp)
    order = np.argsort(-p)[:3]
    best = order[0]
    return {
        "label": str(svc.classes_[best]),
        "probability": round(float(p[best]), 4),
        "decision": "auto" if p[best] >= AUTO_THRESHOLD else "suggest",
        "alternatives": [{"label": str(svc.classes_[i]), "probability": round(float(p[i]), 4)} for i in order],
    }


# ----------------------------------------------------------------------------- app

STATE: State | None = None


@asynccontextmanager
async def lifespan(_app):
    global STATE
    STATE = State()
    yield


app = FastAPI(title="triage peer", lifespan=lifespan)


@app.get("/readyz")
def readyz():
    if STATE is None:
        return JSONResponse({"status": "starting"}, status_code=503)
    return {"status": "ready"}


def problem(status: int, code: str, detail: str):
    return JSONResponse({"status": status, "code": code, "detail": detail}, status_code=status,
                        media_type="application/problem+json")


@app.post("/v1/triage")
async def triage(request: Request):
    # The Authorization header is accepted and ignored (the peer has no key store).
    try:
        body = await request.json()
    except Exception:
        return problem(400, "invalid_json", "body is not JSON")
    if not isinstance(body, dict):
        return problem(422, "invalid_field", "body must be an object")
    title = body.get("title") or ""
    desc = body.get("description") or ""
    tenant = body.get("tenant")
    if not isinstance(title, str) or not isinstance(desc, str) or not (title.strip() or desc.strip()):
        return problem(422, "empty_ticket", "title or description required")
    if tenant not in TENANTS:
        return problem(422, "invalid_tenant", f"unknown tenant {tenant!r}")
    st = STATE
    text = f"{title} {desc}"

    x = st.model["vec"].transform([text])  # one vectorisation, both heads
    labels = {head: label_head(x, svc, temp) for head, (svc, temp) in st.model["heads"].items()}

    q = analyse(f"{title} {title} {desc}")
    qset = set(q)
    kb_index, pos = st.kb[tenant]
    arts = []
    for rank, (i, s) in enumerate(top_k(kb_index, q, 5)):
        a_i = pos[i]
        a = st.articles[a_i]
        arts.append({
            "kind": "article", "id": a.id, "title": a.title, "score": round(1.0 / (61 + rank), 6),
            "bm25": round(s, 4),
            "snippet": snippet(st.art_sent_words[a_i], st.art_sent_tokens[a_i], qset, a.summary),
            "steps": a.steps, "category": a.category, "escalation_group": a.escalation_group,
        })
    tks = []
    hits = top_k(st.tk[tenant], q, 5)
    if hits:
        floor = hits[0][1] * 0.5  # like ours: drop tickets under half the best ticket's score
        for rank, (i, s) in enumerate(h for h in hits if h[1] >= floor):
            t = st.tickets[tenant][i]
            tks.append({
                "kind": "ticket", "id": t.id, "title": t.title[:200], "score": round(1.0 / (61 + rank), 6),
                "bm25": round(s, 4), "snippet": html.escape((t.description or t.title)[:200]), "steps": [],
            })
    suggestions = []
    for a, t in zip(arts + [None] * 5, tks + [None] * 5):
        suggestions.extend(s for s in (a, t) if s is not None)
    suggestions = suggestions[:5]

    return Response(orjson.dumps({
        "triage_id": str(uuid.uuid4()),
        "tenant": tenant,
        "external_id": body.get("external_id"),
        "labels": labels,
        "suggestions": suggestions,
    }), media_type="application/json")
