/* bk_layer_norm: torch.nn.LayerNorm over the last dimension (biased variance), with an optional
 * fused residual add. Two passes over each row (mean, then the variance of the deviations, as torch
 * does). AVX-512: 16-lane float sums (the rows are a few hundred wide, so float partial sums stay
 * within 1e-6 relative); elsewhere, double accumulation. */
#include <math.h>
#include "bk_internal.h"
#if BK_X86
#include <immintrin.h>
#endif

static void row_portable(const float *xr, const float *rr, int64_t n, const float *gamma, const float *beta, float eps,
                         float *yr) {
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        float v = rr ? xr[i] + rr[i] : xr[i];
        yr[i] = v;
        sum += v;
    }
    double mean = sum / (double)n, var = 0;
    for (int64_t i = 0; i < n; i++) { double d = yr[i] - mean; var += d * d; }
    var /= (double)n;
    float inv = (float)(1.0 / sqrt(var + (double)eps));
    float fm = (float)mean;
    for (int64_t i = 0; i < n; i++) yr[i] = (yr[i] - fm) * inv * gamma[i] + beta[i];
}

#if BK_X86
static BK_TARGET_AVX512 void row_avx512(const float *xr, const float *rr, int64_t n, const float *gamma,
                                        const float *beta, float eps, float *yr) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 v = _mm512_maskz_loadu_ps(m, xr + i);
        if (rr) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, rr + i));
        _mm512_mask_storeu_ps(yr + i, m, v);
        if ((i / 16) & 1) s1 = _mm512_add_ps(s1, v); else s0 = _mm512_add_ps(s0, v);
    }
    float mean = (float)((double)_mm512_reduce_add_ps(_mm512_add_ps(s0, s1)) / (double)n);
    __m512 vm = _mm512_set1_ps(mean), q0 = _mm512_setzero_ps(), q1 = _mm512_setzero_ps();
    for (i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 d = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, yr + i), vm);
        if ((i / 16) & 1) q1 = _mm512_fmadd_ps(d, d, q1); else q0 = _mm512_fmadd_ps(d, d, q0);
    }
    double var = (double)_mm512_reduce_add_ps(_mm512_add_ps(q0, q1)) / (double)n;
    __m512 inv = _mm512_set1_ps((float)(1.0 / sqrt(var + (double)eps)));
    for (i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 d = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, yr + i), vm), inv);
        __m512 out = _mm512_fmadd_ps(d, _mm512_maskz_loadu_ps(m, gamma + i), _mm512_maskz_loadu_ps(m, beta + i));
        _mm512_mask_storeu_ps(yr + i, m, out);
    }
}
#endif

typedef void (*row_fn)(const float *, const float *, int64_t, const float *, const float *, float, float *);

static row_fn row_for_isa(void) {
#if BK_X86
    if (bk_isa_current() == BK_ISA_AVX512) return row_avx512;
#endif
    return row_portable;
}

void bk_layer_norm_rows(const float *x, const float *residual, int64_t rows, int64_t n, const float *gamma,
                        const float *beta, float eps, float *y) {
    row_fn row = row_for_isa();
    for (int64_t r = 0; r < rows; r++) row(x + r * n, residual ? residual + r * n : 0, n, gamma, beta, eps, y + r * n);
}

int bk_add_norm_ok(const bk_add_norm *norm) { return norm && norm->gamma && norm->beta && norm->out; }

void bk_add_norm_tokens(const bk_add_norm *norm, const float *yblock, int64_t n, int64_t tok, int64_t ntok) {
    bk_layer_norm_rows(yblock, norm->residual ? norm->residual + tok * n : 0, ntok, n, norm->gamma, norm->beta,
                       norm->eps, norm->out + tok * n);
}
typedef struct {
    const float *x, *residual, *gamma, *beta;
    float *y;
    int64_t rows, n, rows_per_task;
    float eps;
    row_fn row;
} ln_job;

static void ln_task(void *ctx, int64_t t) {
    ln_job *j = ctx;
    int64_t r0 = t * j->rows_per_task, r1 = r0 + j->rows_per_task < j->rows ? r0 + j->rows_per_task : j->rows;
    for (int64_t r = r0; r < r1; r++)
        j->row(j->x + r * j->n, j->residual ? j->residual + r * j->n : 0, j->n, j->gamma, j->beta, j->eps, j->y + r * j->n);
}

bk_status bk_layer_norm(bk_pool *pool, const float *x, const float *residual, int64_t rows, int64_t n, const float *gamma,
                        const float *beta, float eps, float *y) {
    if (rows < 0 || n < 1 || !x || !gamma || !beta || !y) return rows == 0 ? BK_OK : BK_ERR_ARGUMENT;
    row_fn row = row_for_isa();
    /* Rows are independent: two tasks per thread from 2^16 elements (one thread alone left the other waiting
     * through every layer norm: 1.5-2% of a MiniLM 8 x 128 pass). */
    int threads = bk_pool_threads(pool);
    int64_t tasks = threads > 1 && rows * n >= ((int64_t)1 << 16) ? 2 * threads : 1;
    if (tasks > rows) tasks = rows;
    if (tasks < 1) tasks = 1;
    ln_job j = {x, residual, gamma, beta, y, rows, n, (rows + tasks - 1) / tasks, eps, row};
    bk_parallel_for(tasks > 1 ? pool : NULL, (rows + j.rows_per_task - 1) / j.rows_per_task, ln_task, &j);
    return BK_OK;
}
