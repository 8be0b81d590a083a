#!/usr/bin/env python3
"""The reference classifier from ../shared/datasets/README.md, timed in the same run as ours.

TF-IDF word 1-2-grams + char_wb 2-5-grams (sublinear tf) and LinearSVC(C=0.5), trained on
train.csv and scored on dev.csv. Prints one JSON object per head:
{"set", "head", "accuracy", "macro_f1", "fit_seconds", "one_ticket_ms"}.

    pip install scikit-learn
    python3 benches/reference/sklearn_classify.py ../shared/datasets/endava-topics text topic_group
"""
import csv
import json
import sys
import time

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline, make_union
from sklearn.svm import LinearSVC


def read(path, text_cols, head):
    xs, ys = [], []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            xs.append("\n".join(row[c] for c in text_cols if row.get(c)))
            ys.append(row[head])
    return xs, ys


def main():
    folder, text_cols, heads = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")
    for head in heads:
        x_train, y_train = read(f"{folder}/train.csv", text_cols, head)
        x_dev, y_dev = read(f"{folder}/dev.csv", text_cols, head)
        model = make_pipeline(
            make_union(
                TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
            ),
            LinearSVC(C=0.5),
        )
        t = time.perf_counter()
        model.fit(x_train, y_train)
        fit_seconds = time.perf_counter() - t
        pred = model.predict(x_dev)
        t = time.perf_counter()
        for doc in x_dev[:200]:
            model.predict([doc])
        one_ms = (time.perf_counter() - t) / min(200, len(x_dev)) * 1e3
        print(json.dumps({
            "set": folder.rstrip("/").split("/")[-1], "head": head,
            "accuracy": round(accuracy_score(y_dev, pred), 4),
            "macro_f1": round(f1_score(y_dev, pred, average="macro"), 4),
            "fit_seconds": round(fit_seconds, 2), "one_ticket_ms": round(one_ms, 3),
        }))


if __name__ == "__main__":
    main()
