/* 16-lane math for the AVX-512 kernels, inline so the callers' loops keep their constants in registers:
 * bk_exp16 (attention's softmax, GELU) and bk_gelu16. Include after immintrin.h, inside BK_X86. */
#ifndef BK_VECMATH_AVX512_H
#define BK_VECMATH_AVX512_H

/* exp(x) for 16 lanes, within about 2 ulp over the float range; underflows to exactly 0 for
 * x < -103.9 and is +inf above 88.72. Cody-Waite reduction, Cephes' degree-6 polynomial, scalef. */
static inline __attribute__((always_inline)) BK_TARGET_AVX512 __m512 bk_exp16(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));
    x = _mm512_min_ps(x, _mm512_set1_ps(88.8f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    __m512 r2 = _mm512_mul_ps(r, r);
    p = _mm512_fmadd_ps(p, r2, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

/* GELU(v) = v/2 (1 + erf(z)), z = v/sqrt(2), with erfc(a) = t P(t) exp(-a^2), t = 1/(1 + p a), a = |z|
 * (Abramowitz & Stegun 7.1.26: |error| <= 1.5e-7 in erf, the form PyTorch's vectorised CPU erf uses).
 * 1 + erf(z) is erfc(a) for z < 0 and 2 - erfc(a) otherwise, so the negative tail does not cancel.
 * Within 4.3e-7 of GELU in double over [-12, 12]; about 1.5x the speed of libmvec's erff here, which
 * was 5-7% of a MiniLM or pruned BERT-base forward pass. Used by bk_gelu_erf and the fused GELU of the
 * packed GEMM, so both give the same bits. */
static inline __attribute__((always_inline)) BK_TARGET_AVX512 __m512 bk_gelu16(__m512 v) {
    __m512 a = _mm512_abs_ps(_mm512_mul_ps(v, _mm512_set1_ps(0.70710678118654752440f)));
    __m512 t = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_fmadd_ps(a, _mm512_set1_ps(0.3275911f), _mm512_set1_ps(1.0f)));
    __m512 p = _mm512_set1_ps(1.061405429f);
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.453152027f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.421413741f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.284496736f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.254829592f));
    __m512 erfc = _mm512_mul_ps(_mm512_mul_ps(p, t), bk_exp16(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), a), a)));
    __mmask16 neg = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
    __m512 onep = _mm512_mask_blend_ps(neg, _mm512_sub_ps(_mm512_set1_ps(2.0f), erfc), erfc);
    return _mm512_mul_ps(_mm512_mul_ps(v, _mm512_set1_ps(0.5f)), onep);
}

#endif
