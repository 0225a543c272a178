#!/usr/bin/env python3
"""Peer benchmark (issue 5): bertrun against ONNX Runtime and DeepSparse on the same weights, inputs, shapes and
thread counts, in one run.

    python3 tools/bench_peers.py [MODEL_DIR[@BASE_DIR] ...] [--bertrun PATH] [--bertc PATH]
                                 [--shapes 1x128,8x128,1x32] [--threads 1,2] [--runs N] [--warmup N]
                                 [--peers ort,deepsparse] [--rounds R] [--json FILE] [--check REF.jsonl]
                                 [--skip-bertrun]

MODEL_DIR is a Hugging Face BERT folder (config.json, model.safetensors, vocab.txt); MODEL_DIR@BASE_DIR compiles
it as a task over BASE_DIR (`bertc compile MODEL_DIR --base BASE_DIR`): bertrun runs the task artifact over the
shared base while the peers run the same weights as one dense model. Without MODEL_DIR it runs the issue-5 set:
.models/all-MiniLM-L6-v2 (tools/fetch_minilm.sh) and, from tools/make_bench_models.py, bert-base-random,
bert-base-pruned90 and bert-base-masked10@bert-base-random.

Per model: builds the ONNX graph from the safetensors weights (tools/onnx_bert.py, no torch; opset 17, IR 8, so
onnx 1.14.1 loads it) into .models/peers/NAME.onnx; compiles .models/peers/NAME.bin with bertc and runs
`bertrun bench --json`; runs ONNX Runtime (intra_op_num_threads = threads, inter_op 1, sequential execution, all
graph optimisations) in the venv .models/venv-peers; runs DeepSparse 1.8.0 in a subprocess inside the venv
.models/venv-deepsparse (tools/bench_deepsparse.py; one engine per shape and thread count, num_cores = threads).
Both venvs are made on first use (deepsparse 1.8.0 pins numpy 1.26.4 and onnx 1.14.1 and has wheels for CPython
3.8-3.11 only; a peer that cannot be installed is reported and left out). Every engine runs the token ids of
`bertrun bench` (tools/bench_inputs.py): medians and p90 of --runs timed runs after --warmup untimed ones.
DeepSparse's outputs are compared with ORT's on every shape (max abs difference printed). With --rounds R the
engines take turns R times per model (bertrun, ORT, DeepSparse, bertrun, ...), so a slow spell of a shared machine
falls on all of them alike; each engine's number is then the round whose median is the median over rounds, and
bertrun/ORT is also given as the median over rounds of the ratio within a round (the two run back to back).

Prints a table (model, batch x seq, threads, bertrun median ms, ORT ms, DeepSparse ms, bertrun/ORT,
bertrun/DeepSparse: below 1 means bertrun is faster) and with --json writes every number, including p90,
throughput and bertrun's GFLOP/s. --check compares ORT's outputs with a fixtures/reference/*.jsonl file
(one model only; max abs diff <= 1e-4).
"""
import argparse
import glob
import json
import os
import platform
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(ROOT, "tools")
VENV = os.path.join(ROOT, ".models", "venv-peers")
DS_VENV = os.path.join(ROOT, ".models", "venv-deepsparse")
DS_PINS = ["deepsparse==1.8.0", "numpy==1.26.4", "onnx==1.14.1"]
DS_PYTHONS = ((3, 8), (3, 9), (3, 10), (3, 11))  # deepsparse 1.8.0 wheels: cp38 ... cp311
OUT = os.path.join(ROOT, ".models", "peers")
SCRATCH = os.path.join(ROOT, ".build-peers-rel")
sys.path.insert(0, TOOLS)
import peak_rss  # noqa: E402 - stdlib only, usable before the venv re-exec

DEFAULT_MODELS = [".models/all-MiniLM-L6-v2", ".models/bench/bert-base-random", ".models/bench/bert-base-pruned90",
                  ".models/bench/bert-base-masked10@.models/bench/bert-base-random"]


def fail(msg):
    print(f"{os.path.basename(sys.argv[0])}: error: {msg}", file=sys.stderr)  # also for bench_tasks.py
    sys.exit(1)


def note(msg):
    print(f"# {msg}", file=sys.stderr, flush=True)


def int_list(s):
    try:
        v = [int(x) for x in s.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {s!r}")
    if not v or any(x < 1 for x in v):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {s!r}")
    return v


def shape_list(s):
    out = []
    for part in s.split(","):
        b, x, q = part.strip().partition("x")
        if not x or not b.isdigit() or not q.isdigit() or int(b) < 1 or int(q) < 2:
            raise argparse.ArgumentTypeError(f"expected shapes BATCHxSEQ (e.g. 1x128,8x128,1x32), got {s!r}")
        out.append((int(b), int(q)))
    return out


def peer_list(s):
    v = [x.strip() for x in s.split(",") if x.strip()]
    bad = [x for x in v if x not in ("ort", "deepsparse")]
    if bad or not v:
        raise argparse.ArgumentTypeError(f"peers are ort and deepsparse, got {s!r}")
    return v


def parse_model(spec):
    """MODEL_DIR or MODEL_DIR@BASE_DIR -> (name, dir, base or None); paths relative to the current directory."""
    d, _, base = spec.partition("@")
    d = os.path.abspath(d)
    base = os.path.abspath(base) if base else None
    for p in (d, base):
        if p is None:
            continue
        for f in ("config.json", "model.safetensors", "vocab.txt"):
            if not os.path.isfile(os.path.join(p, f)):
                hint = " (tools/fetch_minilm.sh, tools/make_bench_models.py make the default models)"
                fail(f"{os.path.join(p, f)}: missing{hint}")
    return os.path.basename(os.path.normpath(d)), d, base


# ------------------------------------------------------------------------------------------------------------
# venvs
# ------------------------------------------------------------------------------------------------------------


def ensure_venv():
    """Re-executes this script inside .models/venv-peers (created and filled on first use)."""
    py = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.path.exists(py):
        note(f"creating {VENV}")
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    probe = subprocess.run([py, "-c", "import onnxruntime, onnx, numpy"], capture_output=True)
    if probe.returncode != 0:
        subprocess.run([py, "-m", "pip", "install", "-q", "onnxruntime", "onnx", "numpy"], check=True)
    os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])


def python_version(py):
    r = subprocess.run([py, "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None
    major, minor = r.stdout.split()
    return int(major), int(minor)


def deepsparse_python(explicit):
    """A CPython 3.8-3.11 interpreter for the DeepSparse venv, or (None, reason)."""
    if explicit:
        v = python_version(explicit)
        if v not in DS_PYTHONS:
            return None, f"{explicit} is Python {v}; deepsparse 1.8.0 has wheels for CPython 3.8-3.11 only"
        return explicit, None
    candidates = [os.path.join(sys.base_prefix, "bin", "python3")]
    candidates += [shutil.which(f"python3.{m}") for m in (11, 10, 9, 8)]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[01].*/bin/python3")), reverse=True)
    for c in candidates:
        if c and os.access(c, os.X_OK) and python_version(c) in DS_PYTHONS:
            return c, None
    return None, "deepsparse 1.8.0 has wheels for CPython 3.8-3.11 only and none was found (pass --deepsparse-python)"


def ensure_deepsparse(explicit_python):
    """The DeepSparse venv's python, creating the venv on first use; or (None, reason)."""
    py = os.path.join(DS_VENV, "bin", "python")
    probe = [py, "-c", "import deepsparse, numpy, onnx; print(deepsparse.__version__)"]
    if os.path.exists(py) and subprocess.run(probe, capture_output=True).returncode == 0:
        return py, None
    base, reason = deepsparse_python(explicit_python)
    if base is None:
        return None, reason
    if not os.path.exists(py):
        note(f"creating {DS_VENV} with {base}")
        r = subprocess.run([base, "-m", "venv", DS_VENV])
        if r.returncode != 0:
            return None, f"{base} -m venv {DS_VENV} failed"
    note(f"installing {' '.join(DS_PINS)} into {DS_VENV}")
    r = subprocess.run([py, "-m", "pip", "install", "-q"] + DS_PINS, capture_output=True, text=True)
    if r.returncode != 0:
        tail = (r.stderr.strip().splitlines() or ["pip failed"])[-1]
        return None, f"pip install {' '.join(DS_PINS)} failed: {tail}"
    if subprocess.run(probe, capture_output=True).returncode != 0:
        return None, "deepsparse installed but does not import"
    return py, None


# ------------------------------------------------------------------------------------------------------------
# engines
# ------------------------------------------------------------------------------------------------------------


def swift_bins(scratch):
    """Release build of bertc and bertrun; returns the bin directory."""
    base = ["swift", "build", "-c", "release", "--scratch-path", scratch]
    if subprocess.run(base, cwd=ROOT).returncode != 0:
        fail("swift build -c release failed (pass --bertrun PATH to use an existing binary)")
    return subprocess.run(base + ["--show-bin-path"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def tools_paths(args):
    if args.bertrun:
        bertrun = os.path.abspath(args.bertrun)
        bertc = os.path.abspath(args.bertc) if args.bertc else os.path.join(os.path.dirname(bertrun), "bertc")
    else:
        bindir = swift_bins(args.scratch)
        bertrun, bertc = os.path.join(bindir, "bertrun"), os.path.join(bindir, "bertc")
    for b in (bertrun, bertc):
        if not os.access(b, os.X_OK):
            fail(f"{b}: not an executable")
    return bertrun, bertc


def by_seq(shapes):
    """{seq: [batches]} in first-seen order: bertrun bench takes the cross product of --batch and --seq."""
    out = {}
    for b, s in shapes:
        out.setdefault(s, []).append(b)
    return out


def run_bertrun(args, tools, name, model_dir, base):
    bertrun, bertc = tools
    artifact = os.path.join(OUT, name + ".bin")
    cmd = [bertc, "compile", model_dir, "-o", artifact] + (["--base", base] if base else [])
    if subprocess.run(cmd, cwd=ROOT).returncode != 0:
        fail(f"bertc compile {model_dir} failed")
    out = {}
    for seq, batches in by_seq(args.shapes).items():
        jpath = os.path.join(OUT, f"{name}.s{seq}.bertrun.json")
        cmd = [bertrun, "bench", artifact, "--batch", ",".join(map(str, batches)), "--seq", str(seq),
               "--threads", ",".join(map(str, args.threads)), "--runs", str(args.runs), "--warmup", str(args.warmup),
               "--json", jpath]
        # Through tools/peak_rss.py, so that bench's own ru_maxrss is not this script's peak (see there).
        if peak_rss.run(cmd, cwd=ROOT)[0].returncode != 0:
            fail(f"bertrun bench {artifact} failed")
        with open(jpath) as f:
            data = json.load(f)
        for row in data.get("results", []):
            out[(row["batch"], row["seq"], row["threads"])] = row
    return out, os.path.getsize(artifact)


def ort_session(model_path, threads):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])


def percentile(samples, p):
    """Nearest rank, as bertrun bench's BenchStats.percentile."""
    import math
    s = sorted(samples)
    rank = int(math.ceil(p / 100 * len(s)))
    return s[min(max(rank, 1), len(s)) - 1]


def run_ort(args, onnx_path, model_dir):
    """{(b, s, t): row}, and the first thread count's outputs per shape {(b, s): {name: array}}."""
    import numpy as np
    import bench_inputs
    res, outputs = {}, {}
    for ti, t in enumerate(args.threads):
        sess = ort_session(onnx_path, t)
        names = [o.name for o in sess.get_outputs()]
        for b, s in args.shapes:
            feed = bench_inputs.for_model(model_dir, b, s)
            first = sess.run(None, feed)
            if ti == 0:
                outputs[(b, s)] = dict(zip(names, first))
            for _ in range(max(0, args.warmup - 1)):
                sess.run(None, feed)
            samples = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                sess.run(None, feed)
                samples.append(time.perf_counter() - t0)
            res[(b, s, t)] = {"median_ms": float(np.median(samples)) * 1e3, "p90_ms": percentile(samples, 90) * 1e3}
        del sess
    return res, outputs


def run_deepsparse(args, ds_python, name, onnx_path, model_dir, ort_outputs):
    """{(b, s, t): row} and the max abs difference from ORT's outputs; ({}, None) when DeepSparse fails."""
    import numpy as np
    jpath = os.path.join(OUT, name + ".deepsparse.json")
    outdir = os.path.join(OUT, name + ".deepsparse-outputs")
    log = os.path.join(OUT, name + ".deepsparse.log")
    cmd = [ds_python, os.path.join(TOOLS, "bench_deepsparse.py"), "--onnx", onnx_path, "--model-dir", model_dir,
           "--shapes", ",".join(f"{b}x{s}" for b, s in args.shapes), "--threads", ",".join(map(str, args.threads)),
           "--runs", str(args.runs), "--warmup", str(args.warmup), "--json", jpath, "--outputs", outdir]
    with open(log, "w") as f:
        r = subprocess.run(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        with open(log, errors="replace") as f:
            lines = [ln.rstrip() for ln in f if ln.strip() and not ln.startswith("    [")]
        note(f"DeepSparse failed on {name} (exit {r.returncode}); log {log}:")
        for ln in lines[-12:]:
            note("  " + ln)
        return {}, None
    with open(jpath) as f:
        data = json.load(f)
    res = {(x["batch"], x["seq"], x["threads"]): x for x in data["results"]}
    worst = 0.0
    for (b, s), ref in ort_outputs.items():
        got = np.load(os.path.join(outdir, f"{b}x{s}.npz"))
        for k, v in ref.items():
            if k not in got.files:
                fail(f"DeepSparse outputs for {name} {b}x{s} have no {k}")
            worst = max(worst, float(np.abs(got[k].astype(np.float32) - v).max()))
    shutil.rmtree(outdir, ignore_errors=True)
    return res, worst


def check(model_path, ref_path):
    import numpy as np
    sess = ort_session(model_path, 1)
    names = [o.name for o in sess.get_outputs()]
    worst, n = 0.0, 0
    with open(ref_path) as f:
        for line in f:
            if not line.strip():
                continue
            rec = json.loads(line)
            ids = np.array([rec["input_ids"]], dtype=np.int64)
            tt = np.array([rec.get("token_type_ids") or [0] * ids.shape[1]], dtype=np.int64)
            out = dict(zip(names, sess.run(None, {"input_ids": ids, "token_type_ids": tt,
                                                  "attention_mask": np.ones_like(ids)})))
            for key in ("last_hidden_state", "pooler_output"):
                if key not in rec or key not in out:
                    continue
                ref = np.array(rec[key], dtype=np.float32)
                if ref.shape != out[key][0].shape:
                    fail(f"{ref_path}: record {n}: {key} shape {ref.shape} vs ONNX {out[key][0].shape}")
                worst = max(worst, float(np.abs(ref - out[key][0]).max()))
            n += 1
    ok = worst <= 1e-4
    print(f"# check {ref_path}: {n} records, max |ORT - reference| = {worst:.3g} ({'ok' if ok else 'FAIL'}, tol 1e-4)")
    return ok


def median_round(rounds):
    """Per (batch, seq, threads): the result of the round whose median is the median over rounds (the lower
    middle one for an even count), so every number reported comes from one real run."""
    out = {}
    for key in {k for r in rounds for k in r}:
        got = sorted((r[key] for r in rounds if key in r), key=lambda x: x["median_ms"])
        out[key] = got[(len(got) - 1) // 2]
    return out


def cpu_name():
    name, flags = platform.processor() or platform.machine(), ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and name in ("", platform.machine(), platform.processor()):
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    fl = line.split(":", 1)[1].split()
                    flags = "AVX-512" if "avx512f" in fl else "AVX2" if "avx2" in fl else ""
    except OSError:
        pass
    return f"{name}{', ' + flags if flags else ''}, {os.cpu_count()} cpus"


def fmt(x, digits=2):
    return "-" if x is None else f"{x:.{digits}f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="*", help="MODEL_DIR or TASK_DIR@BASE_DIR (default: the issue-5 set)")
    ap.add_argument("--bertrun", help="bertrun binary (default: swift build -c release in this repo)")
    ap.add_argument("--bertc", help="bertc binary (default: next to bertrun)")
    ap.add_argument("--scratch", default=SCRATCH, help="swift build scratch path")
    ap.add_argument("--shapes", type=shape_list, default=[(1, 128), (8, 128), (1, 32)])
    ap.add_argument("--threads", type=int_list, default=[1, 2])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--peers", type=peer_list, default=["ort", "deepsparse"])
    ap.add_argument("--rounds", type=int, default=1, help="engines take turns this many times per model")
    ap.add_argument("--deepsparse-python", help="CPython 3.8-3.11 for the DeepSparse venv (default: searched)")
    ap.add_argument("--json", help="write every number to this file")
    ap.add_argument("--check", help="reference .jsonl with input_ids and last_hidden_state (one model only)")
    ap.add_argument("--skip-bertrun", action="store_true", help="only run the peers")
    args = ap.parse_args()
    if args.runs < 1 or args.warmup < 0 or args.rounds < 1:
        fail("--runs and --rounds must be >= 1 and --warmup >= 0")
    models = [parse_model(m) for m in (args.models or [os.path.join(ROOT, m) for m in DEFAULT_MODELS])]
    if args.check and len(models) != 1:
        fail("--check needs exactly one model")
    if len({m[0] for m in models}) != len(models):
        fail("two models have the same folder name")
    ensure_venv()

    import numpy as np  # noqa: F401 - the venv's numpy
    import onnx
    import onnxruntime as ort
    import onnx_bert

    os.makedirs(OUT, exist_ok=True)
    ds_python, ds_reason, ds_version = None, None, None
    if "deepsparse" in args.peers:
        ds_python, ds_reason = ensure_deepsparse(args.deepsparse_python)
        if ds_python is None:
            note(f"DeepSparse left out: {ds_reason}")
        else:
            ds_version = subprocess.run([ds_python, "-c", "import deepsparse; print(deepsparse.__version__)"],
                                        capture_output=True, text=True).stdout.strip()
    tools = None if args.skip_bertrun else tools_paths(args)

    ok, report = True, []
    for name, model_dir, base in models:
        note(f"{name}: building ONNX")
        onnx_path = os.path.join(OUT, name + ".onnx")
        try:
            model, cfg = onnx_bert.build_model(model_dir)
        except Exception as e:  # onnx_bert.OnnxBertError and the safetensors reader's errors
            fail(f"{model_dir}: cannot build ONNX graph: {e}")
        onnx_bert.save(model, onnx_path)
        del model
        if max(s for _, s in args.shapes) > cfg.get("max_position_embeddings", 512):
            fail(f"{name}: a shape exceeds the model's {cfg.get('max_position_embeddings')} positions")
        if args.check:
            ok = check(onnx_path, args.check) and ok

        entry = {"model": name, "dir": model_dir, "base": base, "rows": [], "rounds": []}
        bert_rounds, ort_rounds, ds_rounds, ds_diff = [], [], [], None
        for rnd in range(args.rounds):
            tag = f" (round {rnd + 1}/{args.rounds})" if args.rounds > 1 else ""
            if tools:
                note(f"{name}: bertrun bench{tag}")
                res, entry["artifact_bytes"] = run_bertrun(args, tools, name, model_dir, base)
                bert_rounds.append(res)
            ortout = {}
            if "ort" in args.peers:
                note(f"{name}: ONNX Runtime{tag}")
                res, ortout = run_ort(args, onnx_path, model_dir)
                ort_rounds.append(res)
            if ds_python:
                note(f"{name}: DeepSparse{tag}")
                res, diff = run_deepsparse(args, ds_python, name, onnx_path, model_dir, ortout)
                ds_rounds.append(res)
                if diff is not None:
                    ds_diff = diff if ds_diff is None else max(ds_diff, diff)
        bert, ortres, dsres = median_round(bert_rounds), median_round(ort_rounds), median_round(ds_rounds)
        entry["rounds"] = [{"engine": e, "round": i + 1, "median_ms": {f"{b}x{s}x{t}": r["median_ms"]
                                                                       for (b, s, t), r in res.items()}}
                           for e, rounds in (("bertrun", bert_rounds), ("ort", ort_rounds), ("deepsparse", ds_rounds))
                           for i, res in enumerate(rounds)]
        entry["deepsparse_vs_ort_max_abs_diff"] = ds_diff
        for t in args.threads:
            for b, s in args.shapes:
                br, o, d = bert.get((b, s, t)), ortres.get((b, s, t)), dsres.get((b, s, t))
                row = {"batch": b, "seq": s, "threads": t,
                       "bertrun_ms": br and br["median_ms"], "bertrun_p90_ms": br and br["p90_ms"],
                       "bertrun_seq_per_s": br and br["throughput_seq_per_s"], "bertrun_gflops": br and br["gflops"],
                       "bertrun_peak_rss_bytes": br and br["peak_rss_bytes"], "isa": br and br["isa"],
                       "ort_ms": o and o["median_ms"], "ort_p90_ms": o and o["p90_ms"],
                       "deepsparse_ms": d and d["median_ms"], "deepsparse_p90_ms": d and d["p90_ms"],
                       "deepsparse_compile_s": d and d["compile_s"]}
                row["bertrun_over_ort"] = br and o and br["median_ms"] / o["median_ms"]
                # bertrun and ORT run back to back within a round, so the ratio inside each round carries less of
                # the machine's minute-to-minute drift than the ratio of two median rounds.
                paired = sorted(b_[(b, s, t)]["median_ms"] / o_[(b, s, t)]["median_ms"]
                                for b_, o_ in zip(bert_rounds, ort_rounds) if (b, s, t) in b_ and (b, s, t) in o_)
                row["bertrun_over_ort_rounds"] = paired
                row["bertrun_over_ort_paired"] = paired[(len(paired) - 1) // 2] if paired else None
                row["bertrun_over_deepsparse"] = br and d and br["median_ms"] / d["median_ms"]
                entry["rows"].append(row)
        report.append(entry)

    cpu = cpu_name()
    peers = [f"ONNX Runtime {ort.__version__}"] + ([f"DeepSparse {ds_version}"] if ds_version else [])
    rounds = f"; engines in {args.rounds} alternating rounds, median round" if args.rounds > 1 else ""
    print(f"\n# bertrun vs {' and '.join(peers)}; {cpu}; float32; medians of {args.runs} runs after "
          f"{args.warmup} warm-up{rounds}; ratio < 1: bertrun faster")
    if ds_reason:
        print(f"# DeepSparse left out: {ds_reason}")
    print("| model | batch x seq | threads | bertrun ms | ORT ms | DeepSparse ms | bertrun/ORT | bertrun/DeepSparse |")
    print("|---|---|---|---|---|---|---|---|")
    for e in report:
        for r in e["rows"]:
            print(f"| {e['model']} | {r['batch']} x {r['seq']} | {r['threads']} | {fmt(r['bertrun_ms'])} | "
                  f"{fmt(r['ort_ms'])} | {fmt(r['deepsparse_ms'])} | {fmt(r['bertrun_over_ort'])} | "
                  f"{fmt(r['bertrun_over_deepsparse'])} |")
    if args.rounds > 1:
        print("# bertrun/ORT within each round (the two engines back to back), median over rounds (range):")
        for e in report:
            for r in e["rows"]:
                if r["bertrun_over_ort_rounds"]:
                    rr = r["bertrun_over_ort_rounds"]
                    print(f"#   {e['model']} {r['batch']} x {r['seq']}, {r['threads']} threads: "
                          f"{fmt(r['bertrun_over_ort_paired'])} ({fmt(rr[0])}-{fmt(rr[-1])})")
    for e in report:
        if e["deepsparse_vs_ort_max_abs_diff"] is not None:
            print(f"# {e['model']}: max |DeepSparse - ORT| over all outputs and shapes = "
                  f"{e['deepsparse_vs_ort_max_abs_diff']:.3g}")
    if args.json:
        doc = {"cpu": cpu, "onnxruntime": ort.__version__, "onnx": onnx.__version__, "deepsparse": ds_version,
               "deepsparse_left_out": ds_reason, "runs": args.runs, "warmup": args.warmup, "rounds": args.rounds,
               "date": time.strftime("%Y-%m-%d %H:%M:%S"), "models": report}
        tmp = args.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        os.replace(tmp, args.json)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
