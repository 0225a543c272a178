/* gemm_bench: a hand-run GFLOP/s benchmark for bk_linear and bk_linear_packed (not a test).
 * Build and run from the package root with: sh benchmarks/build.sh [isa]
 * For BERT-base/MiniLM-like shapes at 1 and 2 threads: bk_linear (packs W per call), bk_linear_packed
 * (W packed once) and bk_linear_packed with a 10% keep mask. BENCH_COLD=1: the packed modes cycle through
 * copies of the packed weight totalling at least 128 MiB (four times the L3 here), so every call streams its
 * weights from memory as a forward pass does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bertk.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(getenv("BENCH_CPU_TIME") ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void fill(float *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = (float)(rand() / (double)RAND_MAX) - 0.5f;
}

#if defined(__x86_64__)
#include <immintrin.h>
/* GFLOP/s of twelve independent FMA chains on one core for about 0.3 s. */
__attribute__((target("avx512f"))) static double peak_avx512(void) {
    __m512 c[12], a = _mm512_set1_ps(1.0001f), b = _mm512_set1_ps(0.9999f);
    for (int i = 0; i < 12; i++) c[i] = _mm512_set1_ps((float)i);
    long n = 0;
    double t0 = now(), t;
    do {
        for (int it = 0; it < 100000; it++) {
            for (int i = 0; i < 12; i++) c[i] = _mm512_fmadd_ps(a, c[i], b);
            __asm__ volatile("" : "+v"(a));
        }
        n += 100000;
    } while ((t = now() - t0) < 0.3);
    __m512 s = c[0];
    for (int i = 1; i < 12; i++) s = _mm512_add_ps(s, c[i]);
    volatile float sink = _mm512_reduce_add_ps(s);
    (void)sink;
    return n * 12.0 * 32 / t * 1e-9;
}
__attribute__((target("avx2,fma"))) static double peak_avx2(void) {
    __m256 c[12], a = _mm256_set1_ps(1.0001f), b = _mm256_set1_ps(0.9999f);
    for (int i = 0; i < 12; i++) c[i] = _mm256_set1_ps((float)i);
    long n = 0;
    double t0 = now(), t;
    do {
        for (int it = 0; it < 100000; it++) {
            for (int i = 0; i < 12; i++) c[i] = _mm256_fmadd_ps(a, c[i], b);
            __asm__ volatile("" : "+x"(a));
        }
        n += 100000;
    } while ((t = now() - t0) < 0.3);
    float out[8];
    __m256 s = c[0];
    for (int i = 1; i < 12; i++) s = _mm256_add_ps(s, c[i]);
    _mm256_storeu_ps(out, s);
    volatile float sink = out[0];
    (void)sink;
    return n * 12.0 * 16 / t * 1e-9;
}
#endif

typedef struct { int mode; bk_pool *pool; const float *x, *w, *packed, *b; const uint32_t *keep; float *y; int64_t m, k, n; } call;

static void run(const call *c) {
    if (c->mode == 0) bk_linear(c->pool, c->x, c->m, c->k, c->w, c->n, c->b, c->y);
    else bk_linear_packed(c->pool, c->x, c->m, c->k, c->packed, c->mode == 2 ? c->keep : NULL, c->n, c->b, BK_EPILOGUE_NONE, c->y);
}

int main(int argc, char **argv) {
    const int64_t shapes[][3] = {{128, 384, 1152}, {128, 384, 1536}, {128, 1536, 384}, {1024, 384, 1536},
                                 {32, 384, 384}, {128, 768, 3072}, {128, 3072, 768}, {32, 768, 768}, {32, 768, 3072}, {32, 3072, 768}};
    const char *modes[] = {"linear", "packed", "masked"};
    int only = -1;
    if (argc > 1) for (int l = 0; l <= 2; l++) if (!strcmp(argv[1], bk_isa_name((bk_isa_level)l))) only = l;
#if defined(__x86_64__)
    if (getenv("BENCH_PEAK") && bk_isa_detect() >= BK_ISA_AVX2)
        printf("FMA peak, one core: %.1f GFLOP/s (%s)\n",
               bk_isa_detect() == BK_ISA_AVX512 ? peak_avx512() : peak_avx2(), bk_isa_name(bk_isa_detect()));
#endif
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int64_t m = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
        float *x = malloc(sizeof(float) * m * k), *w = malloc(sizeof(float) * n * k);
        float *b = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * m * n);
        float *packed = aligned_alloc(64, sizeof(float) * bk_packed_floats(k, n));
        uint32_t *keep = malloc(sizeof(uint32_t) * bk_packed_mask_words(k, n));
        uint64_t *bits = calloc((n * k + 63) / 64, 8);
        if (!x || !w || !b || !y || !packed || !keep || !bits) return 1;
        fill(x, m * k); fill(w, n * k); fill(b, n);
        for (int64_t i = 0; i < n * k; i++) if (rand() % 10 == 0) bits[i / 64] |= 1ull << (i % 64);
        bk_pack_weights(NULL, w, NULL, k, n, packed);
        bk_pack_mask(NULL, bits, k, n, keep);
        size_t pbytes = sizeof(float) * (size_t)bk_packed_floats(k, n);
        int ncopies = getenv("BENCH_COLD") ? (int)(((size_t)128 << 20) / pbytes + 1) : 1;
        float **copies = malloc(sizeof(float *) * (size_t)ncopies);
        if (!copies) return 1;
        copies[0] = packed;
        for (int i = 1; i < ncopies; i++) {
            if (!(copies[i] = aligned_alloc(64, pbytes))) return 1;
            memcpy(copies[i], packed, pbytes);
        }
        for (int level = 0; level <= (int)bk_isa_detect(); level++) {
            if (only >= 0 && level != only) continue;
            bk_isa_set((bk_isa_level)level);
            for (int threads = 1; threads <= 2; threads++) {
                bk_pool *pool = threads > 1 ? bk_pool_create(threads) : NULL;
                printf("M=%-4lld K=%-5lld N=%-5lld %-8s threads=%d", (long long)m, (long long)k, (long long)n,
                       bk_isa_name((bk_isa_level)level), threads);
                for (int mode = 0; mode < 3; mode++) {
                    call c = {mode, pool, x, w, packed, b, keep, y, m, k, n};
                    run(&c);
                    int reps = 0;
                    double t0 = now(), t;
                    do { c.packed = copies[reps % ncopies]; run(&c); reps++; } while ((t = now() - t0) < 0.3);
                    printf("  %s %6.1f", modes[mode], 2.0 * m * k * n * reps / t * 1e-9);
                }
                printf("  GFLOP/s\n");
                bk_pool_destroy(pool);
            }
        }
        for (int i = 1; i < ncopies; i++) free(copies[i]);
        free(copies);
        free(x); free(w); free(b); free(y); free(packed); free(keep); free(bits);
    }
    return 0;
}
