#!/usr/bin/env python3
"""Measures the Rotten Tomatoes fine-tunes with bertc/bertrun and prints the README's trade-off table.

Usage: python3 tools/rt_measure.py [MODE ...] [--bin DIR] [--models DIR] [--base DIR] [--threads N]

For each MODE (default: full critical mask), with the release tools in --bin (default .build/release):
  1. bertc compile MODELS/rt-MODE --base BASE -o MODELS/rt-MODE.bin   (artifact bytes = that file's size)
  2. bertrun MODELS/rt-MODE.bin --input fixtures/rt/dev.tsv --eval --metrics M --output P --threads N
     (accuracy from --eval's metrics JSON and recounted here from the JSON lines in P)
  3. compares bertrun's label for every dev row with fixtures/rt/reference_MODE.json (transformers, written by
     tools/eval_rt_transformers.py) and its logits of the first rows; any disagreement is reported and makes the
     exit status 1.
Full-model bytes: the size of MODELS/rt-full/model.safetensors (what a task costs when stored as a whole model).
Training time: training_seconds from MODELS/rt-MODE/training.json (written by tools/finetune.py).
Standard library only; needs no torch.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEV = os.path.join(REPO, "fixtures", "rt", "dev.tsv")
COMMANDS = {
    "full": "tools/finetune.py full",
    "critical": "tools/finetune.py critical --layers 4,5",
    "mask": "tools/finetune.py mask --layers 0,1,2,3,4,5 --init-sparsity 0.1 --save-masks",
}


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"rt_measure.py: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    return p


def gold_labels():
    with open(DEV, encoding="utf-8") as f:
        return [line.split("\t")[1] for line in f.read().split("\n")[1:] if line]


def measure(mode, args, full_bytes, gold, tmp):
    folder = os.path.join(args.models, f"rt-{mode}")
    artifact = folder + ".bin"
    compiled = run([os.path.join(args.bin, "bertc"), "compile", folder, "--base", args.base, "-o", artifact])
    preds_path, metrics_path = os.path.join(tmp, f"{mode}.jsonl"), os.path.join(tmp, f"{mode}-metrics.json")
    run([os.path.join(args.bin, "bertrun"), artifact, "--input", DEV, "--eval", "--metrics", metrics_path,
         "--output", preds_path, "--threads", str(args.threads)])
    with open(metrics_path) as f:
        metrics = json.load(f)
    with open(preds_path) as f:
        outputs = [json.loads(line) for line in f if line.strip()]
    with open(os.path.join(REPO, "fixtures", "rt", f"reference_{mode}.json")) as f:
        ref = json.load(f)
    with open(os.path.join(folder, "training.json")) as f:
        training = json.load(f)
    labels = [o["label"] for o in outputs]
    correct = sum(int(p == g) for p, g in zip(labels, gold))
    disagree = [i for i, (a, b) in enumerate(zip(labels, ref["predictions"])) if a != b]
    if len(labels) != len(ref["predictions"]):
        disagree.append(-1)
    worst = max(abs(x - y) for o, r in zip(outputs, ref["logits"]) for x, y in zip(o["logits"], r))
    row = {
        "mode": mode, "bertrun_accuracy": metrics["accuracy"], "recounted_accuracy": correct / len(gold),
        "transformers_accuracy": ref["accuracy"], "rows_disagreeing": len(disagree),
        "worst_logit_diff_first_rows": worst, "artifact_bytes": os.path.getsize(artifact), "full_bytes": full_bytes,
        "training_seconds": training["training_seconds"], "compile": compiled.stdout.strip() or compiled.stderr.strip(),
        "mask": training.get("mask"),
    }
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("modes", nargs="*", default=["full", "critical", "mask"])
    ap.add_argument("--bin", default=os.path.join(REPO, ".build", "release"))
    ap.add_argument("--models", default=os.path.join(REPO, ".models"))
    ap.add_argument("--base", default=os.path.join(REPO, ".models", "all-MiniLM-L6-v2"))
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    gold = gold_labels()
    full_bytes = os.path.getsize(os.path.join(args.models, "rt-full", "model.safetensors"))
    with tempfile.TemporaryDirectory(prefix="rt-measure.") as tmp:
        rows = [measure(m, args, full_bytes, gold, tmp) for m in args.modes]
    for r in rows:
        print(json.dumps(r))
    print()
    print("| fine-tune | dev accuracy: bertrun / transformers | rows disagreeing | artifact bytes (`--base`) "
          "| full model bytes | artifact / full | training (1 thread) | command |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['mode']} | {r['bertrun_accuracy']:.3f} / {r['transformers_accuracy']:.3f} "
              f"| {r['rows_disagreeing']} | {r['artifact_bytes']:,} | {r['full_bytes']:,} "
              f"| {r['artifact_bytes'] / r['full_bytes']:.4f} | {r['training_seconds'] / 60:.1f} min "
              f"| `python3 {COMMANDS.get(r['mode'], r['mode'])}` |")
    bad = [r["mode"] for r in rows if r["rows_disagreeing"] or r["bertrun_accuracy"] != r["transformers_accuracy"]
           or r["recounted_accuracy"] != r["bertrun_accuracy"]]
    if bad:
        sys.exit(f"rt_measure.py: bertrun and transformers disagree on {', '.join(bad)}")


if __name__ == "__main__":
    main()
