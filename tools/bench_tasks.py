#!/usr/bin/env python3
"""Several tasks over one base (issue 5): N masked MiniLM tasks served by one bertrun process, its peak RSS
against the base's and the artifacts' bytes, and its outputs against each task run alone.

    python3 tools/bench_tasks.py [--base .models/all-MiniLM-L6-v2] [--tasks 8] [--rows 400] [--fraction 0.1]
                                 [--bertrun PATH] [--bertc PATH] [--threads N] [--batch-size N] [--out DIR]
                                 [--json FILE]

1. Makes task i (1..N) as tools/make_minilm_masked.py does, with seed 20200826 + i: 10% of every linear weight of
   layers 3-5 of the base zeroed at random (a different mask per task), into OUT/t<i>-model (numpy only).
2. Compiles each with `bertc compile OUT/t<i>-model --base BASE -o OUT/t<i>.bin` (masks over the shared base).
3. Writes OUT/rows.jsonl: --rows texts of fixtures/minilm/embeddings.jsonl, row j naming task t<(j mod N) + 1>.
4. Runs `bertrun OUT/t1.bin ... OUT/tN.bin --input OUT/rows.jsonl --output OUT/all.jsonl` and takes its peak
   RSS from the kernel (ru_maxrss of that process alone: tools/peak_rss.py).
5. Runs each task alone on its own rows (`bertrun OUT/t<i>.bin --input OUT/rows-t<i>.jsonl`), also measured, and
   all N tasks and task 1 alone on one short row per task (what loading costs, apart from activations).
6. Checks (a) every embedding of the combined run equals the one of its task run alone (max abs difference
   <= 1e-6; reports whether bit-identical) and (b) peak RSS <= (base weight bytes + sum of artifact bytes) x 1.3,
   where base weight bytes = the size of BASE/model.safetensors. Exit status 1 when either fails.

Without --bertrun it builds bertc and bertrun as tools/bench_peers.py does (swift build -c release
--scratch-path .build-peers-rel). OUT defaults to .models/tasks (about 90 MB per task model, not committed).
"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import make_minilm_masked  # noqa: E402
import bench_peers  # noqa: E402 - its release build of bertc and bertrun
import peak_rss  # noqa: E402

TOLERANCE = 1e-6
RSS_FACTOR = 1.3


def fail(msg):
    print(f"bench_tasks.py: error: {msg}", file=sys.stderr)
    sys.exit(1)


def note(msg):
    print(f"# {msg}", file=sys.stderr, flush=True)


def run_measured(cmd):
    """Runs cmd; returns (seconds, peak RSS bytes of that command alone). Fails on a non-zero exit."""
    t0 = time.perf_counter()
    r, rss = peak_rss.run(cmd, cwd=ROOT)
    elapsed = time.perf_counter() - t0
    if r.returncode != 0 or rss is None:
        fail(f"{' '.join(cmd[:3])} ... exited with {r.returncode}")
    return elapsed, rss


def read_embeddings(path):
    import numpy as np
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            rec = json.loads(line)
            if "embedding" not in rec:
                fail(f"{path}: line {n} has no embedding")
            out.append(np.asarray(rec["embedding"], dtype=np.float64))
    return out


def write_rows(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", default=os.path.join(ROOT, ".models", "all-MiniLM-L6-v2"))
    ap.add_argument("--tasks", type=int, default=8)
    ap.add_argument("--rows", type=int, default=400)
    ap.add_argument("--fraction", type=float, default=make_minilm_masked.FRACTION)
    ap.add_argument("--bertrun", help="bertrun binary (default: swift build -c release in this repo)")
    ap.add_argument("--bertc", help="bertc binary (default: next to bertrun)")
    ap.add_argument("--scratch", default=bench_peers.SCRATCH, help="swift build scratch path")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--out", default=os.path.join(ROOT, ".models", "tasks"))
    ap.add_argument("--json", help="write the numbers to this file")
    args = ap.parse_args()
    if args.tasks < 1 or args.rows < args.tasks or not 0 <= args.fraction <= 1:
        fail("need --tasks >= 1, --rows >= --tasks and --fraction in [0, 1]")
    bertrun, bertc = bench_peers.tools_paths(args)
    base = os.path.abspath(args.base)
    base_weights = os.path.join(base, "model.safetensors")
    if not os.path.isfile(base_weights):
        fail(f"{base_weights}: missing (run tools/fetch_minilm.sh)")
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)

    names = [f"t{i}" for i in range(1, args.tasks + 1)]
    artifacts = []
    for i, name in enumerate(names, 1):
        model_dir = os.path.join(out, name + "-model")
        note(f"{name}: mask seed {make_minilm_masked.SEED + i}")
        try:
            make_minilm_masked.write_masked_model(base, model_dir, make_minilm_masked.SEED + i, args.fraction)
        except make_minilm_masked.SafetensorsError as e:
            fail(str(e))
        artifact = os.path.join(out, name + ".bin")
        r = subprocess.run([bertc, "compile", model_dir, "--base", base, "-o", artifact], cwd=ROOT)
        if r.returncode != 0:
            fail(f"bertc compile {model_dir} --base {base} failed")
        artifacts.append(artifact)

    with open(os.path.join(ROOT, "fixtures", "minilm", "embeddings.jsonl"), encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f if line.strip()]
    rows = [{"text": texts[j % len(texts)], "task": names[j % args.tasks]} for j in range(args.rows)]
    rows_path = os.path.join(out, "rows.jsonl")
    write_rows(rows_path, rows)
    common = ["--threads", str(args.threads), "--batch-size", str(args.batch_size)]

    all_out = os.path.join(out, "all.jsonl")
    note(f"bertrun with {args.tasks} tasks, {args.rows} rows")
    all_s, all_rss = run_measured([bertrun] + artifacts + ["--input", rows_path, "--output", all_out] + common)
    combined = read_embeddings(all_out)
    if len(combined) != len(rows):
        fail(f"{all_out}: {len(combined)} lines for {len(rows)} rows")

    # Where the memory goes: the same processes on one short row per task (load cost, tiny activations).
    probe_all, probe_one = os.path.join(out, "rows-probe.jsonl"), os.path.join(out, "rows-probe-t1.jsonl")
    write_rows(probe_all, [{"text": "a short probe", "task": n} for n in names])
    write_rows(probe_one, [{"text": "a short probe"}])
    _, load_all_rss = run_measured([bertrun] + artifacts + ["--input", probe_all, "--output", probe_all + ".out"] + common)
    _, load_one_rss = run_measured([bertrun, artifacts[0], "--input", probe_one, "--output", probe_one + ".out"] + common)

    alone, alone_rss = {}, []
    for t, (name, artifact) in enumerate(zip(names, artifacts)):
        mine = [r for r in rows if r["task"] == name]
        path = os.path.join(out, f"rows-{name}.jsonl")
        write_rows(path, [{"text": r["text"]} for r in mine])
        res = os.path.join(out, f"alone-{name}.jsonl")
        _, rss = run_measured([bertrun, artifact, "--input", path, "--output", res] + common)
        alone_rss.append(rss)
        alone[name] = read_embeddings(res)
        if len(alone[name]) != len(mine):
            fail(f"{res}: {len(alone[name])} lines for {len(mine)} rows")

    import numpy as np
    worst, identical, seen = 0.0, True, {n: 0 for n in names}
    for r, got in zip(rows, combined):
        ref = alone[r["task"]][seen[r["task"]]]
        seen[r["task"]] += 1
        worst = max(worst, float(np.abs(got - ref).max()))
        identical = identical and bool(np.array_equal(got, ref))
    # The same text under two different tasks (rows j and j + len(texts)): the masks must change the output.
    pairs = [(j, j + len(texts)) for j in range(args.rows - len(texts)) if rows[j]["task"] != rows[j + len(texts)]["task"]]
    distinct = max((float(np.abs(combined[i] - combined[k]).max()) for i, k in pairs), default=float("nan"))

    base_bytes = os.path.getsize(base_weights)
    art_bytes = [os.path.getsize(a) for a in artifacts]
    bound = (base_bytes + sum(art_bytes)) * RSS_FACTOR
    same_ok, rss_ok = worst <= TOLERANCE, all_rss <= bound
    mb = 1e6
    print(f"tasks: {args.tasks} masked MiniLM tasks over {base} ({args.fraction:.0%} of layers 3-5 zeroed, "
          f"seeds {make_minilm_masked.SEED + 1}..{make_minilm_masked.SEED + args.tasks})")
    print(f"base weights: {base_bytes} bytes; artifacts: {min(art_bytes)}..{max(art_bytes)} bytes each, "
          f"{sum(art_bytes)} in all")
    print(f"one process, {args.rows} rows, {args.tasks} tasks: {all_s:.2f} s, peak RSS {all_rss / mb:.1f} MB")
    print(f"each task alone ({args.rows // args.tasks} rows or so): peak RSS {min(alone_rss) / mb:.1f}.."
          f"{max(alone_rss) / mb:.1f} MB; {args.tasks} processes would hold {sum(alone_rss) / mb:.1f} MB")
    print(f"loading only (one short row per task): {args.tasks} tasks {load_all_rss / mb:.1f} MB, 1 task "
          f"{load_one_rss / mb:.1f} MB: {(load_all_rss - load_one_rss) / max(1, args.tasks - 1) / mb:.2f} MB per extra task")
    print(f"bound (base + artifacts) x {RSS_FACTOR}: {bound / mb:.1f} MB -> {'ok' if rss_ok else 'EXCEEDED'} "
          f"(peak RSS / (base + artifacts) = {all_rss / (base_bytes + sum(art_bytes)):.2f})")
    print(f"outputs vs each task alone: max |diff| {worst:.3g} ({'bit-identical' if identical else 'not bit-identical'}"
          f"; {'ok' if same_ok else 'FAIL'}, tol {TOLERANCE:g}); the same text under two tasks differs by up to {distinct:.3g}")
    if args.json:
        doc = {"tasks": args.tasks, "rows": args.rows, "fraction": args.fraction, "threads": args.threads,
               "batch_size": args.batch_size, "base_weight_bytes": base_bytes, "artifact_bytes": art_bytes,
               "combined_seconds": all_s, "combined_peak_rss_bytes": all_rss, "alone_peak_rss_bytes": alone_rss,
               "load_only_peak_rss_bytes": {"all": load_all_rss, "one": load_one_rss},
               "rss_bound_bytes": bound, "rss_ok": rss_ok, "max_abs_diff": worst, "bit_identical": identical,
               "outputs_ok": same_ok}
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
    sys.exit(0 if same_ok and rss_ok else 1)


if __name__ == "__main__":
    main()
