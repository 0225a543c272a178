/* gemm_bench: a hand-run GFLOP/s benchmark for bk_linear (not a test).
 * Build and run from the package root with: sh benchmarks/build.sh
 * Prints GFLOP/s for BERT-base/MiniLM-like shapes at 1 and 2 threads for every ISA level this CPU has. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "bertk.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void fill(float *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = (float)(rand() / (double)RAND_MAX) - 0.5f;
}

int main(void) {
    const int64_t shapes[][3] = {{128, 384, 1536}, {128, 768, 3072}, {128, 384, 384}, {128, 1536, 384}};
    const int nshapes = sizeof shapes / sizeof shapes[0];
    for (int s = 0; s < nshapes; s++) {
        int64_t m = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
        float *x = malloc(sizeof(float) * m * k), *w = malloc(sizeof(float) * n * k);
        float *b = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * m * n);
        if (!x || !w || !b || !y) return 1;
        fill(x, m * k); fill(w, n * k); fill(b, n);
        for (int level = 0; level <= (int)bk_isa_detect(); level++) {
            bk_isa_set((bk_isa_level)level);
            for (int threads = 1; threads <= 2; threads++) {
                bk_pool *pool = threads > 1 ? bk_pool_create(threads) : NULL;
                bk_linear(pool, x, m, k, w, n, b, y); /* warm up */
                int reps = 0;
                double t0 = now(), t;
                do { bk_linear(pool, x, m, k, w, n, b, y); reps++; } while ((t = now() - t0) < 0.5);
                double gflops = 2.0 * m * k * n * reps / t * 1e-9;
                printf("M=%-4lld K=%-5lld N=%-5lld %-8s threads=%d  %7.1f GFLOP/s\n", (long long)m, (long long)k,
                       (long long)n, bk_isa_name((bk_isa_level)level), threads, gflops);
                bk_pool_destroy(pool);
            }
        }
        free(x); free(w); free(b); free(y);
    }
    return 0;
}
