"""The token ids `bertrun bench` times (Sources/BertDriver/Bench/BenchInputs.swift), rebuilt in numpy so the
peers in tools/bench_peers.py run exactly the same inputs.

Every row has exactly `seq` tokens: ids drawn from lo..vocab-1 by SplitMix64 seeded 0x5EED (one generator per
batch, rows drawn one after another), lo = 1000 (vocab/2 when the vocabulary has at most 1000 entries), then
the first id set to [CLS] and the last to [SEP]; token types 0; attention mask 1. Needs only numpy (it is
imported by both the ONNX Runtime and the DeepSparse venvs).
"""
import os

import numpy as np

SEED = 0x5EED
MASK64 = (1 << 64) - 1


def splitmix64(seed):
    """Yields SplitMix64 outputs, bit-identical to BenchInputs.swift's SplitMix64."""
    state = seed & MASK64
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        yield z ^ (z >> 31)


def read_vocab(model_dir):
    """vocab.txt lines (the line number is the token id), like WordPieceTokenizer.loadVocab."""
    with open(os.path.join(model_dir, "vocab.txt"), "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [ln[:-1] if ln.endswith(b"\r") else ln for ln in lines]


def special_ids(vocab):
    """(cls, sep) ids: the first [CLS] and [SEP] lines."""
    return vocab.index(b"[CLS]"), vocab.index(b"[SEP]")


def batch(vocab_size, cls, sep, batch_size, seq, seed=SEED):
    """{input_ids, token_type_ids, attention_mask}: int64 [batch_size, seq]."""
    lo = 1000 if vocab_size > 1000 else vocab_size // 2
    span = max(1, vocab_size - lo)
    gen = splitmix64(seed)
    ids = np.empty((batch_size, seq), dtype=np.int64)
    for b in range(batch_size):
        for s in range(seq):
            ids[b, s] = lo + next(gen) % span
        ids[b, 0], ids[b, seq - 1] = cls, sep
    return {"input_ids": ids, "token_type_ids": np.zeros_like(ids), "attention_mask": np.ones_like(ids)}


def for_model(model_dir, batch_size, seq):
    """The bench batch for the vocabulary in model_dir."""
    vocab = read_vocab(model_dir)
    cls, sep = special_ids(vocab)
    return batch(len(vocab), cls, sep, batch_size, seq)
