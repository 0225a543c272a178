#!/usr/bin/env bash
# Fuzzes bertc's readers with libFuzzer (see fuzzing/Package.swift): builds the fuzz targets with
# -sanitize=fuzzer,address, builds the seed corpus from fixtures/ (tools/fuzz_corpus.py), then runs each
# target for SECONDS (default 120) on one core, one target at a time. Crashers, hangs (-timeout) and
# out-of-memory inputs (-rss_limit_mb) go to .models/fuzz-crashers/<target>/; the script prints each target's
# executions and the total, and exits 1 if any target found something.
#
# usage: tools/fuzz.sh [SECONDS_PER_TARGET] [TARGET ...]
# env:   FUZZ_SCRATCH (default .build-fz: the root build that compiles the corpus's artifacts;
#        the fuzzers build in $FUZZ_SCRATCH-libfuzzer), FUZZ_CORPUS (default .models/fuzz-corpus)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_PER_TARGET=${1:-120}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(safetensors tfindex pytorch config vocab artifact input ir)
SCRATCH=${FUZZ_SCRATCH:-.build-fz}
CORPUS=${FUZZ_CORPUS:-$ROOT/.models/fuzz-corpus}
CRASHERS=$ROOT/.models/fuzz-crashers
LOGS=$ROOT/.models/fuzz-logs

[ "$(uname -s)" = Linux ] || { echo "fuzz.sh: libFuzzer builds need Linux" >&2; exit 1; }

echo "== building bertc (for the artifact seeds) in $SCRATCH"
swift build --scratch-path "$ROOT/$SCRATCH" --product bertc 2>&1 | grep -E "error|Build" || true
echo "== building the fuzz targets in $SCRATCH-libfuzzer (release, -sanitize=fuzzer,address)"
(cd fuzzing && swift build -c release --scratch-path "$ROOT/$SCRATCH-libfuzzer" \
    --sanitize fuzzer --sanitize address -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library 2>&1 \
    | grep -vE "Cannot export local symbol|^\[" || true)
BIN=$ROOT/$SCRATCH-libfuzzer/release
for t in "${TARGETS[@]}"; do [ -x "$BIN/fuzz-$t" ] || { echo "fuzz.sh: fuzz-$t was not built" >&2; exit 1; }; done

echo "== seed corpus in $CORPUS"
python3 tools/fuzz_corpus.py --bertc "$ROOT/$SCRATCH/debug/bertc" --out "$CORPUS"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0:allocator_may_return_null=1}
mkdir -p "$LOGS"
total=0
failed=0
for t in "${TARGETS[@]}"; do
    work=$(mktemp -d "${TMPDIR:-/tmp}/bertc-fuzz-$t.XXXXXX")
    mkdir -p "$work/corpus" "$CRASHERS/$t"
    cp "$CORPUS/$t"/* "$work/corpus/"
    case $t in
        artifact|safetensors|pytorch|tfindex) maxlen=400000 ;;
        *) maxlen=65536 ;;
    esac
    log=$LOGS/$t.log
    echo "== fuzz-$t for ${SECONDS_PER_TARGET}s (log $log)"
    set +e
    # tfindex: a real data shard, symlinked into the target's scratch dir (see FuzzHarness).
    BERTC_FUZZ_TF_SHARD=$ROOT/fixtures/tf/tiny-encoder-f16/bert_model.ckpt.data-00000-of-00001 \
    "$BIN/fuzz-$t" "$work/corpus" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
        -malloc_limit_mb=2048 -max_len=$maxlen -print_final_stats=1 -artifact_prefix="$CRASHERS/$t/" >"$log" 2>&1
    rc=$?
    set -e
    runs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}' | tail -1)
    runs=${runs:-0}
    total=$((total + runs))
    if [ $rc -ne 0 ]; then
        failed=1
        echo "fuzz-$t: FOUND a problem (exit $rc) after $runs executions:"
        grep -E "ERROR|Fatal error|SUMMARY|Test unit written" "$log" | head -5
    else
        echo "fuzz-$t: $runs executions, no crash, hang or sanitizer report"
    fi
    rm -rf "$work"
done
echo "== total: $total executions over ${#TARGETS[@]} targets"
exit $failed
