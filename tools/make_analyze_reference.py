#!/usr/bin/env python3
"""Reference weight distances for `bertc analyze` (fixtures/analyze/*.json), computed with numpy in float64.

Usage: python3 tools/make_analyze_reference.py            (rewrites fixtures/analyze/; deterministic)

For each pair (fine-tuned, base) of committed fixtures it writes the numbers `bertc analyze FT --base BASE --json`
must print, in the same JSON shape (the Swift test, Tests/BertTests/AnalyzeTests.swift, compares every number
within 1e-9 relative):

  mask10.json      masked/encoder-mask10 vs models/tiny-encoder  (10% of layer 1's six linear weights zeroed)
  delta.json       masked/encoder-delta vs models/tiny-encoder   (6 entries of one weight redrawn)
  bf16.json        pytorch/tiny-encoder-bf16 vs models/tiny-encoder (every entry rounded to bfloat16)
  head-only.json   models/tiny-classifier-ft vs models/tiny-encoder (same encoder, an added 2-label head)

Definitions (a = fine-tuned, b = base, n entries; a group = its tensors flattened and concatenated):
  l1 = sum|a-b| / n;  relative_frobenius = |a-b|_F / |b|_F;  changed = #(bits of a != bits of b);
  zeroed = #(b != 0 and a == 0);  angle_degrees = the angle between a and b, in degrees, computed as
  2*atan2(|a/|a| - b/|b||, |a/|a| + b/|b||) (accurate for small angles) and checked against arccos(<a,b>/(|a||b|)).
Sums use math.fsum (correctly rounded). Names: a leading 'bert.' is dropped; the position_ids/token_type_ids buffers
are ignored. Layers: embeddings, encoder.layer.N, pooler, classifier. Types: the module (weight and bias together):
query, key, value, attention.output.dense, attention.output.LayerNorm, intermediate.dense, output.dense,
output.LayerNorm inside encoder layers; embeddings, pooler, classifier outside. critical_layers: the layers other
than classifier whose relative_frobenius is > 0, largest first, at most 3.

Reads safetensors with the pure-Python reader in make_minilm_masked.py (numpy only) and the bfloat16 PyTorch
checkpoint with torch.load(weights_only=True).
"""

import json
import math
import os
import sys

import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_minilm_masked import read_safetensors  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(REPO, "fixtures")
OUT = os.path.join(FIX, "analyze")
PAIRS = [
    ("mask10", "masked/encoder-mask10", "models/tiny-encoder"),
    ("delta", "masked/encoder-delta", "models/tiny-encoder"),
    ("bf16", "pytorch/tiny-encoder-bf16", "models/tiny-encoder"),
    ("head-only", "models/tiny-classifier-ft", "models/tiny-encoder"),
]
IGNORED = {"embeddings.position_ids", "embeddings.token_type_ids"}
TOP = 3


def load(rel):
    """{canonical name: float64 array (flattened), shape} of a fixture folder."""
    folder = os.path.join(FIX, rel)
    out = {}
    st = os.path.join(folder, "model.safetensors")
    if os.path.exists(st):
        _, tensors = read_safetensors(st)
        for name, (dtype, shape, data) in tensors.items():
            assert dtype == "F32", (rel, name, dtype)
            out[canonical(name)] = (np.frombuffer(data, dtype="<f4").astype(np.float64), shape)
    else:
        import torch
        sd = torch.load(os.path.join(folder, "pytorch_model.bin"), weights_only=True, map_location="cpu")
        for name, t in sd.items():
            out[canonical(name)] = (t.float().numpy().reshape(-1).astype(np.float64), list(t.shape))
    return {k: v for k, v in out.items() if k not in IGNORED}


def canonical(name):
    return name[5:] if name.startswith("bert.") else name


def place(name):
    parts = name.split(".")
    if len(parts) >= 3 and parts[0] == "encoder" and parts[1] == "layer":
        rest = parts[3:]
        if rest and rest[-1] in ("weight", "bias"):
            rest = rest[:-1]
        if len(rest) == 3 and rest[:2] == ["attention", "self"]:
            rest = rest[2:]
        return f"encoder.layer.{int(parts[2])}", ".".join(rest)
    return parts[0], parts[0]


def measure(pairs):
    """pairs: [(a, b)] float64 arrays; the group's measures."""
    a = np.concatenate([p[0] for p in pairs])
    b = np.concatenate([p[1] for p in pairs])
    n = a.size
    d = a - b
    na = math.sqrt(math.fsum(a * a))
    nb = math.sqrt(math.fsum(b * b))
    nd = math.sqrt(math.fsum(d * d))
    if na == 0 and nb == 0:
        angle = 0.0
    elif na == 0 or nb == 0:
        angle = 90.0
    else:
        x, y = a / na, b / nb
        angle = math.degrees(2 * math.atan2(math.sqrt(math.fsum((x - y) ** 2)), math.sqrt(math.fsum((x + y) ** 2))))
        cos = math.fsum(a * b) / (na * nb)
        check = math.degrees(math.acos(max(-1.0, min(1.0, cos))))
        assert abs(check - angle) < 1e-5, (angle, check)
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    changed = int(np.count_nonzero(a32.view(np.uint32) != b32.view(np.uint32)))
    zeroed = int(np.count_nonzero((b != 0) & (a == 0)))
    rel = 0.0 if nd == 0 else (None if nb == 0 else nd / nb)
    return {"elements": n, "l1": math.fsum(np.abs(d)) / n, "angle_degrees": angle, "relative_frobenius": rel,
            "changed": changed, "changed_fraction": changed / n, "zeroed": zeroed, "zeroed_fraction": zeroed / n}


def layer_key(layer):
    if layer.startswith("encoder.layer."):
        return (1, int(layer.split(".")[2]))
    return ({"embeddings": 0, "pooler": 2, "classifier": 3}.get(layer, 4), 0)


def analyze(tuned_rel, base_rel):
    tuned, base = load(tuned_rel), load(base_rel)
    common = sorted(n for n in tuned if n in base)
    for n in common:
        assert tuned[n][1] == base[n][1], n
    pair = {n: (tuned[n][0], base[n][0]) for n in common}
    tensors = []
    by_layer, by_type = {}, {}
    for n in common:
        layer, typ = place(n)
        by_layer.setdefault(layer, []).append(n)
        by_type.setdefault(typ, {}).setdefault(layer, []).append(n)
        tensors.append({"name": n, "layer": layer, "type": typ, "shape": tuned[n][1], **measure([pair[n]])})
    layers = [{"layer": l, "tensors": len(by_layer[l]), **measure([pair[n] for n in by_layer[l]])}
              for l in sorted(by_layer, key=layer_key)]
    types = [{"type": t, "points": [{"layer": l, **measure([pair[n] for n in by_type[t][l]])}
                                    for l in sorted(by_type[t], key=layer_key)]} for t in sorted(by_type)]
    moved = [l for l in layers if l["layer"] != "classifier" and l["relative_frobenius"] != 0]
    moved.sort(key=lambda l: (-(l["relative_frobenius"] if l["relative_frobenius"] is not None else math.inf), l["layer"]))
    return {
        "finetuned": tuned_rel, "base": base_rel,
        "overall": measure([pair[n] for n in common]),
        "layers": layers, "tensors": tensors, "types": types,
        "added": [{"name": n, "shape": tuned[n][1]} for n in sorted(tuned) if n not in base],
        "removed": [{"name": n, "shape": base[n][1]} for n in sorted(base) if n not in tuned],
        "critical_layers": [{"layer": l["layer"], "relative_frobenius": l["relative_frobenius"]} for l in moved[:TOP]],
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, tuned, base in PAIRS:
        ref = analyze(tuned, base)
        path = os.path.join(OUT, name + ".json")
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            json.dump(ref, f, indent=1, sort_keys=True)
            f.write("\n")
        o = ref["overall"]
        print(f"{path}: {len(ref['tensors'])} tensors; overall l1 {o['l1']:.4g}, angle {o['angle_degrees']:.4g} deg, "
              f"rel.Frob {o['relative_frobenius']:.4g}, changed {o['changed']}, zeroed {o['zeroed']}")


if __name__ == "__main__":
    main()
