#!/bin/sh
# Builds benchmarks/gemm_bench.c against the kernel sources (clang, as SwiftPM uses; CC=gcc works too)
# and runs it. Usage, from the package root: sh benchmarks/build.sh
set -e
CC=${CC:-clang}
$CC -O3 -fno-math-errno -Wall -ISources/CBertKernels/include -ISources/CBertKernels \
    benchmarks/gemm_bench.c Sources/CBertKernels/*.c -lm -lpthread -o /tmp/gemm_bench
exec /tmp/gemm_bench "$@"
