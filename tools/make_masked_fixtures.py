#!/usr/bin/env python3
"""Makes sparsified (masked, pruned, dead-neuron, dead-head, sparse-delta) variants of the tiny fixture models
in fixtures/masked/ and their transformers reference outputs.

Usage: python3 tools/make_masked_fixtures.py [--out REPO_ROOT]

Reads fixtures/models/tiny-encoder and fixtures/models/tiny-classifier (made by tools/make_fixtures.py) and writes,
deterministically (numpy default_rng with fixed seeds, CPU, float32):
  fixtures/masked/encoder-mask01/ .. encoder-mask90/   tiny-encoder with 1/10/50/90% of the entries of every linear
                                                       weight of encoder layer 1 zeroed at random; masks.safetensors
                                                       holds the masks (uint8, 1 = entry kept, 0 = entry zeroed)
  fixtures/masked/classifier-magnitude90/              tiny-classifier, every encoder linear weight 90% magnitude-pruned
  fixtures/masked/encoder-dead-neurons/                tiny-encoder, 9 FFN neurons of layer 0 dead (weight row + bias 0)
  fixtures/masked/encoder-dead-head/                   tiny-encoder, head 2 of layer 1 dead (q/k/v rows + biases 0)
  fixtures/masked/encoder-delta/                       tiny-encoder, 0.5% of layer 0 intermediate.dense entries redrawn
  fixtures/masked/<name>.jsonl                         reference outputs (format of fixtures/reference/*.jsonl)
Every tensor not named above is bitwise equal to the source model's; the script checks that on the written files,
checks that the dead neurons' / dead head's output-projection columns do not change the outputs, and prints
per-tensor zero fractions and the largest differences from the unmasked references.
Needs torch (CPU), transformers, numpy, safetensors.
"""

import argparse
import json
import os
import shutil
import sys

import numpy as np
import torch
import transformers
from safetensors.numpy import load_file, save_file
from transformers import AutoModel, AutoModelForSequenceClassification

sys.dont_write_bytecode = True  # no tools/__pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402  (helpers: reference_cases, make_reference, prune, fresh_dir)

LINEAR = ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
          "intermediate.dense", "output.dense"]
SIDE_FILES = ["vocab.txt", "tokenizer_config.json", "modules.json", "1_Pooling"]

# 12 of make_fixtures.reference_cases(): short and long, pairs, CJK, emoji, controls, empty, special tokens,
# the model maximum, explicit max_length and pair truncation.
CASE_INDICES = [0, 6, 7, 12, 14, 19, 22, 23, 31, 34, 35, 37]

ENCODER = dict(src="tiny-encoder", prefix="", classifier=False, model_max=64, lower=True, hidden=32, heads=4)
CLASSIFIER = dict(src="tiny-classifier", prefix="bert.", classifier=True, model_max=40, lower=False, hidden=48,
                  heads=6)


def linear_weights(prefix, layers):
    return [f"{prefix}encoder.layer.{i}.{m}.weight" for i in layers for m in LINEAR]


def choose(rng, n, k):
    """k distinct positions of n, uniformly at random: the k smallest of n uniform draws (ties impossible in
    practice; stable sort anyway). Uses only Generator.random, whose stream numpy keeps stable."""
    return np.sort(np.argsort(rng.random(n), kind="stable")[:k])


# ---------------------------------------------------------------------------------------------
# Variants: each returns (tensors, masks or None, notes)
# ---------------------------------------------------------------------------------------------


def random_mask(base, prefix, fraction, seed):
    rng = np.random.default_rng(seed)
    out, masks = dict(base), {}
    for name in linear_weights(prefix, [1]):
        w = base[name]
        k = int(round(fraction * w.size))
        mask = np.ones(w.size, dtype=np.uint8)
        mask[choose(rng, w.size, k)] = 0
        mask = mask.reshape(w.shape)
        masks[name] = mask
        out[name] = (w * mask).astype(np.float32)  # w * 1 = w exactly, w * 0 = +/-0: force +0 below
        out[name][mask == 0] = 0.0
    return out, masks


def magnitude_prune(base, prefix, layers, fraction):
    out = dict(base)
    for name in linear_weights(prefix, layers):
        w = base[name]
        k = int(round(fraction * w.size))
        order = np.argsort(np.abs(w).reshape(-1), kind="stable")
        flat = w.reshape(-1).copy()
        flat[order[:k]] = 0.0
        out[name] = flat.reshape(w.shape)
    return out


def dead_neurons(base, prefix, layer, count, seed):
    rng = np.random.default_rng(seed)
    out = dict(base)
    wname = f"{prefix}encoder.layer.{layer}.intermediate.dense.weight"
    bname = f"{prefix}encoder.layer.{layer}.intermediate.dense.bias"
    neurons = choose(rng, base[wname].shape[0], count)
    w, b = base[wname].copy(), base[bname].copy()
    w[neurons, :] = 0.0
    b[neurons] = 0.0
    out[wname], out[bname] = w, b
    return out, [int(x) for x in neurons]


def dead_head(base, prefix, layer, head, hidden, heads):
    out = dict(base)
    d = hidden // heads
    rows = slice(head * d, (head + 1) * d)
    for m in ("query", "key", "value"):
        for kind in ("weight", "bias"):
            name = f"{prefix}encoder.layer.{layer}.attention.self.{m}.{kind}"
            t = base[name].copy()
            t[rows] = 0.0
            out[name] = t
    return out, (head * d, (head + 1) * d)


def sparse_delta(base, prefix, layer, fraction, seed):
    rng = np.random.default_rng(seed)
    out = dict(base)
    name = f"{prefix}encoder.layer.{layer}.intermediate.dense.weight"
    w = base[name]
    k = max(1, int(round(fraction * w.size)))
    pos = choose(rng, w.size, k)
    flat = w.reshape(-1).copy()
    new = (0.2 * rng.standard_normal(k)).astype(np.float32)
    new[new == flat[pos]] = new[new == flat[pos]] + np.float32(0.5)  # every chosen entry really changes
    flat[pos] = new
    out[name] = flat.reshape(w.shape)
    return out, [int(x) for x in pos]


# ---------------------------------------------------------------------------------------------
# Writing and checking
# ---------------------------------------------------------------------------------------------


def load_model(folder, classifier):
    cls = AutoModelForSequenceClassification if classifier else AutoModel
    model = cls.from_pretrained(folder, attn_implementation="eager")
    model.eval()
    return model


def write_variant(models_dir, masked_dir, name, spec, tensors, masks):
    src = os.path.join(models_dir, spec["src"])
    dst = os.path.join(masked_dir, name)
    model = load_model(src, spec["classifier"])
    state = model.state_dict()
    with torch.no_grad():
        for key, arr in tensors.items():
            if key not in state:
                sys.exit(f"make_masked_fixtures.py: {key} is not a parameter of {spec['src']}")
            state[key].copy_(torch.from_numpy(np.ascontiguousarray(arr)))
    mf.fresh_dir(dst)
    model.save_pretrained(dst)
    for side in SIDE_FILES:
        p = os.path.join(src, side)
        if os.path.isdir(p):
            shutil.copytree(p, os.path.join(dst, side))
        elif os.path.isfile(p):
            shutil.copyfile(p, os.path.join(dst, side))
    mf.prune(dst)
    if masks is not None:
        save_file({k: np.ascontiguousarray(v) for k, v in sorted(masks.items())},
                  os.path.join(dst, "masks.safetensors"))
    # check: written tensors are exactly the intended ones; config equals the source's
    written = load_file(os.path.join(dst, "model.safetensors"))
    assert set(written) == set(tensors), f"{name}: tensor names differ from {spec['src']}"
    for key, arr in tensors.items():
        assert written[key].dtype == arr.dtype and written[key].shape == arr.shape, key
        assert written[key].tobytes() == arr.tobytes(), f"{name}: {key} not written bitwise"
    with open(os.path.join(src, "config.json"), "rb") as a, open(os.path.join(dst, "config.json"), "rb") as b:
        assert a.read() == b.read(), f"{name}: config.json differs from {spec['src']}'s"
    return dst


def zero_report(name, base, tensors):
    rows = []
    for key in sorted(tensors):
        if tensors[key].tobytes() != base[key].tobytes():
            t = tensors[key]
            changed = int((t != base[key]).sum())
            rows.append(f"    {key} {list(t.shape)}: zeros {int((t == 0).sum())}/{t.size} = "
                        f"{(t == 0).mean():.4f}, entries changed {changed}")
    print(f"  {name}: {len(rows)} tensors differ from the source")
    print("\n".join(rows))


def run_outputs(model, classifier, cases):
    """last_hidden_state, pooler_output and (classifier) logits for (ids, type ids) pairs."""
    outs = []
    with torch.no_grad():
        for ids, tt in cases:
            t_ids, t_tt = torch.tensor([ids]), torch.tensor([tt])
            mask = torch.ones_like(t_ids)
            if classifier:
                o = model(input_ids=t_ids, token_type_ids=t_tt, attention_mask=mask, output_hidden_states=True)
                outs.append((o.hidden_states[-1][0].clone(), o.logits[0].clone()))
            else:
                o = model(input_ids=t_ids, token_type_ids=t_tt, attention_mask=mask)
                outs.append((o.last_hidden_state[0].clone(), o.pooler_output[0].clone()))
    return outs


def max_out_diff(a, b):
    return max(float((x - y).abs().max()) for pa, pb in zip(a, b) for x, y in zip(pa, pb))


def check_irrelevant_columns(folder, weight_name, cols, cases, seed):
    """Replaces the given columns of weight_name with fresh random values; returns the largest output change."""
    model = load_model(folder, False)
    before = run_outputs(model, False, cases)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        w = model.state_dict()[weight_name]
        w[:, cols] = 3.0 * torch.randn((w.shape[0], len(cols)), generator=g)
    after = run_outputs(model, False, cases)
    # control: changing one live column the same way must change the outputs (a constant added to a column
    # would not: the LayerNorm that follows removes it)
    live = [c for c in range(w.shape[1]) if c not in cols][0]
    with torch.no_grad():
        w[:, live] = 3.0 * torch.randn(w.shape[0], generator=g)
    control = run_outputs(model, False, cases)
    return max_out_diff(before, after), max_out_diff(before, control)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return {(o["text"], o["text_b"], o["max_length"]): o for o in map(json.loads, f)}


def reference_diffs(ref_path, base_ref_path):
    ref, base = read_jsonl(ref_path), read_jsonl(base_ref_path)
    worst = {}
    for key, o in ref.items():
        b = base[key]
        assert o["input_ids"] == b["input_ids"], f"{ref_path}: token ids differ from {base_ref_path}"
        for field in ("last_hidden_state", "pooler_output", "mean_embedding", "logits"):
            if field in o:
                d = float(np.max(np.abs(np.asarray(o[field]) - np.asarray(b[field]))))
                worst[field] = max(worst.get(field, 0.0), d)
    return worst


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    help="repository root (default: the one holding this script)")
    args = ap.parse_args()
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)

    models_dir = os.path.join(args.out, "fixtures", "models")
    ref_dir = os.path.join(args.out, "fixtures", "reference")
    masked_dir = os.path.join(args.out, "fixtures", "masked")
    os.makedirs(masked_dir, exist_ok=True)
    enc = load_file(os.path.join(models_dir, "tiny-encoder", "model.safetensors"))
    cls = load_file(os.path.join(models_dir, "tiny-classifier", "model.safetensors"))

    variants = []  # (name, spec, tensors, masks)
    for i, (pct, frac) in enumerate([("01", 0.01), ("10", 0.10), ("50", 0.50), ("90", 0.90)]):
        t, m = random_mask(enc, "", frac, seed=3100 + i)
        variants.append((f"encoder-mask{pct}", ENCODER, t, m))
    variants.append(("classifier-magnitude90", CLASSIFIER, magnitude_prune(cls, "bert.", range(3), 0.90), None))
    t, neurons = dead_neurons(enc, "", layer=0, count=9, seed=3200)
    variants.append(("encoder-dead-neurons", ENCODER, t, None))
    t, head_cols = dead_head(enc, "", layer=1, head=2, hidden=32, heads=4)
    variants.append(("encoder-dead-head", ENCODER, t, None))
    t, delta_pos = sparse_delta(enc, "", layer=0, fraction=0.005, seed=3300)
    variants.append(("encoder-delta", ENCODER, t, None))
    print(f"dead neurons (layer 0): {neurons}; dead head columns (layer 1): {head_cols}; "
          f"delta positions (layer 0 intermediate.dense, flat): {delta_pos}")

    all_cases = mf.reference_cases()
    cases = [all_cases[i] for i in CASE_INDICES]
    mf.reference_cases = lambda: cases  # make_reference iterates over this module-level function

    written = {}
    for name, spec, tensors, masks in variants:
        base = enc if spec is ENCODER else cls
        dst = write_variant(models_dir, masked_dir, name, spec, tensors, masks)
        written[name] = dst
        zero_report(name, base, tensors)
        if masks is not None:
            for key, m in sorted(masks.items()):
                assert np.array_equal(tensors[key], base[key] * m), key
        ref_path = os.path.join(masked_dir, name + ".jsonl")
        mf.make_reference(dst, ref_path, spec["classifier"], spec["model_max"], spec["lower"])

    # structural checks: the dead units' output-projection columns do not matter ----------------------------
    tok = transformers.AutoTokenizer.from_pretrained(written["encoder-dead-head"])
    io_cases = []
    for text, text_b, ml in cases:
        e = tok(text, text_b, truncation=True, max_length=ml or 64, return_token_type_ids=True) if text_b \
            else tok(text, truncation=True, max_length=ml or 64, return_token_type_ids=True)
        io_cases.append((e["input_ids"], e["token_type_ids"]))
    d_head, c_head = check_irrelevant_columns(written["encoder-dead-head"],
                                              "encoder.layer.1.attention.output.dense.weight",
                                              list(range(*head_cols)), io_cases, seed=3400)
    d_neur, c_neur = check_irrelevant_columns(written["encoder-dead-neurons"], "encoder.layer.0.output.dense.weight",
                                              neurons, io_cases, seed=3500)
    print(f"dead head: replacing attention.output.dense columns {head_cols[0]}..{head_cols[1] - 1} changes outputs "
          f"by {d_head:.3g} (control, one live column redrawn: {c_head:.3g})")
    print(f"dead neurons: replacing output.dense columns {neurons} changes outputs by {d_neur:.3g} "
          f"(control: {c_neur:.3g})")
    assert d_head == 0.0 and d_neur == 0.0 and c_head > 1e-3 and c_neur > 1e-3

    # how much each variant moves the outputs away from the unmasked model --------------------------------
    print("max |masked - unmasked| over the reference inputs:")
    for name, spec, _, _ in variants:
        base_ref = os.path.join(ref_dir, spec["src"] + ".jsonl")
        diffs = reference_diffs(os.path.join(masked_dir, name + ".jsonl"), base_ref)
        print(f"  {name}: " + ", ".join(f"{k} {v:.3g}" for k, v in diffs.items()))
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(masked_dir) for f in fs)
    print(f"fixtures/masked: {total} bytes")
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, numpy {np.__version__}")


if __name__ == "__main__":
    main()
