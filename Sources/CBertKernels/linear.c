/* bk_linear: y = x W^T + b. The output columns are split into pool tasks of whole panels (only
 * when the product is big enough to pay for waking the pool); each task packs its panels of W
 * (K-major, zero-padded) into per-thread scratch and runs the chosen ISA's register-blocked
 * micro-kernels over all rows of x. This file also holds the portable implementation. */
#include <stdlib.h>
#include <string.h>
#include "bk_internal.h"

typedef int (*cols_fn)(const float *, int64_t, int64_t, const float *, int64_t, int64_t, int64_t,
                       const float *, float *);
typedef int (*masked_cols_fn)(const float *, int64_t, int64_t, const float *, const uint64_t *, int64_t, int64_t,
                              int64_t, const float *, float *);

/* One GEMM call: plain (zbits NULL, fn) or masked (zbits set, masked_fn). */
typedef struct {
    const float *x, *w, *bias;
    const uint64_t *zbits;
    float *y;
    int64_t m, k, n, cols_per_task;
    cols_fn fn;
    masked_cols_fn masked_fn;
    int failed;
} linear_job;

static void linear_task(void *ctx, int64_t i) {
    linear_job *j = ctx;
    int64_t n0 = i * j->cols_per_task;
    int64_t n1 = n0 + j->cols_per_task < j->n ? n0 + j->cols_per_task : j->n;
    int rc = j->zbits ? j->masked_fn(j->x, j->m, j->k, j->w, j->zbits, n0, n1, j->n, j->bias, j->y)
                      : j->fn(j->x, j->m, j->k, j->w, n0, n1, j->n, j->bias, j->y);
    if (rc != 0) __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
}

/* Dispatch and threading shared by bk_linear and bk_masked_linear (zbits NULL: no mask). */
bk_status bk_gemm_run(bk_pool *pool, const float *x, int64_t m, int64_t k, const float *w, const uint64_t *zbits,
                      int64_t n, const float *bias, float *y) {
    if (m < 0 || k < 1 || n < 1 || !x || !w || !y) return m == 0 ? BK_OK : BK_ERR_ARGUMENT;
    if (m == 0) return BK_OK;
    if (k > ((int64_t)1 << 40) / n || m > ((int64_t)1 << 40) / n || m > ((int64_t)1 << 40) / k) return BK_ERR_ARGUMENT;
    linear_job j = {x, w, bias, zbits, y, m, k, n, 0, bk_linear_cols_portable, bk_masked_linear_cols_portable, 0};
    int64_t panel = 16;
#if BK_X86
    switch (bk_isa_current()) {
    case BK_ISA_AVX512:
        j.fn = bk_linear_cols_avx512; j.masked_fn = bk_masked_linear_cols_avx512; panel = 32; break;
    case BK_ISA_AVX2:
        j.fn = bk_linear_cols_avx2; j.masked_fn = bk_masked_linear_cols_avx2; panel = 16; break;
    default: break;
    }
#endif
    int64_t panels = (n + panel - 1) / panel;
    int threads = bk_pool_threads(pool);
    /* Enough tasks to balance threads, but only when the work is worth it. */
    int64_t tasks = (m * k * n < ((int64_t)1 << 18) || threads == 1) ? 1 : threads * 4;
    if (tasks > panels) tasks = panels;
    j.cols_per_task = ((panels + tasks - 1) / tasks) * panel;
    tasks = (n + j.cols_per_task - 1) / j.cols_per_task;
    bk_parallel_for(pool, tasks, linear_task, &j);
    return j.failed ? BK_ERR_NOMEM : BK_OK;
}

bk_status bk_linear(bk_pool *pool, const float *x, int64_t m, int64_t k, const float *w, int64_t n,
                    const float *bias, float *y) {
    return bk_gemm_run(pool, x, m, k, w, NULL, n, bias, y);
}

/* ---- portable: NR = 16 columns, up to MR = 3 rows (12 accumulator vectors on 128-bit SIMD) ---- */
#define P_NR 16
#define P_MR 3

static void pack_panel(const float *w, int64_t k, int64_t p, int64_t nr, int64_t NR, float *pack) {
    for (int64_t j = 0; j < nr; j++) {
        const float *row = w + (p + j) * k;
        for (int64_t kk = 0; kk < k; kk++) pack[kk * NR + j] = row[kk];
    }
    for (int64_t j = nr; j < NR; j++)
        for (int64_t kk = 0; kk < k; kk++) pack[kk * NR + j] = 0.0f;
}

/* R rows of x times the packed panel; R is a constant at every call site so the loops unroll.
 * Uses the compilers' generic 4-float vector type (SSE on x86-64, NEON on arm64, scalar elsewhere). */
typedef float v4f __attribute__((vector_size(16)));

static inline __attribute__((always_inline)) void tile(const float *x, int64_t k, const float *pack, const float *bias,
                                                       float *y, int64_t ldy, int64_t nr, const int R) {
    v4f acc[P_MR][P_NR / 4];
    for (int r = 0; r < R; r++)
        for (int q = 0; q < P_NR / 4; q++) acc[r][q] = (v4f){0, 0, 0, 0};
    for (int64_t kk = 0; kk < k; kk++) {
        v4f b[P_NR / 4];
        memcpy(b, pack + kk * P_NR, sizeof b);
        for (int r = 0; r < R; r++) {
            float a = x[r * k + kk];
            v4f av = {a, a, a, a};
            for (int q = 0; q < P_NR / 4; q++) acc[r][q] += av * b[q];
        }
    }
    for (int r = 0; r < R; r++) {
        float out[P_NR];
        memcpy(out, acc[r], sizeof out);
        for (int64_t j = 0; j < nr; j++) y[r * ldy + j] = out[j] + (bias ? bias[j] : 0.0f);
    }
}

/* zbits: NULL, or the zeroed-entry bitmap of bk_masked_linear applied while packing. */
static inline __attribute__((always_inline)) int cols_portable(const float *x, int64_t m, int64_t k, const float *w,
                                                               const uint64_t *zbits, int64_t n0, int64_t n1, int64_t n,
                                                               const float *bias, float *y) {
    float *pack = bk_scratch(BK_SCRATCH_PACK_W, (size_t)(k * P_NR));
    if (!pack) return -1;
    for (int64_t p = n0; p < n1; p += P_NR) {
        int64_t nr = n1 - p < P_NR ? n1 - p : P_NR;
        if (zbits) bk_pack_panel_masked(w, zbits, k, p, nr, P_NR, pack);
        else pack_panel(w, k, p, nr, P_NR, pack);
        const float *b = bias ? bias + p : 0;
        int64_t m0 = 0;
        for (; m0 + P_MR <= m; m0 += P_MR) tile(x + m0 * k, k, pack, b, y + m0 * n + p, n, nr, P_MR);
        if (m - m0 == 2) tile(x + m0 * k, k, pack, b, y + m0 * n + p, n, nr, 2);
        else if (m - m0 == 1) tile(x + m0 * k, k, pack, b, y + m0 * n + p, n, nr, 1);
    }
    return 0;
}

int bk_linear_cols_portable(const float *x, int64_t m, int64_t k, const float *w, int64_t n0, int64_t n1,
                            int64_t n, const float *bias, float *y) {
    return cols_portable(x, m, k, w, NULL, n0, n1, n, bias, y);
}

int bk_masked_linear_cols_portable(const float *x, int64_t m, int64_t k, const float *w, const uint64_t *zbits,
                                   int64_t n0, int64_t n1, int64_t n, const float *bias, float *y) {
    return cols_portable(x, m, k, w, zbits, n0, n1, n, bias, y);
}

/* Shared by the ISA files. */
void bk_pack_panel(const float *w, int64_t k, int64_t p, int64_t nr, int64_t NR, float *pack) {
    pack_panel(w, k, p, nr, NR, pack);
}
