/* Elementwise kernels: GELU (erf form), tanh, add. GELU at BK_ISA_AVX512 uses bk_gelu16
 * (vecmath_avx512.h); at BK_ISA_AVX2 on x86-64 glibc >= 2.35, glibc's vector math library (libmvec, pulled in by -lm)
 * for erff, as tanh does at both levels; elsewhere, and at BK_ISA_PORTABLE, the scalar libm functions. */
#include <math.h>
#include "bk_internal.h"

#if BK_X86 && defined(__GLIBC__) && defined(__GLIBC_PREREQ)
#if __GLIBC_PREREQ(2, 35)
#define BK_MVEC 1
#endif
#endif

#define SQRT1_2 0.70710678118654752440f

static void gelu_portable(float *x, size_t n, size_t i) {
    for (; i < n; i++) {
        float v = x[i];
        x[i] = v * 0.5f * (1.0f + erff(v * SQRT1_2));
    }
}

#if BK_X86
#include <immintrin.h>
#include "vecmath_avx512.h"

static BK_TARGET_AVX512 void gelu_avx512(float *x, size_t n) {
    for (size_t i = 0; i < n; i += 16) {
        /* The tail goes through the same vector code (masked), so an element's result does not depend on
         * where it sits in the array (the fused GELUs run on column blocks). */
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(x + i, m, bk_gelu16(_mm512_maskz_loadu_ps(m, x + i)));
    }
}
#endif

#ifdef BK_MVEC
#include <immintrin.h>
/* glibc libmvec entry points (x86_64 vector function ABI names). */
BK_TARGET_AVX512 __m512 _ZGVeN16v_tanhf(__m512);
BK_TARGET_AVX2 __m256 _ZGVdN8v_erff(__m256);
BK_TARGET_AVX2 __m256 _ZGVdN8v_tanhf(__m256);

static BK_TARGET_AVX2 void gelu_avx2(float *x, size_t n) {
    size_t i = 0;
    const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f), s = _mm256_set1_ps(SQRT1_2);
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (; i < n; i += 8) {
        /* Masked tail through the same vector function, as gelu_avx512. */
        __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - i < 8 ? n - i : 8)), lanes);
        __m256 v = _mm256_maskload_ps(x + i, m);
        __m256 e = _ZGVdN8v_erff(_mm256_mul_ps(v, s));
        _mm256_maskstore_ps(x + i, m, _mm256_mul_ps(_mm256_mul_ps(v, half), _mm256_add_ps(one, e)));
    }
}

static BK_TARGET_AVX512 void tanh_avx512(float *x, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, _ZGVeN16v_tanhf(_mm512_loadu_ps(x + i)));
    for (; i < n; i++) x[i] = tanhf(x[i]);
}

static BK_TARGET_AVX2 void tanh_avx2(float *x, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _ZGVdN8v_tanhf(_mm256_loadu_ps(x + i)));
    for (; i < n; i++) x[i] = tanhf(x[i]);
}
#endif

void bk_gelu_erf(float *x, size_t n) {
#if BK_X86
    if (bk_isa_current() == BK_ISA_AVX512) { gelu_avx512(x, n); return; }
#endif
#ifdef BK_MVEC
    if (bk_isa_current() == BK_ISA_AVX2) { gelu_avx2(x, n); return; }
#endif
    gelu_portable(x, n, 0);
}

void bk_tanh(float *x, size_t n) {
#ifdef BK_MVEC
    switch (bk_isa_current()) {
    case BK_ISA_AVX512: tanh_avx512(x, n); return;
    case BK_ISA_AVX2: tanh_avx2(x, n); return;
    default: break;
    }
#endif
    for (size_t i = 0; i < n; i++) x[i] = tanhf(x[i]);
}

void bk_add(const float *a, const float *b, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}
