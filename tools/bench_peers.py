#!/usr/bin/env python3
"""Peer benchmark (issue 5): bertrun against ONNX Runtime on the same BERT encoder, shapes and thread counts.

    python3 tools/bench_peers.py MODEL_DIR [--bertrun PATH] [--batch 1,8] [--seq 128,32] [--threads 1,2]
                                 [--runs N] [--warmup N] [--check REF.jsonl] [--skip-bertrun]

Creates (or reuses) the venv .models/venv-peers with onnxruntime, onnx and numpy, re-runs itself inside it,
builds MODEL_DIR as ONNX without torch (tools/onnx_bert.py), compiles it with bertc into .models/peers/NAME.bin,
runs `bertrun bench --json` and ONNX Runtime (intra_op_num_threads = threads, sequential execution) in the
same run, and prints: shape, threads, bertrun median ms, ORT median ms, bertrun/ORT.
--check compares ORT's last_hidden_state with a fixtures/reference/*.jsonl file (max abs diff <= 1e-4).
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".models", "venv-peers")
OUT = os.path.join(ROOT, ".models", "peers")


def fail(msg):
    print(f"bench_peers.py: {msg}", file=sys.stderr)
    sys.exit(1)


def int_list(s):
    try:
        v = [int(x) for x in s.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {s!r}")
    if not v or any(x < 1 for x in v):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {s!r}")
    return v


def ensure_venv():
    """Re-executes this script inside .models/venv-peers (created and filled on first use)."""
    py = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.path.exists(py):
        print(f"# creating {VENV}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    probe = subprocess.run([py, "-c", "import onnxruntime, onnx, numpy"], capture_output=True)
    if probe.returncode != 0:
        subprocess.run([py, "-m", "pip", "install", "-q", "onnxruntime", "onnx", "numpy"], check=True)
    os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])


def swift_bins(scratch):
    """Release build of bertc and bertrun; returns the bin directory."""
    base = ["swift", "build", "-c", "release", "--scratch-path", scratch]
    r = subprocess.run(base, cwd=ROOT)
    if r.returncode != 0:
        fail("swift build -c release failed (pass --bertrun PATH to use an existing binary)")
    return subprocess.run(base + ["--show-bin-path"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def run_bertrun(args, name):
    if args.bertrun:
        bertrun = args.bertrun
        bertc = args.bertc or os.path.join(os.path.dirname(bertrun), "bertc")
    else:
        bindir = swift_bins(args.scratch)
        bertrun, bertc = os.path.join(bindir, "bertrun"), os.path.join(bindir, "bertc")
    for b in (bertrun, bertc):
        if not os.access(b, os.X_OK):
            fail(f"{b}: not an executable")
    artifact = os.path.join(OUT, name + ".bin")
    r = subprocess.run([bertc, "compile", args.model_dir, "-o", artifact], cwd=ROOT)
    if r.returncode != 0:
        fail(f"bertc compile {args.model_dir} failed")
    jpath = os.path.join(OUT, name + ".bertrun.json")
    cmd = [bertrun, "bench", artifact, "--batch", ",".join(map(str, args.batch)), "--seq", ",".join(map(str, args.seq)),
           "--threads", ",".join(map(str, args.threads)), "--runs", str(args.runs), "--warmup", str(args.warmup),
           "--json", jpath]
    r = subprocess.run(cmd, cwd=ROOT)
    if r.returncode != 0:
        fail("bertrun bench failed")
    with open(jpath) as f:
        data = json.load(f)
    out = {}
    for row in data.get("results", []):
        out[(row["batch"], row["seq"], row["threads"])] = (row["median_ms"], row.get("p90_ms"))
    return out


def ort_session(model_path, threads):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])


def bench_inputs(batch, seq, vocab, rng):
    """Like bertrun bench: [CLS], random ids from 1000..vocab-1, [SEP]; all rows exactly seq tokens."""
    import numpy as np
    lo = 1000 if vocab > 1001 else 1
    ids = rng.integers(lo, vocab, size=(batch, seq), dtype=np.int64)
    ids[:, 0], ids[:, -1] = 101 % vocab, 102 % vocab
    return {"input_ids": ids, "token_type_ids": np.zeros_like(ids), "attention_mask": np.ones_like(ids)}


def check(model_path, ref_path):
    import numpy as np
    sess = ort_session(model_path, 1)
    worst, n = 0.0, 0
    with open(ref_path) as f:
        for line in f:
            if not line.strip():
                continue
            rec = json.loads(line)
            ids = np.array([rec["input_ids"]], dtype=np.int64)
            tt = np.array([rec.get("token_type_ids") or [0] * ids.shape[1]], dtype=np.int64)
            out = sess.run(["last_hidden_state"], {"input_ids": ids, "token_type_ids": tt,
                                                   "attention_mask": np.ones_like(ids)})[0][0]
            ref = np.array(rec["last_hidden_state"], dtype=np.float32)
            if ref.shape != out.shape:
                fail(f"{ref_path}: record {n}: reference shape {ref.shape} vs ONNX {out.shape}")
            worst = max(worst, float(np.abs(ref - out).max()))
            n += 1
    ok = worst <= 1e-4
    print(f"# check {ref_path}: {n} records, max |ORT - reference| = {worst:.3g} ({'ok' if ok else 'FAIL'}, tol 1e-4)")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model_dir")
    ap.add_argument("--bertrun", help="bertrun binary (default: swift build -c release in this repo)")
    ap.add_argument("--bertc", help="bertc binary (default: next to bertrun)")
    ap.add_argument("--scratch", default=os.path.join(ROOT, ".build-peers-rel"), help="swift build scratch path")
    ap.add_argument("--batch", type=int_list, default=[1, 8])
    ap.add_argument("--seq", type=int_list, default=[128, 32])
    ap.add_argument("--threads", type=int_list, default=[1, 2])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--check", help="reference .jsonl with input_ids and last_hidden_state")
    ap.add_argument("--skip-bertrun", action="store_true", help="only run ONNX Runtime")
    args = ap.parse_args()
    if args.runs < 1 or args.warmup < 0:
        fail("--runs must be >= 1 and --warmup >= 0")
    if not os.path.isdir(args.model_dir):
        fail(f"{args.model_dir}: not a directory")
    ensure_venv()

    import numpy as np
    import onnxruntime as ort
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import onnx_bert

    name = os.path.basename(os.path.normpath(args.model_dir))
    os.makedirs(OUT, exist_ok=True)
    onnx_path = os.path.join(OUT, name + ".onnx")
    try:
        model, cfg = onnx_bert.build_model(args.model_dir)
    except (onnx_bert.OnnxBertError, Exception) as e:  # noqa: B014 - reader errors are plain exceptions too
        fail(f"{args.model_dir}: cannot build ONNX graph: {e}")
    onnx_bert.save(model, onnx_path)
    if max(args.seq) > cfg.get("max_position_embeddings", 512):
        fail(f"--seq {max(args.seq)} exceeds the model's {cfg.get('max_position_embeddings')} positions")

    ok = True
    if args.check:
        ok = check(onnx_path, args.check)

    bert = {} if args.skip_bertrun else run_bertrun(args, name)

    rng = np.random.default_rng(0)
    vocab = cfg.get("vocab_size", 30522)
    ortres = {}
    for t in args.threads:
        sess = ort_session(onnx_path, t)
        for b in args.batch:
            for s in args.seq:
                feed = bench_inputs(b, s, vocab, rng)
                for _ in range(args.warmup):
                    sess.run(None, feed)
                samples = []
                for _ in range(args.runs):
                    t0 = time.perf_counter()
                    sess.run(None, feed)
                    samples.append(time.perf_counter() - t0)
                ortres[(b, s, t)] = float(np.median(samples)) * 1e3

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    print(f"\n# {name}: bertrun vs ONNX Runtime {ort.__version__}; {cpu}, {os.cpu_count()} cpus; "
          f"medians of {args.runs} runs after {args.warmup} warm-up")
    print("| batch x seq | threads | bertrun ms | ORT ms | bertrun/ORT |")
    print("|---|---|---|---|---|")
    for t in args.threads:
        for b in args.batch:
            for s in args.seq:
                o = ortres[(b, s, t)]
                br = bert.get((b, s, t))
                bs = f"{br[0]:.2f}" if br else "-"
                ratio = f"{br[0] / o:.2f}" if br and o > 0 else "-"
                print(f"| {b} x {s} | {t} | {bs} | {o:.2f} | {ratio} |")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
