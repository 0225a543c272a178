#!/usr/bin/env python3
"""Fine-tunes all-MiniLM-L6-v2 on the Rotten Tomatoes task in one of three ways (torch on CPU, transformers).

Usage:
  python3 tools/finetune.py full     [options] --out .models/rt-full
  python3 tools/finetune.py critical --layers 4,5 [options] --out .models/rt-critical
  python3 tools/finetune.py mask     --layers 0,1,2,3,4,5 --init-sparsity 0.1 [--save-masks] [options] --out .models/rt-mask

Modes (the base is BertModel; BertForSequenceClassification adds `bert.` to its names and a new 2-label head
`classifier.*`; the base's pooler (untrained in all-MiniLM-L6-v2: bias 0, weight std 0.009) is loaded as is):
  full      every tensor is trained.
  critical  only the encoder layers in --layers and the head are trained (plus the pooler with --train-pooler);
            every other tensor stays bitwise identical to the base, so `bertc compile --base` shares it.
  mask      sparsification fine-tuning (Radiya-Dixit & Wang, AISTATS 2020): for the 6 linear weights (query, key,
            value, attention output, intermediate, output) of each layer in --layers, a real-valued score per entry,
            initialised to |w| / mean|w| of that tensor; a fixed per-tensor threshold keeps the top (1 - s) fraction
            (s = --init-sparsity, the smallest-magnitude entries are masked at the start). The forward pass uses
            w * (score >= threshold); the straight-through estimator passes the gradient of the 0/1 mask to the
            scores unchanged, so masked entries can come back. Only the scores (--score-lr) and the new head (--lr)
            are trained; biases, LayerNorms, embeddings and the pooler stay at the base's values. The folder
            written holds the base's weights with the masked entries set to +0.0 (every other tensor bitwise the
            base's); --save-masks also stores each mask as a uint8 tensor `NAME_mask` (1 = kept) beside `NAME`
            in model.safetensors (bertc applies NAME_mask tensors at import; transformers ignores them).

Output (--out, written to a temporary folder then renamed; an existing --out is replaced only if this script
made it): model.safetensors, config.json (BertForSequenceClassification, id2label {0: rotten, 1: fresh}),
vocab.txt / tokenizer.json / tokenizer_config.json / special_tokens_map.json copied from the base, and
training.json (the options, seed, training seconds, dev accuracy measured here, mask sparsity).

Options: --base (default .models/all-MiniLM-L6-v2), --train / --dev (fixtures/rt/*.tsv), --epochs (1),
--batch-size (32), --max-length (64, dynamic padding per batch), --lr (weights: full 5e-5, critical 1e-4,
mask 1e-3 for the head), --score-lr (mask scores, 1e-2), --weight-decay (0.01 on trained matrices; none on
biases, LayerNorms and scores), --warmup (0.1 of the steps, then linear decay to 0), --seed (20200826: seeds
torch (head initialisation, dropout) and the per-epoch shuffle), --threads (1: torch.set_num_threads, so another
job can use the other core), --limit N (train on the first N rows only, for a quick check).

Determinism: same seed, threads and library versions give the same weights (CPU float32). Run time on this
machine (2-core AMD EPYC Zen 4, 1 thread, torch 2.13 cpu, 11,752 training rows, 1 epoch = 368 steps, while other
jobs used the second core): full 14.5 min, critical --layers 4,5 7.9 min, mask --layers 0-5 15.2 min (the loop and its
dev evaluation, ~15 s; loading and saving add ~20 s); dev accuracy 0.840, 0.808, 0.841. See docs/finetuning.md.
"""

import argparse
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rt_common  # noqa: E402

SEED = 20200826
LINEAR = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
          "intermediate.dense", "output.dense")
DEFAULT_LR = {"full": 5e-5, "critical": 1e-4, "mask": 1e-3}
MARKER = ".made-by-finetune"


def parse_layers(text, count):
    try:
        layers = sorted({int(x) for x in text.split(",") if x.strip() != ""})
    except ValueError:
        raise SystemExit(f"finetune.py: --layers {text!r}: expected comma-separated layer numbers")
    if not layers or any(not 0 <= i < count for i in layers):
        raise SystemExit(f"finetune.py: --layers {text!r}: layers are 0..{count - 1}")
    return layers


def make_masked_linear_class():
    import torch
    import torch.nn.functional as F

    class StraightThrough(torch.autograd.Function):
        """Forward: the exact 0/1 mask scores >= threshold; backward: the gradient passed to the scores unchanged."""

        @staticmethod
        def forward(ctx, scores, threshold):
            return (scores >= threshold).to(scores.dtype)

        @staticmethod
        def backward(ctx, grad):
            return grad, None

    class MaskedLinear(torch.nn.Module):
        """A frozen nn.Linear whose weight is multiplied by a 0/1 mask learned through real-valued scores."""

        def __init__(self, linear, sparsity):
            super().__init__()
            self.weight = linear.weight
            self.bias = linear.bias
            self.weight.requires_grad_(False)
            if self.bias is not None:
                self.bias.requires_grad_(False)
            a = self.weight.detach().abs()
            scores = a / a.mean()
            flat = scores.flatten().sort().values
            k = round(sparsity * flat.numel())
            if k == 0:
                threshold = float(flat[0]) - 1.0
            else:
                threshold = float(flat[k - 1] + flat[min(k, flat.numel() - 1)]) / 2
            self.scores = torch.nn.Parameter(scores.clone())
            self.register_buffer("threshold", torch.tensor(threshold, dtype=torch.float32))
            self.initial = self.mask().clone()

        def mask(self):
            return self.scores.detach() >= self.threshold

        def forward(self, x):
            return F.linear(x, self.weight * StraightThrough.apply(self.scores, self.threshold), self.bias)

        def masked_weight(self):
            return torch.where(self.mask(), self.weight.detach(), torch.zeros_like(self.weight))

    return MaskedLinear


def submodule(model, dotted):
    parent = model
    parts = dotted.split(".")
    for p in parts[:-1]:
        parent = getattr(parent, p)
    return parent, parts[-1]


def setup_mode(model, args):
    """Freezes / wraps the model for args.mode; returns ({name: MaskedLinear}, [(params, lr, weight decay)])."""
    import torch
    n_layers = model.config.num_hidden_layers
    for p in model.parameters():
        p.requires_grad_(args.mode == "full")
    masked = {}
    if args.mode == "full":
        trainable = [(n, p) for n, p in model.named_parameters()]
    else:
        layers = parse_layers(args.layers, n_layers)
        head = ["classifier."] + (["bert.pooler."] if args.train_pooler else [])
        if args.mode == "critical":
            head += [f"bert.encoder.layer.{i}." for i in layers]
        for n, p in model.named_parameters():
            if any(n.startswith(h) for h in head):
                p.requires_grad_(True)
        trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        if args.mode == "mask":
            MaskedLinear = make_masked_linear_class()
            for i in layers:
                for lin in LINEAR:
                    name = f"bert.encoder.layer.{i}.{lin}"
                    parent, attr = submodule(model, name)
                    wrapped = MaskedLinear(getattr(parent, attr), args.init_sparsity)
                    setattr(parent, attr, wrapped)
                    masked[name] = wrapped
    decay = [p for n, p in trainable if p.dim() >= 2]
    no_decay = [p for n, p in trainable if p.dim() < 2]
    groups = [(decay, args.lr, args.weight_decay), (no_decay, args.lr, 0.0)]
    if masked:
        groups.append(([m.scores for m in masked.values()], args.score_lr, 0.0))
    groups = [g for g in groups if g[0]]
    print(f"finetune.py: {args.mode}: {sum(p.numel() for p in decay + no_decay):,} weights trained"
          + (f", {sum(m.scores.numel() for m in masked.values()):,} mask scores" if masked else ""), flush=True)
    return masked, groups


def unwrap(model, masked):
    """Puts plain nn.Linear modules back with the masked entries set to +0.0; returns {name: mask (bool)}."""
    import torch
    masks = {}
    for name, m in masked.items():
        lin = torch.nn.Linear(m.weight.shape[1], m.weight.shape[0], bias=m.bias is not None)
        with torch.no_grad():
            lin.weight.copy_(m.masked_weight())
            if m.bias is not None:
                lin.bias.copy_(m.bias)
        parent, attr = submodule(model, name)
        setattr(parent, attr, lin)
        masks[name + ".weight"] = m.mask()
    return masks


def mask_stats(masked):
    total = sum(m.scores.numel() for m in masked.values())
    zeros = sum(int((~m.mask()).sum()) for m in masked.values())
    flipped = sum(int((m.mask() != m.initial).sum()) for m in masked.values())
    return {"entries": total, "zeroed": zeros, "sparsity": zeros / total, "changed_from_initial": flipped}


def compare_with_base(out_file, base_file):
    """Counts the saved tensors that are bitwise the base's, the base's with entries zeroed, changed, new."""
    from safetensors.numpy import load_file
    import numpy as np
    saved, base = load_file(out_file), load_file(base_file)
    counts = {"identical": 0, "zeroed": 0, "changed": 0, "new": 0}
    for name, t in saved.items():
        b = base.get(name[len("bert."):] if name.startswith("bert.") else name)
        if name.endswith("_mask"):
            continue
        if b is None or b.shape != t.shape or b.dtype != t.dtype:
            counts["new"] += 1
        elif t.tobytes() == b.tobytes():
            counts["identical"] += 1
        elif np.array_equal(t.view(np.uint32)[t != 0], b.view(np.uint32)[t != 0]) and \
                not np.signbit(t[t == 0]).any():
            counts["zeroed"] += 1
        else:
            counts["changed"] += 1
    return counts


def save(model, tokenizer_base, out, masks, info):
    import torch
    from safetensors.torch import load_file, save_file
    parent = os.path.dirname(os.path.abspath(out))
    os.makedirs(parent, exist_ok=True)
    if os.path.exists(out) and not os.path.exists(os.path.join(out, MARKER)):
        raise SystemExit(f"finetune.py: {out} exists and was not made by this script; remove it first")
    tmp = tempfile.mkdtemp(prefix=".finetune.", dir=parent)
    try:
        model.save_pretrained(tmp)
        weights = os.path.join(tmp, "model.safetensors")
        if masks:
            tensors = load_file(weights)
            for name, m in masks.items():
                tensors[name + "_mask"] = m.to(torch.uint8).contiguous()
            save_file(tensors, weights, metadata={"format": "pt"})
        rt_common.copy_tokenizer_files(tokenizer_base, tmp)
        info["compared_with_base"] = compare_with_base(weights, os.path.join(tokenizer_base, "model.safetensors"))
        with open(os.path.join(tmp, "training.json"), "w") as f:
            json.dump(info, f, indent=2)
            f.write("\n")
        open(os.path.join(tmp, MARKER), "w").close()
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp made it 0700
        for name in os.listdir(tmp):
            os.chmod(os.path.join(tmp, name), 0o666 & ~umask)
        if os.path.exists(out):
            shutil.rmtree(out)
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def main():
    ap = argparse.ArgumentParser(description="Fine-tune all-MiniLM-L6-v2 on Rotten Tomatoes: full, critical "
                                 "layers, or a learned mask (see the module docstring).")
    ap.add_argument("mode", choices=["full", "critical", "mask"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--base", default=rt_common.BASE)
    ap.add_argument("--train", default=rt_common.TRAIN_TSV)
    ap.add_argument("--dev", default=rt_common.DEV_TSV)
    ap.add_argument("--layers", default=None, help="critical: layers trained (default 4,5); "
                    "mask: layers masked (default 0,1,2,3,4,5)")
    ap.add_argument("--train-pooler", action="store_true", help="critical/mask: also train the pooler")
    ap.add_argument("--init-sparsity", type=float, default=0.1)
    ap.add_argument("--save-masks", action="store_true")
    ap.add_argument("--epochs", type=float, default=1)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-length", type=int, default=64)
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--score-lr", type=float, default=1e-2)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--warmup", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args()
    if args.mode == "full" and (args.layers or args.train_pooler):
        ap.error("full trains every tensor: --layers and --train-pooler do not apply")
    if args.mode != "mask" and (args.save_masks or args.init_sparsity != 0.1):
        ap.error("--save-masks and --init-sparsity apply to mask mode only")
    if not 0.0 <= args.init_sparsity < 1.0:
        ap.error("--init-sparsity must be in [0, 1)")
    args.layers = args.layers or {"full": None, "critical": "4,5", "mask": "0,1,2,3,4,5"}[args.mode]
    args.lr = args.lr if args.lr is not None else DEFAULT_LR[args.mode]

    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification, get_linear_schedule_with_warmup
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train = rt_common.read_tsv(args.train)[:args.limit]
    dev = rt_common.read_tsv(args.dev)
    tokenizer = AutoTokenizer.from_pretrained(args.base)
    model = BertForSequenceClassification.from_pretrained(
        args.base, num_labels=2, id2label=rt_common.ID2LABEL, label2id=rt_common.LABEL2ID,
        attn_implementation="eager")
    masked, groups = setup_mode(model, args)
    optimizer = torch.optim.AdamW([{"params": p, "lr": lr, "weight_decay": wd} for p, lr, wd in groups])
    steps_per_epoch = math.ceil(len(train) / args.batch_size)
    total_steps = math.ceil(args.epochs * steps_per_epoch)
    scheduler = get_linear_schedule_with_warmup(optimizer, round(args.warmup * total_steps), total_steps)
    rng = random.Random(args.seed)

    start = time.perf_counter()
    step = 0
    history = []
    while step < total_steps:
        model.train()
        order = list(range(len(train)))
        rng.shuffle(order)
        running = 0.0
        for enc, labels in rt_common.batches(tokenizer, train, args.batch_size, args.max_length, order):
            loss = model(**enc, labels=labels).loss
            loss.backward()
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            running += loss.item()
            step += 1
            if step % 50 == 0:
                extra = f", sparsity {mask_stats(masked)['sparsity']:.4f}" if masked else ""
                print(f"step {step}/{total_steps}: loss {running / 50:.4f}{extra}, "
                      f"{time.perf_counter() - start:.0f} s", flush=True)
                running = 0.0
            if step >= total_steps:
                break
        acc, _ = rt_common.accuracy(rt_common.predict(model, tokenizer, dev), dev)
        history.append({"step": step, "dev_accuracy": acc})
        print(f"after step {step}: dev accuracy {acc:.4f}", flush=True)
    seconds = time.perf_counter() - start

    info = {"mode": args.mode, "options": {k: v for k, v in vars(args).items() if k not in ("out",)},
            "train_rows": len(train), "steps": total_steps, "training_seconds": round(seconds, 1),
            "torch": torch.__version__, "dev_history": history}
    if masked:
        info["mask"] = mask_stats(masked)
    masks = unwrap(model, masked)
    if masked:  # the unwrapped model must classify exactly as the masked one did
        acc, _ = rt_common.accuracy(rt_common.predict(model, tokenizer, dev), dev)
        assert acc == history[-1]["dev_accuracy"], (acc, history[-1])
    info["dev_accuracy"] = history[-1]["dev_accuracy"]
    save(model, args.base, args.out, masks if args.save_masks else {}, info)
    print(f"finetune.py: {args.mode}: trained {total_steps} steps in {seconds:.1f} s ({seconds / 60:.1f} min, "
          f"{args.threads} thread(s)); dev accuracy {info['dev_accuracy']:.4f}; wrote {args.out}")
    print(f"finetune.py: tensors vs base: {info['compared_with_base']}"
          + (f"; mask: {info['mask']}" if masked else ""))


if __name__ == "__main__":
    main()
