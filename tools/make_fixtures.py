#!/usr/bin/env python3
"""Makes the tiny BERT test models in fixtures/models/ and their reference outputs in fixtures/reference/.

Usage: python3 tools/make_fixtures.py [--out REPO_ROOT]

Writes (deterministic: fixed seeds, CPU, float32):
  fixtures/models/vocab.txt                  shared tiny WordPiece vocabulary (also copied into each model)
  fixtures/models/tiny-encoder/              BertModel, 2 layers, hidden 32, uncased, sentence-transformers mean pooling
  fixtures/models/tiny-classifier/           BertForSequenceClassification, 3 labels, 3 layers, hidden 48, cased, eps 1e-7
  fixtures/models/tiny-classifier-ft/        BertForSequenceClassification whose bert.* equals tiny-encoder exactly, 2 labels
  fixtures/models/tiny-encoder-sharded/      tiny-encoder's weights saved as an index + shards
  fixtures/reference/tiny-encoder.jsonl      per-input tokens and outputs of tiny-encoder
  fixtures/reference/tiny-classifier.jsonl   per-input tokens and outputs (incl. logits) of tiny-classifier
Needs torch (CPU), transformers, numpy.
"""

import argparse
import json
import os
import shutil
import sys

import numpy as np
import torch
import transformers
from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer, BertConfig
from transformers import BertForSequenceClassification, BertModel

sys.dont_write_bytecode = True  # no tools/__pycache__ from importing common_texts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common_texts import LONG_WORD, json_dumps_line_safe  # noqa: E402

try:  # transformers 5 renamed the pure-Python tokenizer; 4.x calls it BertTokenizer
    from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy as SlowBertTokenizer
except ImportError:  # pragma: no cover
    from transformers import BertTokenizer as SlowBertTokenizer


# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

SPECIALS = ["[PAD]", "[unused0]", "[unused1]", "[unused2]", "[unused3]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

WORDS = """
the a an and or but if then of to in on at by for with from about as into over after before
is are was were be been being am has have had do does did will would can could should may might must
i you he she it we they me him her us them my your his its our their this that these those there here
what which who whom whose when where why how all any both each few more most other some such no not only
own same so than too very just also now out up down off again further once because while until
good bad great best better worst worse fine nice terrible awful amazing boring funny sad happy love hate
like liked loved hated enjoy enjoyed watch watched see saw seen make made take took go went come came
movie movies film films story plot actor actors acting scene scenes director music end ending character
characters time times year years day days people man woman world life way thing things part place case
fresh rotten review reviews critic critics performance performances script cast audience
one two three four five six seven eight nine ten first last new old long short big small high low
hello world yes okay well really quite much many little less never always often sometimes ever
think thought know knew say said tell told feel felt look looked seem seemed want wanted give gave
work play played run ran read write wrote
dog dogs cat cats house car city book books water food money school friend friends family
un ##able ##ness ##ful ##less ##ment ##tion ##ity ##ous ##ive ##al ##ize ##ist
##s ##es ##ing ##ed ##ly ##er ##est ##y ##en ##ers ##ings
""".split()

CAPITALISED = ["The", "I", "This", "It", "Hello", "World", "Paris", "London", "John", "Mary", "BERT",
               "English", "Monday", "America", "New", "York", "OK"]

ACCENTED = ["é", "è", "ê", "à", "á", "â", "ä", "ç", "ñ", "ö", "ü", "ß", "ø", "å", "í", "ó", "ú", "É", "Ñ", "Ü",
            "café", "naïve", "##é", "##è", "##ñ", "##ü", "##ö"]

CJK = ["中", "文", "日", "本", "人", "大", "我", "爱", "世", "界"]

EMOJI = ["😀", "❤", "👍"]

EXTRA_NUMBERS = ["10", "20", "100", "2024", "##0", "##1", "##2", "##5", "##00"]


def build_vocab():
    """Returns the list of vocabulary entries; index = token id."""
    vocab = list(SPECIALS)
    vocab += [chr(c) for c in range(33, 127) if not chr(c).isalnum()]  # ASCII punctuation
    vocab += [str(d) for d in range(10)]
    vocab += [chr(c) for c in range(ord("a"), ord("z") + 1)]
    vocab += [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    vocab += ["##" + chr(c) for c in range(ord("a"), ord("z") + 1)]
    vocab += WORDS + CAPITALISED + ACCENTED + CJK + EMOJI + EXTRA_NUMBERS
    seen, out = set(), []
    for tok in vocab:
        if tok not in seen:
            seen.add(tok)
            out.append(tok)
    return out


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------


def init_weights(model, seed):
    """Large-variance init so every weight visibly changes the outputs."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if name.endswith("LayerNorm.weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.2 * torch.randn(p.shape, generator=g))


def write_tokenizer_files(folder, vocab, lower, max_len):
    with open(os.path.join(folder, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocab) + "\n")
    cfg = {
        "do_lower_case": lower,
        "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]",
        "tokenize_chinese_chars": True,
        "strip_accents": None,
        "do_basic_tokenize": True,
        "never_split": None,
        "tokenizer_class": "BertTokenizer",
        "model_max_length": max_len,
    }
    with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")


def write_sentence_transformers_files(folder, hidden):
    os.makedirs(os.path.join(folder, "1_Pooling"), exist_ok=True)
    pooling = {
        "word_embedding_dimension": hidden,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    }
    with open(os.path.join(folder, "1_Pooling", "config.json"), "w") as f:
        json.dump(pooling, f, indent=2)
        f.write("\n")
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]
    with open(os.path.join(folder, "modules.json"), "w") as f:
        json.dump(modules, f, indent=2)
        f.write("\n")


KEEP = {"config.json", "model.safetensors", "model.safetensors.index.json", "vocab.txt", "tokenizer_config.json",
        "modules.json", "1_Pooling"}


def prune(folder):
    """Removes files transformers writes that the fixtures do not need (e.g. generation_config.json)."""
    for name in os.listdir(folder):
        if name in KEEP or (name.startswith("model-") and name.endswith(".safetensors")):
            continue
        path = os.path.join(folder, name)
        print(f"  removing {path}")
        if os.path.isdir(path):
            shutil.rmtree(path)
        else:
            os.remove(path)


def fresh_dir(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    os.makedirs(path)


# ---------------------------------------------------------------------------------------------
# Reference inputs
# ---------------------------------------------------------------------------------------------

WORD_100 = "play" + "ing" * 32  # 100 chars, 33 pieces: play ##ing ##ing ...
WORD_101 = WORD_100 + "s"  # 101 chars: over max_input_chars_per_word, so [UNK]
LONG_A = ("the movie was good and the story was great but the acting was bad and the end was sad " * 6).strip()
LONG_B = ("i think this film is one of the best films of the year because the cast is very good " * 5).strip()


def reference_cases():
    """(text, text_b, max_length) triples; max_length None means the model maximum."""
    return [
        ("the movie was good", None, None),
        ("I liked this film very much.", None, None),
        ("Hello World! This is BERT.", None, None),
        ("hello world", None, None),
        ("HELLO WORLD", None, None),
        ("tHe MoVie WaS gOOd", None, None),
        ("The story", "the plot was bad", None),
        ("is it good?", "yes, it is very good.", None),
        ("Paris and London", "New York", None),
        ("café naïve résumé", None, None),
        ("Café NAÏVE Ñandú über ÜBER", None, None),
        ("cafe\u0301 nai\u0308ve", None, None),  # NFD
        ("我爱中文 and 日本人", None, None),
        ("大世界hello中文", None, None),
        ("i love it 😀 😀😀 ❤ 👍!", None, None),
        ("word😀glued", None, None),
        ("!!!???...,,,", None, None),
        ("((wow)) [yes] {no} <ok>", None, None),
        ("it's John's dog, isn't it?", None, None),
        ("10 20 100 2024 3.14 1,000 42 7%", None, None),
        ("year 2025 and 12345", None, None),
        ("tab\tand\nnewline\r\nand\u00a0nbsp", None, None),
        ("nul\x00bell\x07esc\x1b zero\u200bwidth soft\u00adhyphen bom\ufeff rep\ufffd", None, None),
        ("", None, None),
        ("   ", None, None),
        ("\t\n", None, None),
        ("xylophone quizzical zephyr", None, None),  # pieces only
        ("Xylophone QUIZZICAL Zephyr", None, None),
        ("Ωmega ж ק", None, None),  # characters not in vocab at all
        ("the " + LONG_WORD + " end", None, None),
        (WORD_100 + " " + WORD_101, None, None),  # 100 chars: WordPiece; 101: [UNK]
        ("[CLS] the [MASK] was [SEP] good", None, None),
        ("unhappiness hopeless wonderful", None, None),
        ("playing played plays player", None, None),
        (LONG_A, None, None),                 # truncated to the model maximum
        (LONG_A, None, 16),                   # truncated to 16
        (LONG_A, LONG_B, 24),                 # pair, longest-first: both sides cut
        ("short one", LONG_B, 20),            # pair, only the long side cut
        (LONG_B, "tiny", 12),                 # pair, only the long side cut (first side)
        (LONG_A, LONG_B, None),               # pair truncated to the model maximum
    ]


# ---------------------------------------------------------------------------------------------
# Output formatting
# ---------------------------------------------------------------------------------------------


def f32(x):
    """float32 value printed with 9 significant digits (round-trips float32 exactly)."""
    return "%.9g" % float(np.float32(x))


def floats(arr):
    arr = np.asarray(arr, dtype=np.float32)
    if arr.ndim == 1:
        return "[" + ",".join(f32(v) for v in arr) + "]"
    return "[" + ",".join(floats(row) for row in arr) + "]"


def json_line(fields):
    """fields: list of (key, kind, value); kind 'json' or 'floats'."""
    parts = []
    for key, kind, value in fields:
        rendered = json_dumps_line_safe(value) if kind == "json" else floats(value)
        parts.append(json.dumps(key) + ": " + rendered)
    return "{" + ", ".join(parts) + "}"


# ---------------------------------------------------------------------------------------------
# Reference generation
# ---------------------------------------------------------------------------------------------


def make_reference(folder, out_path, classifier, model_max, lower):
    fast = AutoTokenizer.from_pretrained(folder)
    slow = SlowBertTokenizer(os.path.join(folder, "vocab.txt"), do_lower_case=lower, model_max_length=model_max)
    assert fast.is_fast, "expected the fast tokenizer from AutoTokenizer"
    if classifier:
        model = AutoModelForSequenceClassification.from_pretrained(folder, attn_implementation="eager")
    else:
        model = AutoModel.from_pretrained(folder, attn_implementation="eager")
    model.eval()
    disagreements = []
    lines = []
    for text, text_b, max_length in reference_cases():
        ml = max_length if max_length is not None else model_max
        kw = dict(truncation=True, max_length=ml, return_token_type_ids=True)
        enc = fast(text, text_b, **kw) if text_b is not None else fast(text, **kw)
        senc = slow(text, text_b, **kw) if text_b is not None else slow(text, **kw)
        ids, tt = list(enc["input_ids"]), list(enc["token_type_ids"])
        if ids != list(senc["input_ids"]) or tt != list(senc["token_type_ids"]):
            disagreements.append((text, text_b, ids, list(senc["input_ids"])))
        assert len(ids) <= ml
        with torch.no_grad():
            t_ids = torch.tensor([ids], dtype=torch.long)
            t_tt = torch.tensor([tt], dtype=torch.long)
            mask = torch.ones_like(t_ids)
            bert = model.bert if classifier else model
            out = bert(input_ids=t_ids, token_type_ids=t_tt, attention_mask=mask)
            hidden = out.last_hidden_state[0].float()
            pooled = out.pooler_output[0].float()
            m = mask[0].unsqueeze(-1).float()
            mean = (hidden * m).sum(0) / m.sum()
            fields = [
                ("text", "json", text),
                ("text_b", "json", text_b),
                ("max_length", "json", max_length),
                ("input_ids", "json", ids),
                ("token_type_ids", "json", tt),
                ("last_hidden_state", "floats", hidden.numpy()),
                ("pooler_output", "floats", pooled.numpy()),
                ("mean_embedding", "floats", mean.numpy()),
            ]
            if classifier:
                logits = model(input_ids=t_ids, token_type_ids=t_tt, attention_mask=mask).logits[0]
                check = model.classifier(pooled)
                assert torch.allclose(logits, check, atol=1e-6), "logits != classifier(pooler_output)"
                fields.append(("logits", "floats", logits.numpy()))
        lines.append(json_line(fields))
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"  wrote {out_path}: {len(lines)} cases, {os.path.getsize(out_path)} bytes")
    for text, text_b, a, b in disagreements:
        print(f"  SLOW/FAST DISAGREE on {text!r} / {text_b!r}: fast {a} slow {b}")
    if not disagreements:
        print("  slow and fast tokenizers agree on every case")
    return disagreements


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    help="repository root (default: the one holding this script)")
    args = ap.parse_args()
    transformers.utils.logging.disable_progress_bar()
    torch.manual_seed(0)
    np.random.seed(0)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)

    models_dir = os.path.join(args.out, "fixtures", "models")
    ref_dir = os.path.join(args.out, "fixtures", "reference")
    os.makedirs(models_dir, exist_ok=True)
    os.makedirs(ref_dir, exist_ok=True)
    vocab = build_vocab()
    with open(os.path.join(models_dir, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocab) + "\n")
    print(f"vocab: {len(vocab)} entries")

    # tiny-encoder --------------------------------------------------------------------------
    enc_cfg = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                         intermediate_size=37, max_position_embeddings=64, type_vocab_size=2, hidden_act="gelu",
                         layer_norm_eps=1e-12, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
                         pad_token_id=0)
    enc_cfg.architectures = ["BertModel"]
    encoder = BertModel(enc_cfg)
    init_weights(encoder, seed=1234)
    encoder.eval()
    enc_dir = os.path.join(models_dir, "tiny-encoder")
    fresh_dir(enc_dir)
    encoder.save_pretrained(enc_dir)
    write_tokenizer_files(enc_dir, vocab, lower=True, max_len=64)
    write_sentence_transformers_files(enc_dir, 32)
    prune(enc_dir)

    # tiny-encoder-sharded --------------------------------------------------------------------
    sh_dir = os.path.join(models_dir, "tiny-encoder-sharded")
    fresh_dir(sh_dir)
    encoder.save_pretrained(sh_dir, max_shard_size="60KB")
    write_tokenizer_files(sh_dir, vocab, lower=True, max_len=64)
    write_sentence_transformers_files(sh_dir, 32)
    prune(sh_dir)
    shards = sorted(n for n in os.listdir(sh_dir) if n.startswith("model-"))
    assert 2 <= len(shards) <= 3, f"expected 2-3 shards, got {shards}"
    assert os.path.exists(os.path.join(sh_dir, "model.safetensors.index.json"))

    # tiny-classifier ---------------------------------------------------------------------------
    cls_cfg = BertConfig(vocab_size=len(vocab), hidden_size=48, num_hidden_layers=3, num_attention_heads=6,
                         intermediate_size=64, max_position_embeddings=40, type_vocab_size=2, hidden_act="gelu",
                         layer_norm_eps=1e-7, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
                         pad_token_id=0, num_labels=3,
                         id2label={0: "negative", 1: "neutral", 2: "positive"},
                         label2id={"negative": 0, "neutral": 1, "positive": 2})
    cls_cfg.architectures = ["BertForSequenceClassification"]
    classifier = BertForSequenceClassification(cls_cfg)
    init_weights(classifier, seed=5678)
    classifier.eval()
    cls_dir = os.path.join(models_dir, "tiny-classifier")
    fresh_dir(cls_dir)
    classifier.save_pretrained(cls_dir)
    write_tokenizer_files(cls_dir, vocab, lower=False, max_len=40)
    prune(cls_dir)

    # tiny-classifier-ft: bert.* = tiny-encoder, fresh 2-label head --------------------------------
    ft_cfg = BertConfig.from_dict(enc_cfg.to_dict())
    ft_cfg.num_labels = 2
    ft_cfg.id2label = {0: "rotten", 1: "fresh"}
    ft_cfg.label2id = {"rotten": 0, "fresh": 1}
    ft_cfg.architectures = ["BertForSequenceClassification"]
    ft = BertForSequenceClassification(ft_cfg)
    init_weights(ft, seed=9012)
    missing, unexpected = ft.bert.load_state_dict(encoder.state_dict(), strict=True)
    assert not missing and not unexpected
    ft.eval()
    ft_dir = os.path.join(models_dir, "tiny-classifier-ft")
    fresh_dir(ft_dir)
    ft.save_pretrained(ft_dir)
    write_tokenizer_files(ft_dir, vocab, lower=True, max_len=64)
    prune(ft_dir)

    # check what was written ---------------------------------------------------------------------
    from safetensors.numpy import load_file
    enc_t = load_file(os.path.join(enc_dir, "model.safetensors"))
    ft_t = load_file(os.path.join(ft_dir, "model.safetensors"))
    sh_t = {}
    for s in shards:
        sh_t.update(load_file(os.path.join(sh_dir, s)))
    assert set(sh_t) == set(enc_t) and all(np.array_equal(sh_t[k], enc_t[k]) for k in enc_t)
    for k, v in enc_t.items():
        assert np.array_equal(ft_t["bert." + k], v), f"ft bert.{k} differs from tiny-encoder"
    extra = sorted(k for k in ft_t if not k.startswith("bert."))
    assert extra == ["classifier.bias", "classifier.weight"], extra
    print(f"tiny-encoder tensors: {len(enc_t)}; ft extra tensors: {extra}")

    # references ------------------------------------------------------------------------------------
    d1 = make_reference(enc_dir, os.path.join(ref_dir, "tiny-encoder.jsonl"), False, 64, True)
    d2 = make_reference(cls_dir, os.path.join(ref_dir, "tiny-classifier.jsonl"), True, 40, False)
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, numpy {np.__version__}")
    print(f"slow/fast disagreements: tiny-encoder {len(d1)}, tiny-classifier {len(d2)}")


if __name__ == "__main__":
    main()
