#!/usr/bin/env python3
"""Labelled inputs and their expected metrics for `bertrun --eval` (fixtures/eval/), from transformers' predictions.

Usage: python3 tools/make_eval_fixture.py          (rewrites fixtures/eval/; deterministic)

- tiny-classifier.jsonl + tiny-classifier.metrics.json: the reference inputs of fixtures/reference/tiny-classifier.jsonl
  run at the model maximum (max_length null; 36 inputs, 4 of them pairs), the prediction of each being the argmax of
  its transformers logits stored there (only inputs whose top two logits differ by more than MARGIN). True labels:
  the prediction for two inputs in three, another label for the third (so accuracy is known exactly); written as the
  label name, or for every fourth input as the integer class id (a JSON number). 3 labels: macro F1.
- tiny-classifier-ft.tsv + tiny-classifier-ft.metrics.json: the same texts (single ones without tab, CR or LF) for
  models/tiny-classifier-ft (labels rotten/fresh), predictions from transformers run here (AutoModelForSequenceClassification,
  CPU, float32, eager attention, one input at a time, fast tokenizer with truncation at 64); true labels flipped for
  every third input; names, and for every fifth input the class id as text. 2 labels: binary F1 of 'fresh'.

Expected metrics (computed here with numpy, no scikit-learn): accuracy; F1 (binary: the second label in id2label
order is positive; more labels: macro over the labels among true or predicted ones); Matthews correlation in the
multi-class form (c*s - sum p_k t_k) / sqrt((s^2 - sum p_k^2)(s^2 - sum t_k^2)) (0 when undefined); the confusion
matrix [true][predicted].
"""

import json
import math
import os
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(REPO, "fixtures")
OUT = os.path.join(FIX, "eval")
MARGIN = 1e-3


def metrics(truth, pred, labels):
    k = len(labels)
    cm = np.zeros((k, k), dtype=np.int64)
    for t, p in zip(truth, pred):
        cm[t, p] += 1
    s, c = int(cm.sum()), int(np.trace(cm))
    t_k, p_k = cm.sum(axis=1), cm.sum(axis=0)
    f1 = []
    for j in range(k):
        den = int(t_k[j] + p_k[j])
        f1.append(2 * int(cm[j, j]) / den if den else 0.0)
    if k == 2:
        tp, tn, fp, fn = int(cm[1, 1]), int(cm[0, 0]), int(cm[0, 1]), int(cm[1, 0])
        den = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
        mcc = (tp * tn - fp * fn) / den if den else 0.0
        f = f1[1]
    else:
        den = math.sqrt((s * s - int((p_k * p_k).sum())) * (s * s - int((t_k * t_k).sum())))
        mcc = (c * s - int((p_k * t_k).sum())) / den if den else 0.0
        present = [j for j in range(k) if t_k[j] + p_k[j] > 0]
        f = sum(f1[j] for j in present) / len(present)
    return {"rows": s, "correct": c, "accuracy": c / s, "f1": f, "mcc": mcc, "labels": labels,
            "confusion_matrix": cm.tolist()}


def argmax_with_margin(logits):
    order = sorted(range(len(logits)), key=lambda i: -logits[i])
    return order[0] if logits[order[0]] - logits[order[1]] > MARGIN else None


def write_json(path, obj):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")


def three_class():
    cfg = json.load(open(os.path.join(FIX, "models/tiny-classifier/config.json")))
    labels = [cfg["id2label"][str(i)] for i in range(len(cfg["id2label"]))]
    rows, truth, pred = [], [], []
    for case in map(json.loads, open(os.path.join(FIX, "reference/tiny-classifier.jsonl"), encoding="utf-8")):
        if case["max_length"] is not None:
            continue
        p = argmax_with_margin(case["logits"])
        if p is None:
            continue
        i = len(rows)
        t = p if i % 3 else (p + 1 + (i // 3) % 2) % len(labels)
        row = {"text": case["text"]}
        if case["text_b"] is not None:
            row["text_b"] = case["text_b"]
        row["label"] = t if i % 4 == 0 else labels[t]
        rows.append(row)
        truth.append(t)
        pred.append(p)
    with open(os.path.join(OUT, "tiny-classifier.jsonl"), "w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=True) + "\n")
    m = metrics(truth, pred, labels)
    write_json(os.path.join(OUT, "tiny-classifier.metrics.json"), m)
    return m


def binary():
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    folder = os.path.join(FIX, "models/tiny-classifier-ft")
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder, attn_implementation="eager").eval()
    labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
    lines, truth, pred = [], [], []
    for case in map(json.loads, open(os.path.join(FIX, "reference/tiny-encoder.jsonl"), encoding="utf-8")):
        text = case["text"]
        if case["max_length"] is not None or case["text_b"] is not None or any(c in text for c in "\t\r\n"):
            continue
        enc = tok(text, truncation=True, max_length=64, return_tensors="pt")
        assert enc["input_ids"][0].tolist() == case["input_ids"], text
        with torch.no_grad():
            logits = model(**enc).logits[0].tolist()
        p = argmax_with_margin(logits)
        if p is None:
            continue
        i = len(lines)
        t = p if i % 3 else 1 - p
        lines.append(f"{text}\t{t if i % 5 == 0 else labels[t]}")
        truth.append(t)
        pred.append(p)
    with open(os.path.join(OUT, "tiny-classifier-ft.tsv"), "w", encoding="utf-8", newline="\n") as f:
        f.write("text\tlabel\n" + "\n".join(lines) + "\n")
    m = metrics(truth, pred, labels)
    write_json(os.path.join(OUT, "tiny-classifier-ft.metrics.json"), m)
    return m


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, m in (("tiny-classifier", three_class()), ("tiny-classifier-ft", binary())):
        print(f"{name}: {m['rows']} rows, accuracy {m['accuracy']:.4f}, F1 {m['f1']:.4f}, MCC {m['mcc']:.4f}, "
              f"confusion {m['confusion_matrix']}")


if __name__ == "__main__":
    main()
