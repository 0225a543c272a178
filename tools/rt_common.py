"""Shared pieces of the Rotten Tomatoes task scripts (tools/finetune.py, tools/eval_rt_transformers.py).

Data: fixtures/rt/{train,dev}.tsv made by tools/make_rt_split.py (header `text<TAB>label`, label fresh/rotten).
Models: Hugging Face BertForSequenceClassification folders with id2label {0: rotten, 1: fresh}.
"""

import os
import shutil

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASE = os.path.join(REPO, ".models", "all-MiniLM-L6-v2")
TRAIN_TSV = os.path.join(REPO, "fixtures", "rt", "train.tsv")
DEV_TSV = os.path.join(REPO, "fixtures", "rt", "dev.tsv")
LABELS = ["rotten", "fresh"]
ID2LABEL = {i: name for i, name in enumerate(LABELS)}
LABEL2ID = {name: i for i, name in enumerate(LABELS)}
# tokenizer files copied from the base next to the fine-tuned weights (sentence-transformers files are not: the
# classifier does its own pooling)
TOKENIZER_FILES = ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


def read_tsv(path):
    """[(text, label id)] from a `text<TAB>label` file (split on LF only, as bertrun's reader does)."""
    with open(path, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    if not lines or lines[0] != "text\tlabel":
        raise SystemExit(f"{path}: expected the header 'text<TAB>label'")
    rows = []
    for n, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) != 2 or fields[1] not in LABEL2ID:
            raise SystemExit(f"{path}: line {n}: expected text<TAB>fresh|rotten")
        rows.append((fields[0], LABEL2ID[fields[1]]))
    return rows


def batches(tokenizer, rows, batch_size, max_length, order=None):
    """Yields (encoding with dynamic padding, labels tensor) over rows in `order` (default: as given)."""
    import torch
    order = list(range(len(rows))) if order is None else order
    for start in range(0, len(order), batch_size):
        chunk = [rows[i] for i in order[start:start + batch_size]]
        enc = tokenizer([t for t, _ in chunk], padding=True, truncation=True, max_length=max_length,
                        return_tensors="pt")
        yield enc, torch.tensor([y for _, y in chunk], dtype=torch.long)


def predict(model, tokenizer, rows, batch_size=32, max_length=512):
    """Logits [N, 2] (float32 tensor) of model in eval mode, no gradients."""
    import torch
    model.eval()
    out = []
    with torch.no_grad():
        for enc, _ in batches(tokenizer, rows, batch_size, max_length):
            out.append(model(**enc).logits.float())
    return torch.cat(out)


def accuracy(logits, rows):
    preds = logits.argmax(dim=1).tolist()
    return sum(int(p == y) for p, (_, y) in zip(preds, rows)) / len(rows), preds


def copy_tokenizer_files(base, out):
    for name in TOKENIZER_FILES:
        src = os.path.join(base, name)
        if os.path.exists(src):
            shutil.copyfile(src, os.path.join(out, name))
