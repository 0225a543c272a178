#!/usr/bin/env python3
"""Writes fixtures/tf/: tiny models of fixtures/models as Google BERT TensorFlow checkpoints.

tiny-classifier: fixtures/models/tiny-classifier as run_classifier.py's fine-tuned checkpoint.

The model's safetensors weights are copied into tf.compat.v1 variables named exactly as Google's BERT
(modeling.py + run_classifier.py) names them: `bert/embeddings/word_embeddings`,
`bert/encoder/layer_N/attention/self/query/kernel` (dense kernels stored [in, out], i.e. the transpose of
the PyTorch weight), `LayerNorm/gamma|beta`, `bert/pooler/dense/...`, and the classifier as
run_classifier.py's `output_weights` [num_labels, hidden] (not transposed) and `output_bias`. Like a real
fine-tuning checkpoint it also holds the AdamWeightDecayOptimizer slots `<var>/adam_m` and `<var>/adam_v`
(seeded random values) and the int64 `global_step`. tf.compat.v1.train.Saver writes the tensor bundle
(`model.ckpt.index`, `model.ckpt.data-00000-of-00001`) and the `checkpoint` state file (relative paths);
`bert_config.json` uses Google's key names (plus `layer_norm_eps`, which Google's code fixes at 1e-12 but
this tiny model sets to 1e-7); `vocab.txt` and `tokenizer_config.json` (do_lower_case false: the model
is cased) are copied from the source folder.

tiny-encoder-f16: fixtures/models/tiny-encoder (BertModel) as a pre-trained checkpoint in half precision:
the embedding tables and their LayerNorm as DT_BFLOAT16, every other weight DT_HALF (cast by numpy /
ml_dtypes, round to nearest even), plus the pretraining heads `cls/predictions/output_bias` [vocab] and
`cls/seq_relationship/output_weights` [2, hidden] / `output_bias` [2] (seeded values) and `global_step`;
no optimizer slots. bert_config.json has Google's keys only (no layer_norm_eps: 1e-12 as Google's code).

Usage: python3 tools/make_tf_fixture.py   (tensorflow-cpu 2.21, numpy, safetensors)
"""
import json
import os
import shutil
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "fixtures", "models", "tiny-classifier")
OUT = os.path.join(ROOT, "fixtures", "tf", "tiny-classifier")
SRC16 = os.path.join(ROOT, "fixtures", "models", "tiny-encoder")
OUT16 = os.path.join(ROOT, "fixtures", "tf", "tiny-encoder-f16")


def load_safetensors(path):
    """A minimal safetensors reader (F32 only): {name: np.ndarray}."""
    with open(path, "rb") as f:
        blob = f.read()
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", (name, e["dtype"])
        b, t = e["data_offsets"]
        out[name] = np.frombuffer(blob[8 + n + b:8 + n + t], dtype="<f4").reshape(e["shape"]).copy()
    return out


def google_names(st, layers, prefix="bert.", classifier=True):
    """(google name, array) pairs in Google's naming, from HF names (`prefix` + canonical name)."""
    pairs = []
    st = {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in st.items()}

    def ln(hf, g):
        pairs.append((g + "/gamma", st[hf + ".weight"]))
        pairs.append((g + "/beta", st[hf + ".bias"]))

    def dense(hf, g):
        pairs.append((g + "/kernel", np.ascontiguousarray(st[hf + ".weight"].T)))
        pairs.append((g + "/bias", st[hf + ".bias"]))

    for part in ["word_embeddings", "position_embeddings", "token_type_embeddings"]:
        pairs.append(("bert/embeddings/" + part, st["embeddings.%s.weight" % part]))
    ln("embeddings.LayerNorm", "bert/embeddings/LayerNorm")
    for l in range(layers):
        hf, g = "encoder.layer.%d." % l, "bert/encoder/layer_%d/" % l
        for part in ["query", "key", "value"]:
            dense(hf + "attention.self." + part, g + "attention/self/" + part)
        dense(hf + "attention.output.dense", g + "attention/output/dense")
        ln(hf + "attention.output.LayerNorm", g + "attention/output/LayerNorm")
        dense(hf + "intermediate.dense", g + "intermediate/dense")
        dense(hf + "output.dense", g + "output/dense")
        ln(hf + "output.LayerNorm", g + "output/LayerNorm")
    dense("pooler.dense", "bert/pooler/dense")
    if classifier:
        pairs.append(("output_weights", st["classifier.weight"]))  # [num_labels, hidden], logits = x W^T
        pairs.append(("output_bias", st["classifier.bias"]))
    return pairs


def google_config(hf, eps=True):
    keys = ["attention_probs_dropout_prob", "hidden_act", "hidden_dropout_prob", "hidden_size", "initializer_range",
            "intermediate_size", "max_position_embeddings", "num_attention_heads", "num_hidden_layers",
            "type_vocab_size", "vocab_size"] + (["layer_norm_eps"] if eps else [])
    return {k: hf[k] for k in keys}


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")


def make_f16(tf):
    """tiny-encoder in bfloat16 (embeddings) and float16 (the rest), with pretraining heads."""
    import ml_dtypes
    with open(os.path.join(SRC16, "config.json")) as f:
        hf = json.load(f)
    st = load_safetensors(os.path.join(SRC16, "model.safetensors"))
    pairs = google_names(st, hf["num_hidden_layers"], prefix="", classifier=False)
    assert len(pairs) == len(st), (len(pairs), len(st))
    rng = np.random.default_rng(4402)
    h, vocab = hf["hidden_size"], hf["vocab_size"]
    heads = [("cls/predictions/output_bias", rng.normal(0, 0.1, [vocab]).astype(np.float32)),
             ("cls/seq_relationship/output_weights", rng.normal(0, 0.2, [2, h]).astype(np.float32)),
             ("cls/seq_relationship/output_bias", rng.normal(0, 0.1, [2]).astype(np.float32))]
    if os.path.isdir(OUT16):
        shutil.rmtree(OUT16)
    os.makedirs(OUT16)
    expected = {}
    graph = tf.Graph()
    with graph.as_default():
        variables = []
        for name, value in pairs + heads:
            if name.startswith("bert/embeddings/"):
                arr, dt = value.astype(ml_dtypes.bfloat16), tf.bfloat16
            else:
                arr, dt = value.astype(np.float16), tf.float16
            expected[name] = arr
            variables.append(tf.compat.v1.get_variable(name, initializer=tf.constant(arr, dtype=dt)))
        variables.append(tf.compat.v1.get_variable("global_step", initializer=tf.constant(7, dtype=tf.int64),
                                                   trainable=False))
        saver = tf.compat.v1.train.Saver(var_list=variables, save_relative_paths=True)
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            saver.save(sess, os.path.join(OUT16, "bert_model.ckpt"), write_meta_graph=False)
    reader = tf.train.load_checkpoint(os.path.join(OUT16, "bert_model.ckpt"))
    for name, arr in expected.items():
        got = reader.get_tensor(name)
        assert got.dtype == arr.dtype and np.array_equal(got.view(np.uint16), arr.view(np.uint16)), name
    write_json(os.path.join(OUT16, "bert_config.json"), google_config(hf, eps=False))
    shutil.copyfile(os.path.join(SRC16, "vocab.txt"), os.path.join(OUT16, "vocab.txt"))


def main():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.compat.v1.disable_eager_execution()
    with open(os.path.join(SRC, "config.json")) as f:
        hf = json.load(f)
    st = load_safetensors(os.path.join(SRC, "model.safetensors"))
    pairs = google_names(st, hf["num_hidden_layers"])
    assert len(pairs) == len(st), (len(pairs), len(st))

    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    rng = np.random.default_rng(4401)
    graph = tf.Graph()
    with graph.as_default():
        variables = []
        for name, value in pairs:
            variables.append(tf.compat.v1.get_variable(name, initializer=tf.constant(value, dtype=tf.float32)))
            # AdamWeightDecayOptimizer's slots, named as in Google's optimization.py.
            for slot in ["adam_m", "adam_v"]:
                init = rng.normal(0, 1e-3, value.shape).astype(np.float32)
                if slot == "adam_v":
                    init = np.abs(init) * 1e-3
                variables.append(tf.compat.v1.get_variable(name + "/" + slot, initializer=tf.constant(init),
                                                           trainable=False))
        step = tf.compat.v1.get_variable("global_step", initializer=tf.constant(123, dtype=tf.int64),
                                         trainable=False)
        variables.append(step)
        saver = tf.compat.v1.train.Saver(var_list=variables, save_relative_paths=True)
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            saver.save(sess, os.path.join(OUT, "model.ckpt"), write_meta_graph=False)

    # Check what was written with TF's own reader.
    reader = tf.train.load_checkpoint(os.path.join(OUT, "model.ckpt"))
    for name, value in pairs:
        got = reader.get_tensor(name)
        assert got.dtype == np.float32 and np.array_equal(got, value), name
    assert reader.get_tensor("global_step") == 123

    write_json(os.path.join(OUT, "bert_config.json"), google_config(hf))
    for name in ["vocab.txt", "tokenizer_config.json"]:
        shutil.copyfile(os.path.join(SRC, name), os.path.join(OUT, name))
    make_f16(tf)
    for out in [OUT, OUT16]:
        total = sum(os.path.getsize(os.path.join(out, n)) for n in os.listdir(out))
        print("wrote %s: %d files, %d bytes (tf %s)" % (out, len(os.listdir(out)), total, tf.__version__))


if __name__ == "__main__":
    sys.exit(main())
