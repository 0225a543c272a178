#!/usr/bin/env python3
"""Latency of artifact B over artifact A (issue 5's masked/dense and pruned/dense ratios), measured in alternating
pairs so that the machine's drift between minutes falls on both sides of every ratio.

    python3 tools/bench_pairs.py A.bin B.bin [--bertrun PATH] [--shapes 1x128,8x128,1x32] [--threads 2]
                                 [--pairs 8] [--runs 10] [--warmup 2] [--json FILE]

For each pair i: `bertrun bench A --batch ... --seq ... --threads T --runs R --json` then the same for B (one
process per sequence length, as tools/bench_peers.py runs bench), and the ratio median_ms(B) / median_ms(A) per
shape. Prints every pair's ratios and, per shape, the median ratio over the pairs. Standard library only.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fail(msg):
    print(f"bench_pairs.py: {msg}", file=sys.stderr)
    sys.exit(1)


def shape_list(s):
    try:
        shapes = [tuple(int(v) for v in p.lower().split("x")) for p in s.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected shapes BATCHxSEQ (e.g. 1x128,8x128), got {s!r}")
    if any(len(p) != 2 or min(p) < 1 for p in shapes):
        raise argparse.ArgumentTypeError(f"expected shapes BATCHxSEQ with positive sizes, got {s!r}")
    return shapes


def bench(args, artifact, tmp):
    """{(batch, seq): median_ms} for one artifact at every shape."""
    by_seq = {}
    for b, s in args.shapes:
        by_seq.setdefault(s, []).append(b)
    out = {}
    for seq, batches in by_seq.items():
        path = os.path.join(tmp, "bench.json")
        cmd = [args.bertrun, "bench", artifact, "--batch", ",".join(map(str, batches)), "--seq", str(seq),
               "--threads", str(args.threads), "--runs", str(args.runs), "--warmup", str(args.warmup), "--json", path]
        if subprocess.run(cmd, stdout=subprocess.DEVNULL).returncode != 0:
            fail(f"{' '.join(cmd)} failed")
        with open(path) as f:
            for row in json.load(f)["results"]:
                out[(row["batch"], row["seq"])] = row["median_ms"]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a", help="the reference artifact (e.g. the dense model)")
    ap.add_argument("b", help="the artifact timed against it (e.g. a masked task over that base)")
    ap.add_argument("--bertrun", default=os.path.join(ROOT, ".build", "release", "bertrun"))
    ap.add_argument("--shapes", type=shape_list, default=[(1, 128), (8, 128), (1, 32)])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--pairs", type=int, default=8)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--json", help="write every pair's medians and the median ratios to this file")
    args = ap.parse_args()
    for p in (args.a, args.b):
        if not os.path.isfile(p):
            fail(f"{p}: no such artifact")
    if not os.access(args.bertrun, os.X_OK):
        fail(f"{args.bertrun}: not an executable (swift build -c release, or --bertrun)")
    if args.pairs < 1 or args.runs < 1 or args.warmup < 0 or args.threads < 1:
        fail("--pairs, --runs and --threads must be positive, --warmup not negative")

    pairs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.pairs):
            a, b = bench(args, args.a, tmp), bench(args, args.b, tmp)
            pairs.append((a, b))
            ratios = "  ".join(f"{bs}x{s} {b[(bs, s)] / a[(bs, s)]:.3f}" for bs, s in args.shapes)
            print(f"pair {i + 1}: {ratios}", flush=True)
    medians = {}
    for bs, s in args.shapes:
        r = [b[(bs, s)] / a[(bs, s)] for a, b in pairs]
        medians[f"{bs}x{s}"] = statistics.median(r)
        print(f"{bs} x {s}, {args.threads} threads: median {os.path.basename(args.b)} / {os.path.basename(args.a)} = "
              f"{statistics.median(r):.3f} over {len(r)} pairs (range {min(r):.3f}-{max(r):.3f})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"a": args.a, "b": args.b, "threads": args.threads, "runs": args.runs, "warmup": args.warmup,
                       "pairs": [{f"{k[0]}x{k[1]}": [a[k], b[k]] for k in a} for a, b in pairs],
                       "median_ratio": medians}, f, indent=1)


if __name__ == "__main__":
    main()
