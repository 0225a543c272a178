#!/usr/bin/env python3
"""Dev accuracy of the Rotten Tomatoes fine-tunes with transformers, as references for bertrun.

Usage: python3 tools/eval_rt_transformers.py [MODE ...] [--models DIR] [--dev TSV] [--out DIR]

For each MODE (default: full critical mask) loads DIR/rt-MODE (default DIR .models, made by tools/finetune.py) as
transformers BertForSequenceClassification (CPU, float32, eager attention, torch.set_num_threads(1)), classifies
every row of fixtures/rt/dev.tsv one text at a time (no padding, truncation at 512 tokens like bertrun's default;
every dev row has at most 63 tokens), and writes fixtures/rt/reference_MODE.json:

  model, rows, correct, accuracy    the dev accuracy against the gold labels
  min_margin                        the smallest |logit(fresh) - logit(rotten)| over the rows (how close a
                                    prediction comes to flipping)
  predictions                       the predicted label (rotten / fresh) of every dev row, in file order
  logits                            [rotten, fresh] logits of the first 50 rows, 8 significant digits
  versions                          torch and transformers

Deterministic: rerunning on the same folders writes byte-identical files.
"""

import argparse
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rt_common  # noqa: E402

N_LOGITS = 50


def evaluate(folder, dev):
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = BertForSequenceClassification.from_pretrained(folder, attn_implementation="eager")
    if model.config.id2label != rt_common.ID2LABEL:
        raise SystemExit(f"{folder}: id2label {model.config.id2label}, expected {rt_common.ID2LABEL}")
    logits = rt_common.predict(model, tokenizer, dev, batch_size=1, max_length=512)
    return logits, torch.__version__


def write_reference(path, obj):
    # one key per line, values compact, so diffs stay readable
    lines = [f"  {json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in obj.items()]
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("{\n" + ",\n".join(lines) + "\n}\n")
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("modes", nargs="*", default=["full", "critical", "mask"])
    ap.add_argument("--models", default=os.path.join(rt_common.REPO, ".models"))
    ap.add_argument("--dev", default=rt_common.DEV_TSV)
    ap.add_argument("--out", default=os.path.join(rt_common.REPO, "fixtures", "rt"))
    args = ap.parse_args()

    import torch
    import transformers
    torch.set_num_threads(1)
    dev = rt_common.read_tsv(args.dev)
    for mode in args.modes:
        folder = os.path.join(args.models, f"rt-{mode}")
        logits, torch_version = evaluate(folder, dev)
        acc, preds = rt_common.accuracy(logits, dev)
        margin = float((logits[:, 1] - logits[:, 0]).abs().min())
        ref = {
            "model": f"rt-{mode}",
            "rows": len(dev),
            "correct": sum(int(p == y) for p, (_, y) in zip(preds, dev)),
            "accuracy": acc,
            "min_margin": float(f"{margin:.4g}"),
            "predictions": [rt_common.LABELS[p] for p in preds],
            "logits": [[float(f"{x:.8g}") for x in row] for row in logits[:N_LOGITS].tolist()],
            "versions": {"torch": torch_version, "transformers": transformers.__version__},
        }
        path = os.path.join(args.out, f"reference_{mode}.json")
        write_reference(path, ref)
        print(f"{mode}: dev accuracy {acc:.4f} ({ref['correct']}/{len(dev)}), min margin {margin:.3g}; wrote {path}")


if __name__ == "__main__":
    main()
