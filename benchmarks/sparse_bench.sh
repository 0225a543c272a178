#!/bin/sh
# Builds benchmarks/sparse_bench.c against the kernel sources (clang, as SwiftPM uses; CC=gcc works too)
# and runs it. Usage, from the package root: sh benchmarks/sparse_bench.sh   (BERTK_ISA=avx2 sh ... for AVX2)
set -e
CC=${CC:-clang}
$CC -O3 -fno-math-errno -Wall -ISources/CBertKernels/include -ISources/CBertKernels \
    benchmarks/sparse_bench.c Sources/CBertKernels/*.c -lm -lpthread -o /tmp/sparse_bench
exec /tmp/sparse_bench "$@"
