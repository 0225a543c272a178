#!/usr/bin/env python3
"""Makes checkpoints that carry their masks as tensors (fixtures/mask-tensors/) and reference outputs of the
masked models, for bertc's import-time mask application (Sources/BertCheckpoint/MaskTensors.swift).

Usage: python3 tools/make_mask_tensor_fixtures.py

From fixtures/models/tiny-encoder (made by tools/make_fixtures.py), deterministically (CPU, float32, fixed seeds):
  prune-pretrained/   torch.nn.utils.prune.l1_unstructured(amount=0.5) on the 6 linear weights of encoder layer 1,
                      written by transformers' save_pretrained (safetensors): NAME.weight_orig + NAME.weight_mask
                      (float32 0/1) for the pruned modules, exactly the names the pruned state dict holds
  prune-state-dict/   the same pruned model's plain state_dict(), written by safetensors.torch.save_file
                      (model.safetensors) and by torch.save (pytorch_model.bin, zip)
  name-mask/          the unpruned weights plus `NAME.mask` tensors (same l1 masks; uint8, the query's as bool)
  movement/           movement-pruning style: the unpruned weights plus `MODULE.mask_scores` (float32, N(0, 1),
                      seed 4400) beside each of the 6 layer-1 linear weights; the mask keeps score > 0
  prune.jsonl         outputs of the l1-pruned model (prune.remove applied) for 8 reference inputs
  movement.jsonl      outputs of the movement-masked model for the same inputs
Every folder also holds the source's config.json, vocab.txt, tokenizer_config.json, modules.json, 1_Pooling/.
Reference format: fixtures/reference/*.jsonl (fast tokenizer, eager attention, one input at a time, %.9g).
Needs torch (CPU), transformers, numpy, safetensors.
"""

import os
import shutil
import sys

import numpy as np
import torch
import torch.nn.utils.prune as prune
from safetensors.numpy import load_file, save_file
from safetensors.torch import save_file as torch_save_file
from transformers import AutoModel, AutoTokenizer

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402  (reference_cases, json_line, fresh_dir)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "fixtures/models/tiny-encoder")
OUT = os.path.join(ROOT, "fixtures/mask-tensors")
LINEAR = ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
          "intermediate.dense", "output.dense"]
MODULES = [f"encoder.layer.1.{m}" for m in LINEAR]
SIDE_FILES = ["config.json", "vocab.txt", "tokenizer_config.json", "modules.json", "1_Pooling"]
CASE_INDICES = [0, 6, 7, 12, 14, 19, 31, 37]  # short, two pairs, CJK, emoji, numbers, special tokens, pair cut
MODEL_MAX = 64


def load_base():
    torch.manual_seed(0)
    model = AutoModel.from_pretrained(SRC, attn_implementation="eager")
    model.eval()
    return model


def submodule(model, name):
    m = model
    for part in name.split("."):
        m = getattr(m, part)
    return m


def copy_side_files(dst):
    for name in SIDE_FILES:
        s = os.path.join(SRC, name)
        if os.path.isdir(s):
            shutil.copytree(s, os.path.join(dst, name))
        else:
            shutil.copy(s, os.path.join(dst, name))


def keep_only(folder, names):
    for name in os.listdir(folder):
        if name not in names:
            p = os.path.join(folder, name)
            shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)


def reference(model, out_path):
    tok = AutoTokenizer.from_pretrained(SRC)
    cases = mf.reference_cases()
    lines = []
    for i in CASE_INDICES:
        text, text_b, max_length = cases[i]
        ml = max_length if max_length is not None else MODEL_MAX
        kw = dict(truncation=True, max_length=ml, return_token_type_ids=True)
        enc = tok(text, text_b, **kw) if text_b is not None else tok(text, **kw)
        ids, tt = list(enc["input_ids"]), list(enc["token_type_ids"])
        with torch.no_grad():
            t_ids = torch.tensor([ids], dtype=torch.long)
            mask = torch.ones_like(t_ids)
            out = model(input_ids=t_ids, token_type_ids=torch.tensor([tt], dtype=torch.long), attention_mask=mask)
            hidden = out.last_hidden_state[0].float()
            pooled = out.pooler_output[0].float()
            mean = hidden.mean(0)
        lines.append(mf.json_line([
            ("text", "json", text), ("text_b", "json", text_b), ("max_length", "json", max_length),
            ("input_ids", "json", ids), ("token_type_ids", "json", tt),
            ("last_hidden_state", "floats", hidden.numpy()), ("pooler_output", "floats", pooled.numpy()),
            ("mean_embedding", "floats", mean.numpy())]))
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"  wrote {out_path}: {len(lines)} cases, {os.path.getsize(out_path)} bytes")
    return lines


def main():
    os.makedirs(OUT, exist_ok=True)
    base_sd = load_file(os.path.join(SRC, "model.safetensors"))

    # --- torch.nn.utils.prune: l1_unstructured(amount=0.5) on layer 1's linear weights
    model = load_base()
    for name in MODULES:
        prune.l1_unstructured(submodule(model, name), "weight", amount=0.5)
    sd = model.state_dict()
    for name in MODULES:
        assert f"{name}.weight_orig" in sd and f"{name}.weight_mask" in sd, name
        assert f"{name}.weight" not in sd, name
    masks = {f"{n}.weight": sd[f"{n}.weight_mask"].numpy().astype(np.uint8) for n in MODULES}
    for n, m in masks.items():
        print(f"  {n}: {int((m == 0).sum())} of {m.size} pruned")

    d = os.path.join(OUT, "prune-pretrained")
    mf.fresh_dir(d)
    model.save_pretrained(d, safe_serialization=True)
    keep_only(d, {"model.safetensors"})
    copy_side_files(d)
    written = load_file(os.path.join(d, "model.safetensors"))
    names = sorted(k for k in written if k.startswith("encoder.layer.1.attention.self.query"))
    print(f"  save_pretrained wrote for the query: {names}")
    for n in MODULES:
        assert f"{n}.weight_orig" in written and f"{n}.weight_mask" in written and f"{n}.weight" not in written, n
        assert np.array_equal(written[f"{n}.weight_orig"], base_sd[f"{n}.weight"]), n

    d = os.path.join(OUT, "prune-state-dict")
    mf.fresh_dir(d)
    plain = {k: v.contiguous() for k, v in sd.items()}
    torch_save_file(plain, os.path.join(d, "model.safetensors"))
    torch.save(plain, os.path.join(d, "pytorch_model.bin"))
    copy_side_files(d)

    # The pruned model's outputs, with the pruning made permanent.
    for name in MODULES:
        prune.remove(submodule(model, name), "weight")
    for n, m in masks.items():
        w = submodule(model, n[: -len(".weight")]).weight.detach().numpy()
        assert np.array_equal(w == 0, m == 0), n  # orig * mask: -0.0 where a negative weight is pruned
    reference(model, os.path.join(OUT, "prune.jsonl"))

    # --- NAME.mask tensors beside unmasked weights (the same masks; uint8, the query's as bool)
    d = os.path.join(OUT, "name-mask")
    mf.fresh_dir(d)
    tensors = dict(base_sd)
    for n, m in masks.items():
        tensors[n + ".mask"] = m.astype(np.bool_) if "query" in n else m
    save_file(tensors, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    copy_side_files(d)

    # --- movement pruning: mask_scores beside each weight, keep score > 0
    rng = np.random.default_rng(4400)
    d = os.path.join(OUT, "movement")
    mf.fresh_dir(d)
    tensors = dict(base_sd)
    model = load_base()
    for n in MODULES:
        w = base_sd[f"{n}.weight"]
        scores = rng.standard_normal(w.shape).astype(np.float32)
        tensors[f"{n}.mask_scores"] = scores
        keep = scores > 0.0
        print(f"  {n}: movement keeps {int(keep.sum())} of {w.size}")
        masked = np.where(keep, w, np.float32(0.0)).astype(np.float32)
        with torch.no_grad():
            submodule(model, n).weight.copy_(torch.from_numpy(masked))
    save_file(tensors, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    copy_side_files(d)
    reference(model, os.path.join(OUT, "movement.jsonl"))

    total = 0
    for root, _, files in os.walk(OUT):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    print(f"  fixtures/mask-tensors: {total} bytes")


if __name__ == "__main__":
    main()
