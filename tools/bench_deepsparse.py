#!/usr/bin/env python3
"""DeepSparse side of tools/bench_peers.py; runs inside .models/venv-deepsparse (deepsparse 1.8.0, numpy 1.26.4,
onnx 1.14.1), which bench_peers.py creates, so it has its own numpy and never imports the ORT venv's.

    python tools/bench_deepsparse.py --onnx MODEL.onnx --model-dir DIR --shapes 1x128,8x128,1x32 --threads 1,2
                                     --runs N --warmup N --json OUT.json [--outputs DIR]

For every thread count and shape it compiles a deepsparse.Engine (batch_size = batch, num_cores = threads,
input_shapes = [batch, seq] for the three inputs) on a private copy of the ONNX file (DeepSparse rewrites a model
file in place when it overrides its input shapes), runs the inputs of `bertrun bench` (tools/bench_inputs.py)
warmup + runs times, and writes JSON: {"version", "results": [{batch, seq, threads, median_ms, p90_ms,
compile_s}]}. DeepSparse finds the zeros in the weights itself (no sparsity annotations needed). With --outputs,
the first thread count's outputs of each shape go to DIR/BxS.npz, for bench_peers.py to compare with ORT's.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

os.environ.setdefault("NM_DISABLE_ANALYTICS", "1")  # no usage reporting from an offline benchmark

import numpy as np  # noqa: E402

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_inputs  # noqa: E402


def shape_list(s):
    out = []
    for part in s.split(","):
        b, _, q = part.partition("x")
        out.append((int(b), int(q)))
    return out


def percentile(samples, p):
    """Nearest rank, as BenchStats.percentile."""
    s = sorted(samples)
    rank = int(np.ceil(p / 100 * len(s)))
    return s[min(max(rank, 1), len(s)) - 1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--model-dir", required=True, help="the checkpoint folder (its vocab.txt makes the inputs)")
    ap.add_argument("--shapes", type=shape_list, required=True)
    ap.add_argument("--threads", type=lambda s: [int(x) for x in s.split(",")], required=True)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--json", required=True)
    ap.add_argument("--outputs", help="folder for the outputs of each shape (first thread count)")
    args = ap.parse_args()

    import deepsparse

    vocab = bench_inputs.read_vocab(args.model_dir)
    cls, sep = bench_inputs.special_ids(vocab)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-deepsparse.") as tmp:
        for ti, t in enumerate(args.threads):
            for b, s in args.shapes:
                copy = os.path.join(tmp, f"model-{b}x{s}-t{t}.onnx")
                shutil.copyfile(args.onnx, copy)
                feed = bench_inputs.batch(len(vocab), cls, sep, b, s)
                t0 = time.perf_counter()
                engine = deepsparse.Engine(model=copy, batch_size=b, num_cores=t, input_shapes=[[b, s]] * 3)
                compile_s = time.perf_counter() - t0
                names = engine.input_names
                inputs = [feed[n] for n in names]
                out = engine.run(inputs)
                if ti == 0 and args.outputs:
                    os.makedirs(args.outputs, exist_ok=True)
                    np.savez(os.path.join(args.outputs, f"{b}x{s}.npz"),
                             **{n: o for n, o in zip(engine.output_names, out)})
                for _ in range(max(0, args.warmup - 1)):
                    engine.run(inputs)
                samples = []
                for _ in range(args.runs):
                    t1 = time.perf_counter()
                    engine.run(inputs)
                    samples.append(time.perf_counter() - t1)
                row = {"batch": b, "seq": s, "threads": t, "median_ms": float(np.median(samples)) * 1e3,
                       "p90_ms": percentile(samples, 90) * 1e3, "compile_s": compile_s}
                results.append(row)
                print(f"# deepsparse {b}x{s} threads {t}: median {row['median_ms']:.2f} ms "
                      f"(compile {compile_s:.1f} s)", file=sys.stderr, flush=True)
                del engine
                os.remove(copy)
    with open(args.json, "w") as f:
        json.dump({"version": deepsparse.__version__, "results": results}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
