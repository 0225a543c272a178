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

bk_status bk_layer_norm(const float *x, const float *residual, int64_t rows, int64_t n, const float *gamma,
                        const float *beta, float eps, float *y) {
    if (rows < 0 || n < 1 || !x || !gamma || !beta || !y) return rows == 0 ? BK_OK : BK_ERR_ARGUMENT;
    void (*row)(const float *, const float *, int64_t, const float *, const float *, float, float *) = row_portable;
#if BK_X86
    if (bk_isa_current() == BK_ISA_AVX512) row = row_avx512;
#endif
    for (int64_t r = 0; r < rows; r++) row(x + r * n, residual ? residual + r * n : 0, n, gamma, beta, eps, y + r * n);
    return BK_OK;
}
