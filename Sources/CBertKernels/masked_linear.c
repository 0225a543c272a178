/* bk_masked_linear: y = x (W with zeroed entries)^T + b, for a task stored as the shared base's dense W
 * plus a bitmap of the entries it sets to zero. W is never copied or modified: the GEMM of bk_linear
 * (linear*.c) packs each W panel into per-thread scratch anyway, and the masked variants of its
 * column functions apply the bitmap during that packing. Threading and dispatch mirror bk_linear.
 * This file also holds the portable masked panel packing (linear_avx2.c has its own). */
#include <string.h>
#include "bk_internal.h"

typedef int (*masked_cols_fn)(const float *, int64_t, int64_t, const float *, const uint64_t *, int64_t, int64_t,
                              int64_t, const float *, float *);

typedef struct {
    const float *x, *w, *bias;
    const uint64_t *zbits;
    float *y;
    int64_t m, k, n, cols_per_task;
    masked_cols_fn fn;
    int failed;
} masked_job;

static void masked_task(void *ctx, int64_t i) {
    masked_job *j = ctx;
    int64_t n0 = i * j->cols_per_task;
    int64_t n1 = n0 + j->cols_per_task < j->n ? n0 + j->cols_per_task : j->n;
    if (j->fn(j->x, j->m, j->k, j->w, j->zbits, n0, n1, j->n, j->bias, j->y) != 0)
        __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
}

bk_status bk_masked_linear(bk_pool *pool, const float *x, int64_t m, int64_t k, const float *w, const uint64_t *zeroed_bits,
                           int64_t n, const float *bias, float *y) {
    if (m < 0 || k < 1 || n < 1 || !x || !w || !zeroed_bits || !y) return m == 0 ? BK_OK : BK_ERR_ARGUMENT;
    if (m == 0) return BK_OK;
    if (k > ((int64_t)1 << 40) / n || m > ((int64_t)1 << 40) / n || m > ((int64_t)1 << 40) / k) return BK_ERR_ARGUMENT;
    masked_job j = {x, w, bias, zeroed_bits, y, m, k, n, 0, bk_masked_linear_cols_portable, 0};
    int64_t panel = 16;
#if BK_X86
    switch (bk_isa_current()) {
    case BK_ISA_AVX512: j.fn = bk_masked_linear_cols_avx512; panel = 32; break;
    case BK_ISA_AVX2: j.fn = bk_masked_linear_cols_avx2; panel = 16; break;
    default: break;
    }
#endif
    int64_t panels = (n + panel - 1) / panel;
    int threads = bk_pool_threads(pool);
    int64_t tasks = (m * k * n < ((int64_t)1 << 18) || threads == 1) ? 1 : threads * 4;
    if (tasks > panels) tasks = panels;
    j.cols_per_task = ((panels + tasks - 1) / tasks) * panel;
    tasks = (n + j.cols_per_task - 1) / j.cols_per_task;
    bk_parallel_for(pool, tasks, masked_task, &j);
    return j.failed ? BK_ERR_NOMEM : BK_OK;
}

/* Four columns of a row at a time with the compilers' generic 4-lane vectors: the bitmap's bits widened to
 * a lane mask that clears the zeroed entries (branch-free: random masks would defeat the branch predictor). */
typedef uint32_t v4u __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

void bk_pack_panel_masked(const float *w, const uint64_t *zbits, int64_t k, int64_t p, int64_t nr, int64_t NR,
                          float *pack) {
    const v4u lane = {1, 2, 4, 8};
    for (int64_t j = 0; j < nr; j++) {
        const float *row = w + (p + j) * k;
        uint64_t bit0 = (uint64_t)(p + j) * (uint64_t)k;
        int64_t kk = 0;
        for (; kk + 4 <= k; kk += 4) {
            uint32_t b4 = (uint32_t)bk_bits_at(zbits, bit0 + (uint64_t)kk, 4);
            v4u bits = {b4, b4, b4, b4};
            v4i zero = (bits & lane) == lane;  /* -1 in zeroed lanes */
            v4u v;
            memcpy(&v, row + kk, sizeof v);
            v &= ~(v4u)zero;
            uint32_t out[4];
            memcpy(out, &v, sizeof out);
            for (int i = 0; i < 4; i++) memcpy(pack + (kk + i) * NR + j, out + i, sizeof out[i]);
        }
        for (; kk < k; kk++) {
            uint32_t u;
            memcpy(&u, row + kk, sizeof u);
            u &= (uint32_t)(bk_bits_at(zbits, bit0 + (uint64_t)kk, 1) & 1) - 1u;
            memcpy(pack + kk * NR + j, &u, sizeof u);
        }
    }
    for (int64_t j = nr; j < NR; j++)
        for (int64_t kk = 0; kk < k; kk++) pack[kk * NR + j] = 0.0f;
}
