/* bk_linear: y = x W^T + b. The output columns are split into tasks of whole panels; each task
 * packs its panels of W (k x NR, zero-padded) and runs the ISA's register-blocked micro-kernel
 * over all rows of x. */
#include <stdlib.h>
#include <string.h>
#include "bk_internal.h"

typedef void (*cols_fn)(const float *, int64_t, int64_t, const float *, int64_t, int64_t, int64_t,
                        const float *, float *, float *);

typedef struct {
    const float *x, *w, *bias;
    float *y;
    int64_t m, k, n, cols_per_task;
    cols_fn fn;
    int failed;
} linear_job;

static void linear_task(void *ctx, int64_t i) {
    linear_job *j = ctx;
    int64_t n0 = i * j->cols_per_task;
    int64_t n1 = n0 + j->cols_per_task < j->n ? n0 + j->cols_per_task : j->n;
    size_t bytes = ((size_t)j->k * BK_PANEL_MAX * sizeof(float) + 63) & ~(size_t)63;
    float *pack = aligned_alloc(64, bytes);
    if (!pack) { __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED); return; }
    j->fn(j->x, j->m, j->k, j->w, n0, n1, j->n, j->bias, j->y, pack);
    free(pack);
}

bk_status bk_linear(bk_pool *pool, const float *x, int64_t m, int64_t k, const float *w, int64_t n,
                    const float *bias, float *y) {
    if (m < 0 || k < 1 || n < 1 || !x || !w || !y) return m == 0 ? BK_OK : BK_ERR_ARGUMENT;
    if (m == 0) return BK_OK;
    linear_job j = {x, w, bias, y, m, k, n, 0, bk_linear_cols_portable, 0};
    int64_t panel = 16;
#if BK_X86
    switch (bk_isa_current()) {
    case BK_ISA_AVX512: j.fn = bk_linear_cols_avx512; panel = 32; break;
    case BK_ISA_AVX2: j.fn = bk_linear_cols_avx2; panel = 16; break;
    default: break;
    }
#endif
    int64_t panels = (n + panel - 1) / panel;
    int threads = bk_pool_threads(pool);
    /* Enough tasks to balance threads, but only when the work is worth it. */
    int64_t tasks = (m * k * n < 32768 || threads == 1) ? 1 : threads * 4;
    if (tasks > panels) tasks = panels;
    j.cols_per_task = ((panels + tasks - 1) / tasks) * panel;
    tasks = (n + j.cols_per_task - 1) / j.cols_per_task;
    bk_parallel_for(pool, tasks, linear_task, &j);
    return j.failed ? BK_ERR_NOMEM : BK_OK;
}

/* ---- portable: NR = 16 columns, MR = 4 rows ---- */
#define P_NR 16
#define P_MR 4

static void pack_panel(const float *w, int64_t k, int64_t p, int64_t nr, int64_t NR, float *pack) {
    for (int64_t j = 0; j < nr; j++) {
        const float *row = w + (p + j) * k;
        for (int64_t kk = 0; kk < k; kk++) pack[kk * NR + j] = row[kk];
    }
    for (int64_t j = nr; j < NR; j++)
        for (int64_t kk = 0; kk < k; kk++) pack[kk * NR + j] = 0.0f;
}

void bk_linear_cols_portable(const float *x, int64_t m, int64_t k, const float *w, int64_t n0, int64_t n1,
                             int64_t n, const float *bias, float *y, float *pack) {
    for (int64_t p = n0; p < n1; p += P_NR) {
        int64_t nr = n1 - p < P_NR ? n1 - p : P_NR;
        pack_panel(w, k, p, nr, P_NR, pack);
        for (int64_t m0 = 0; m0 < m; m0 += P_MR) {
            int64_t mr = m - m0 < P_MR ? m - m0 : P_MR;
            float acc[P_MR][P_NR];
            memset(acc, 0, sizeof acc);
            for (int64_t kk = 0; kk < k; kk++) {
                const float *b = pack + kk * P_NR;
                for (int64_t r = 0; r < mr; r++) {
                    float a = x[(m0 + r) * k + kk];
                    for (int j = 0; j < P_NR; j++) acc[r][j] += a * b[j];
                }
            }
            for (int64_t r = 0; r < mr; r++)
                for (int64_t j = 0; j < nr; j++)
                    y[(m0 + r) * n + p + j] = acc[r][j] + (bias ? bias[p + j] : 0.0f);
        }
    }
}

/* Shared by the ISA files. */
void bk_pack_panel(const float *w, int64_t k, int64_t p, int64_t nr, int64_t NR, float *pack) {
    pack_panel(w, k, p, nr, NR, pack);
}
