#!/usr/bin/env python3
"""Writes the BERT-base-shaped benchmark models for `bertrun bench` (issue 5) as Hugging Face folders.

Usage: python3 tools/make_bench_models.py [OUT]      (OUT defaults to <repo>/.models/bench; ~1.3 GB, not committed)

OUT/bert-base-random     BertModel, 12 layers, hidden 768, 12 heads, intermediate 3072, vocab 30522, max_pos 512;
                         every weight and bias drawn from normal(0, 0.02), LayerNorm gamma 1 and beta 0.
OUT/bert-base-pruned90   the same weights with 90% of every encoder linear weight (q, k, v, attention output,
                         intermediate, output) set to 0.0 by magnitude, per tensor (the round(0.9 * n) entries of
                         smallest |w|, ties broken by position).
OUT/bert-base-masked10   the same weights with 10% of every encoder linear weight set to 0.0 at random (per tensor,
                         the round(0.1 * n) entries with the smallest uniform draws): a masked task over
                         bert-base-random as its base (compile it with --base OUT/bert-base-random).

Deterministic: one numpy Generator (default_rng(SEED)) draws the weights in sorted tensor-name order; the mask of
each tensor comes from default_rng([SEED, i]) with i its index in sorted order. numpy only (no torch): the
safetensors file is written by tools/make_minilm_masked.py's pure-Python writer. vocab.txt is copied from
fixtures/minilm/vocab.txt.
"""

import json
import os
import shutil
import sys

import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_minilm_masked import safetensors_bytes  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = 5
LAYERS, HIDDEN, HEADS, INTER, VOCAB, MAX_POS, TYPES = 12, 768, 12, 3072, 30522, 512, 2
LINEAR = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
          "intermediate.dense", "output.dense")

CONFIG = {
    "architectures": ["BertModel"], "model_type": "bert", "attention_probs_dropout_prob": 0.1,
    "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": HIDDEN, "initializer_range": 0.02,
    "intermediate_size": INTER, "layer_norm_eps": 1e-12, "max_position_embeddings": MAX_POS,
    "num_attention_heads": HEADS, "num_hidden_layers": LAYERS, "pad_token_id": 0,
    "position_embedding_type": "absolute", "type_vocab_size": TYPES, "vocab_size": VOCAB, "dtype": "float32",
}


def shapes():
    """Every tensor of a BertModel of this shape, by name."""
    s = {
        "embeddings.word_embeddings.weight": (VOCAB, HIDDEN),
        "embeddings.position_embeddings.weight": (MAX_POS, HIDDEN),
        "embeddings.token_type_embeddings.weight": (TYPES, HIDDEN),
        "embeddings.LayerNorm.weight": (HIDDEN,), "embeddings.LayerNorm.bias": (HIDDEN,),
        "pooler.dense.weight": (HIDDEN, HIDDEN), "pooler.dense.bias": (HIDDEN,),
    }
    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        for name in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
            s[p + name + ".weight"] = (HIDDEN, HIDDEN)
            s[p + name + ".bias"] = (HIDDEN,)
        s[p + "intermediate.dense.weight"] = (INTER, HIDDEN)
        s[p + "intermediate.dense.bias"] = (INTER,)
        s[p + "output.dense.weight"] = (HIDDEN, INTER)
        s[p + "output.dense.bias"] = (HIDDEN,)
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            s[p + ln + ".weight"] = (HIDDEN,)
            s[p + ln + ".bias"] = (HIDDEN,)
    return s


def is_encoder_linear_weight(name):
    return name.startswith("encoder.layer.") and name.endswith(".weight") and any(f".{l}." in name for l in LINEAR)


def random_weights():
    rng = np.random.default_rng(SEED)
    out = {}
    for name, shape in sorted(shapes().items()):
        if "LayerNorm" in name:
            out[name] = np.full(shape, 1.0 if name.endswith(".weight") else 0.0, dtype=np.float32)
        else:
            out[name] = rng.normal(0.0, 0.02, size=shape).astype(np.float32)
    return out


def magnitude_pruned(w, fraction):
    flat = w.reshape(-1)
    k = int(round(fraction * flat.size))
    order = np.argsort(np.abs(flat), kind="stable")  # smallest |w| first, ties by position
    out = flat.copy()
    out[order[:k]] = 0.0
    return out.reshape(w.shape)


def random_masked(w, fraction, index):
    flat = w.reshape(-1)
    k = int(round(fraction * flat.size))
    draws = np.random.default_rng([SEED, index]).random(flat.size)
    out = flat.copy()
    out[np.argsort(draws, kind="stable")[:k]] = 0.0
    return out.reshape(w.shape)


def write_model(out_dir, weights):
    os.makedirs(out_dir, exist_ok=True)
    tensors = {n: ("F32", w.shape, np.ascontiguousarray(w, dtype="<f4").tobytes()) for n, w in weights.items()}
    data = safetensors_bytes(tensors, {"format": "pt"})
    tmp = os.path.join(out_dir, "model.safetensors.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, os.path.join(out_dir, "model.safetensors"))
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2, sort_keys=True)
        f.write("\n")
    shutil.copyfile(os.path.join(REPO, "fixtures", "minilm", "vocab.txt"), os.path.join(out_dir, "vocab.txt"))
    print(f"wrote {out_dir} ({len(data)} bytes of safetensors)")


def main():
    if len(sys.argv) > 2 or (len(sys.argv) == 2 and sys.argv[1] in ("-h", "--help")):
        print(__doc__)
        return 0 if len(sys.argv) == 2 else 64
    out = sys.argv[1] if len(sys.argv) == 2 else os.path.join(REPO, ".models", "bench")
    base = random_weights()
    write_model(os.path.join(out, "bert-base-random"), base)
    names = sorted(base)
    pruned = {n: magnitude_pruned(w, 0.9) if is_encoder_linear_weight(n) else w for n, w in base.items()}
    write_model(os.path.join(out, "bert-base-pruned90"), pruned)
    del pruned
    masked = {n: random_masked(w, 0.1, names.index(n)) if is_encoder_linear_weight(n) else w for n, w in base.items()}
    write_model(os.path.join(out, "bert-base-masked10"), masked)
    return 0


if __name__ == "__main__":
    sys.exit(main())
