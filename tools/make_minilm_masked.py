#!/usr/bin/env python3
"""Makes a masked copy of all-MiniLM-L6-v2 (10% of the entries of every linear weight of encoder layers 3, 4 and 5
set to 0.0) and its reference sentence embeddings.

Usage: python3 tools/make_minilm_masked.py [BASE_DIR] [OUT_DIR] [--model-only] [--embeddings PATH]
       --seed N, --fraction F (with --model-only): another mask of the same layers (tools/bench_tasks.py makes 8)

BASE_DIR  all-MiniLM-L6-v2 as fetched by tools/fetch_minilm.sh (default <repo>/.models/all-MiniLM-L6-v2)
OUT_DIR   where the masked model goes (default <repo>/.models/minilm-masked10; 90 MB, not committed)

The masked model is deterministic (same bytes on every run and machine): for each of the 18 weights, in sorted
name order, one numpy Generator (default_rng(SEED)) draws uniform numbers for every entry and the
round(0.1 * n) entries with the smallest draws become 0.0. Every other tensor, the tensor order, the header and
the side files (config, vocab, tokenizer files, 1_Pooling, modules.json, ...) are copied unchanged. The
safetensors file is read and written by the small pure-Python code below (struct + json + numpy), so this part
needs only python3 and numpy (no torch, no safetensors package). When the safetensors package is installed the
script also checks that its own file is bit-identical to safetensors.numpy.save_file's.

Unless --model-only, it then writes fixtures/minilm-masked/embeddings.jsonl (or PATH): for the first 200 texts of
fixtures/minilm/embeddings.jsonl, transformers AutoModel on OUT_DIR (CPU, float32, eager attention, one sentence
at a time), attention-mask mean pooling, L2 normalisation, 8 significant digits, in the format of
fixtures/minilm/embeddings.jsonl. That part needs torch, transformers and tokenizers.
"""

import argparse
import filecmp
import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile

sys.dont_write_bytecode = True  # no tools/__pycache__ from importing common_texts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = 20200826  # AISTATS 2020
FRACTION = 0.10
LAYERS = (3, 4, 5)
LINEAR = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
          "intermediate.dense", "output.dense")
N_TEXTS = 200
MARKER = ".made-by-make_minilm_masked"  # lets a rerun replace OUT_DIR without touching a folder it did not make
SKIP_FILES = {"model.safetensors", "README.md", ".gitattributes"}  # model card describes the unmasked model

# ---------------------------------------------------------------------------------------------
# Minimal safetensors reader/writer (format: u64 LE header length, JSON header, raw little-endian data)
# ---------------------------------------------------------------------------------------------

DTYPE_SIZE = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
              "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8}
# order of safetensors' Dtype enum; save_file lays tensors out by this order descending, then by name
DTYPE_RANK = {d: i for i, d in enumerate(["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16",
                                          "I32", "U32", "F32", "F64", "I64", "U64"])}
MAX_HEADER = 100_000_000


class SafetensorsError(Exception):
    pass


def read_safetensors(path):
    """Returns (metadata or None, {name: (dtype, shape, bytes)}) in file order; checks every length and offset."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise SafetensorsError(f"{path}: {len(blob)} bytes, shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > MAX_HEADER or 8 + n > len(blob):
        raise SafetensorsError(f"{path}: header length {n} exceeds the file size {len(blob)}")
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise SafetensorsError(f"{path}: header is not JSON: {e}")
    if not isinstance(header, dict):
        raise SafetensorsError(f"{path}: header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
        raise SafetensorsError(f"{path}: __metadata__ is not a string map")
    data = memoryview(blob)[8 + n:]
    tensors, spans = {}, []
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise SafetensorsError(f"{path}: tensor {name!r}: bad entry")
        dtype, shape, offs = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in DTYPE_SIZE:
            raise SafetensorsError(f"{path}: tensor {name!r}: unsupported dtype {dtype!r}")
        if not (isinstance(shape, list) and all(type(d) is int and d >= 0 for d in shape)):
            raise SafetensorsError(f"{path}: tensor {name!r}: bad shape {shape!r}")
        if not (isinstance(offs, list) and len(offs) == 2 and all(type(o) is int for o in offs)
                and 0 <= offs[0] <= offs[1] <= len(data)):
            raise SafetensorsError(f"{path}: tensor {name!r}: data_offsets {offs!r} outside {len(data)} data bytes")
        count = 1
        for d in shape:
            count *= d
        if count * DTYPE_SIZE[dtype] != offs[1] - offs[0]:
            raise SafetensorsError(f"{path}: tensor {name!r}: {offs[1] - offs[0]} bytes for {dtype}{shape}")
        spans.append((offs[0], offs[1], name))
        tensors[name] = (dtype, list(shape), bytes(data[offs[0]:offs[1]]))
    spans.sort()
    end = 0
    for start, stop, name in spans:
        if start != end:
            raise SafetensorsError(f"{path}: tensor {name!r} starts at {start}, expected {end} (gap or overlap)")
        end = stop
    if end != len(data):
        raise SafetensorsError(f"{path}: {len(data) - end} bytes after the last tensor")
    order = {name: i for i, (_, _, name) in enumerate(spans)}
    return metadata, dict(sorted(tensors.items(), key=lambda kv: order[kv[0]]))


def safetensors_bytes(tensors, metadata=None):
    """The file safetensors' save_file writes: tensors ordered by dtype rank descending then name, compact JSON
    header ("__metadata__" first) padded with spaces to a multiple of 8."""
    names = sorted(tensors, key=lambda k: (-DTYPE_RANK[tensors[k][0]], k.encode("utf-8")))
    header, offset = {}, 0
    if metadata:
        header["__metadata__"] = dict(sorted(metadata.items()))
    for name in names:
        dtype, shape, data = tensors[name]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return b"".join([struct.pack("<Q", len(text)), text] + [tensors[n][2] for n in names])


# ---------------------------------------------------------------------------------------------
# Masking
# ---------------------------------------------------------------------------------------------


def target_names(tensors):
    prefix = "bert." if "bert.embeddings.word_embeddings.weight" in tensors else ""
    names = [f"{prefix}encoder.layer.{i}.{m}.weight" for i in LAYERS for m in LINEAR]
    for n in names:
        if n not in tensors:
            raise SafetensorsError(f"base model has no tensor {n}")
        if tensors[n][0] != "F32" or len(tensors[n][1]) != 2:
            raise SafetensorsError(f"{n}: expected a 2-D F32 weight, found {tensors[n][0]}{tensors[n][1]}")
    return sorted(names)


def mask_tensors(tensors, seed=SEED, fraction=FRACTION):
    """Returns (masked tensors, {name: (zeroed count, size, zeros after masking)})."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out, stats = dict(tensors), {}
    for name in target_names(tensors):
        dtype, shape, data = tensors[name]
        w = np.frombuffer(data, dtype="<f4").copy()
        k = int(round(fraction * w.size))
        chosen = np.argsort(rng.random(w.size), kind="stable")[:k]
        w[chosen] = np.float32(0.0)
        out[name] = (dtype, shape, w.tobytes())
        stats[name] = (k, w.size, int(np.count_nonzero(w == 0)))
    return out, stats


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def same_tree(a, b):
    """True when folders a and b hold the same files with the same bytes."""
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    return not mismatch and not errors and all(same_tree(os.path.join(a, d), os.path.join(b, d))
                                               for d in cmp.common_dirs)


def write_masked_model(base_dir, out_dir, seed=SEED, fraction=FRACTION):
    base_file = os.path.join(base_dir, "model.safetensors")
    for name in ("config.json", "model.safetensors", "vocab.txt"):
        if not os.path.isfile(os.path.join(base_dir, name)):
            raise SafetensorsError(f"{base_dir} has no {name} (run tools/fetch_minilm.sh)")
    metadata, tensors = read_safetensors(base_file)
    masked, stats = mask_tensors(tensors, seed, fraction)
    blob = safetensors_bytes(masked, metadata)

    parent = os.path.dirname(os.path.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".minilm-masked.", dir=parent)
    os.chmod(tmp, 0o755)  # mkdtemp makes it 0700
    try:
        with open(os.path.join(tmp, "model.safetensors"), "wb") as f:
            f.write(blob)
        for entry in sorted(os.listdir(base_dir)):
            src = os.path.join(base_dir, entry)
            if entry in SKIP_FILES or entry.startswith(".fetch") or entry == MARKER:
                continue
            if os.path.isdir(src):
                shutil.copytree(src, os.path.join(tmp, entry))
            else:
                shutil.copyfile(src, os.path.join(tmp, entry))
        with open(os.path.join(tmp, MARKER), "w") as f:
            f.write(json.dumps({"base_sha256": sha256(base_file), "seed": seed, "fraction": fraction,
                                "layers": list(LAYERS)}, sort_keys=True) + "\n")
        if os.path.isdir(out_dir) and same_tree(tmp, out_dir):
            print(f"{out_dir} is up to date")
        else:
            if os.path.exists(out_dir):
                if not os.path.isfile(os.path.join(out_dir, MARKER)):
                    raise SafetensorsError(f"{out_dir} exists and was not made by this script; remove it first")
                old = tempfile.mkdtemp(prefix=".minilm-masked-old.", dir=parent)
                os.rename(out_dir, os.path.join(old, "x"))
                shutil.rmtree(old)
            os.rename(tmp, out_dir)
            tmp = None
            print(f"wrote {out_dir}")
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return tensors, masked, metadata, stats


def check_against_safetensors_package(base_dir, out_dir, tensors, masked, metadata):
    """Bit-exact cross-check with the safetensors package, when it is installed."""
    try:
        import numpy as np
        from safetensors.numpy import load_file, save_file
    except ImportError:
        print("safetensors package not installed: skipped the cross-check")
        return
    np_dtype = {"F32": np.float32, "I64": np.int64, "F16": np.float16, "I32": np.int32, "U8": np.uint8,
                "I8": np.int8, "F64": np.float64, "BOOL": np.bool_, "I16": np.int16, "U16": np.uint16}
    ref = load_file(os.path.join(base_dir, "model.safetensors"))
    assert set(ref) == set(tensors)
    for name, (dtype, shape, data) in tensors.items():
        assert ref[name].tobytes() == data and list(ref[name].shape) == shape, f"reader differs on {name}"
    arrays = {n: np.frombuffer(d, dtype=np.dtype(np_dtype[t]).newbyteorder("<")).reshape(s)
              for n, (t, s, d) in masked.items()}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.safetensors")
        save_file(arrays, path, metadata=metadata)
        with open(path, "rb") as a, open(os.path.join(out_dir, "model.safetensors"), "rb") as b:
            same = a.read() == b.read()
    if not same:
        raise SafetensorsError("the pure-Python writer's file differs from safetensors.numpy.save_file's")
    back = load_file(os.path.join(out_dir, "model.safetensors"))
    assert all(back[n].tobytes() == masked[n][2] for n in masked)
    print("cross-check: pure-Python reader and writer agree bit-exactly with the safetensors package")


# ---------------------------------------------------------------------------------------------
# Reference embeddings
# ---------------------------------------------------------------------------------------------


def write_embeddings(out_dir, path):
    import numpy as np
    try:
        import tokenizers
        import torch
        import transformers
        from transformers import AutoModel
    except ImportError as e:
        sys.exit(f"make_minilm_masked.py: the embeddings need torch, transformers and tokenizers ({e}); "
                 "use --model-only to write just the masked model")

    from common_texts import json_dumps_line_safe

    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    torch.manual_seed(0)
    torch.set_num_threads(1)

    with open(os.path.join(REPO, "fixtures", "minilm", "embeddings.jsonl"), encoding="utf-8") as f:
        unmasked = [json.loads(line) for line in f][:N_TEXTS]
    fast = tokenizers.Tokenizer.from_file(os.path.join(out_dir, "tokenizer.json"))
    fast.no_truncation()
    fast.no_padding()
    model = AutoModel.from_pretrained(out_dir, attn_implementation="eager", dtype=torch.float32)
    model.eval()
    lines, max_diff, min_cos = [], 0.0, 1.0
    for row in unmasked:
        text = row["text"]
        ids = fast.encode(text, add_special_tokens=True).ids
        if ids != row["input_ids"]:
            raise SystemExit(f"make_minilm_masked.py: token ids of {text[:60]!r} differ from fixtures/minilm")
        with torch.no_grad():
            t = torch.tensor([ids], dtype=torch.long)
            mask = torch.ones_like(t)
            out = model(input_ids=t, attention_mask=mask, token_type_ids=torch.zeros_like(t))
            h = out.last_hidden_state[0]
            m = mask[0].unsqueeze(-1).to(h.dtype)
            mean = (h * m).sum(0) / m.sum().clamp(min=1e-9)
            emb = torch.nn.functional.normalize(mean, p=2, dim=0)
        e = emb.numpy().astype(np.float32)
        base = np.asarray(row["embedding"], dtype=np.float64)
        max_diff = max(max_diff, float(np.max(np.abs(e - base))))
        min_cos = min(min_cos, float(np.dot(e, base) / np.linalg.norm(base)))
        vals = ",".join("%.8g" % float(np.float32(v)) for v in e)
        lines.append('{"text": ' + json_dumps_line_safe(text) + ', "input_ids": ' + json_dumps_line_safe(ids)
                     + ', "embedding": [' + vals + "]}")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {path}: {len(lines)} lines, {os.path.getsize(path)} bytes")
    print(f"masked vs unmasked embeddings: max |diff| {max_diff:.4g}, min cosine {min_cos:.6f}")
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, tokenizers {tokenizers.__version__}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("base_dir", nargs="?", default=os.path.join(REPO, ".models", "all-MiniLM-L6-v2"))
    ap.add_argument("out_dir", nargs="?", default=os.path.join(REPO, ".models", "minilm-masked10"))
    ap.add_argument("--model-only", action="store_true", help="write the masked model only (no torch needed)")
    ap.add_argument("--embeddings", default=os.path.join(REPO, "fixtures", "minilm-masked", "embeddings.jsonl"))
    ap.add_argument("--seed", type=int, default=SEED, help=f"mask seed (default {SEED}; other tasks: other seeds)")
    ap.add_argument("--fraction", type=float, default=FRACTION, help=f"fraction zeroed per weight (default {FRACTION})")
    args = ap.parse_args()
    if not 0.0 <= args.fraction <= 1.0:
        sys.exit("make_minilm_masked.py: error: --fraction must be in [0, 1]")
    if (args.seed, args.fraction) != (SEED, FRACTION) and not args.model_only:
        sys.exit("make_minilm_masked.py: error: the committed reference embeddings are for the default mask; "
                 "use --model-only with --seed or --fraction")
    try:
        import numpy  # noqa: F401
    except ImportError:
        sys.exit("make_minilm_masked.py: needs numpy (python3 -m pip install numpy)")
    try:
        tensors, masked, metadata, stats = write_masked_model(args.base_dir, args.out_dir, args.seed, args.fraction)
        for name, (k, n, zeros) in sorted(stats.items()):
            print(f"  {name}: zeroed {k}/{n} = {k / n:.4f} (zeros now {zeros})")
        check_against_safetensors_package(args.base_dir, args.out_dir, tensors, masked, metadata)
    except SafetensorsError as e:
        sys.exit(f"make_minilm_masked.py: error: {e}")
    print(f"model.safetensors sha256 {sha256(os.path.join(args.out_dir, 'model.safetensors'))}")
    if not args.model_only:
        write_embeddings(args.out_dir, args.embeddings)


if __name__ == "__main__":
    main()
