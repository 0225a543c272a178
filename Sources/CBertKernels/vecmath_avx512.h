/* 16-lane math for the AVX-512 kernels, inline so the callers' loops keep their constants in registers:
 * bk_gelu16. Include after immintrin.h, inside BK_X86. */
#ifndef BK_VECMATH_AVX512_H
#define BK_VECMATH_AVX512_H

/* GELU(v) = v Phi(v), Phi the normal CDF = (1 + erf(v / sqrt 2)) / 2, from bk_gelu_phi: u = 2v + 16 clamped to
 * [0, 32) picks interval i = floor(u) and t = u - i, Phi = c0 + ... + c5 t^5 with the interval's coefficients
 * taken by two-table permutes (no memory gathers). Within 4.7e-7 of GELU in double for every float in [-12, 12]
 * (the Abramowitz & Stegun erfc form it replaces: 4.2e-7), v exactly above 8, -0 below -7.5 (true value under
 * 1.1e-13 in size); NaN and -inf give NaN, +inf gives +inf, as that form did. About 1.9x its speed (11 against
 * 20.6 TSC cycles per 16 lanes in a loop over L1); with that form MiniLM 8 x 128's GEMM with GELU ran at 74.9
 * flops per TSC cycle against 80-81 for its other K = 384 GEMMs. Used by bk_gelu_erf and the fused GELU of the
 * packed and CSR GEMMs, so all give the same bits. */
static inline __attribute__((always_inline)) BK_TARGET_AVX512 __m512 bk_gelu16(__m512 v) {
    __m512 u = _mm512_fmadd_ps(v, _mm512_set1_ps(2.0f), _mm512_set1_ps(16.0f));
    u = _mm512_min_ps(_mm512_max_ps(u, _mm512_setzero_ps()), _mm512_set1_ps(31.999998f));
    __m512i i = _mm512_cvttps_epi32(u);
    __m512 t = _mm512_sub_ps(u, _mm512_cvtepi32_ps(i));
#define BK_PHI_C(k) _mm512_permutex2var_ps(_mm512_load_ps(bk_gelu_phi[k]), i, _mm512_load_ps(bk_gelu_phi[k] + 16))
    __m512 p = BK_PHI_C(5);
    p = _mm512_fmadd_ps(p, t, BK_PHI_C(4));
    p = _mm512_fmadd_ps(p, t, BK_PHI_C(3));
    p = _mm512_fmadd_ps(p, t, BK_PHI_C(2));
    p = _mm512_fmadd_ps(p, t, BK_PHI_C(1));
    p = _mm512_fmadd_ps(p, t, BK_PHI_C(0));
#undef BK_PHI_C
    return _mm512_mul_ps(v, p);
}

#endif
