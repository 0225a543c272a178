/* AVX-512 row kernel for bk_csr_linear: token blocks of 64 (four zmm), 32 (two) or 16 (one). Each nonzero
 * broadcasts its value and multiply-adds the transposed x row of its column over the block's tokens;
 * four independent accumulator sets (nonzeros j mod 4) hide the FMA latency, and the nonzeros' values and indices
 * are prefetched BK_CSR_PF_AHEAD ahead. bk_csr_store_avx512 writes
 * the [16 rows][tokens] results into y's token rows with in-register 16 x 16 transposes, adding the bias
 * and applying a fused GELU (bk_gelu16) in registers. */
#include "bk_internal.h"
#if BK_X86
#include <immintrin.h>
#include "transpose16_avx512.h"
#include "vecmath_avx512.h"

#define IDX(j) ((int64_t)(ib == 2 ? ((const uint16_t *)col_idx)[j] : ((const uint32_t *)col_idx)[j]))
/* Nonzeros prefetched BK_CSR_PF_AHEAD (128) ahead (bk_internal.h). Pruned BERT-base, 2 threads, alternating bench
 * medians: 1 x 32 7.42 -> 7.07 ms (6 rounds, each faster; 256 ahead 7.14), 1 x 128 32.3 -> 29.6 and 28.3 -> 27.3 ms
 * (64 ahead: 26.8); 8 x 128 unchanged. */

static inline __attribute__((always_inline)) BK_TARGET_AVX512 void rows_32(const float *xt, const int32_t *row_ptr,
                                                                          const void *col_idx, const int ib,
                                                                          const float *values, int64_t r0, int64_t r1,
                                                                          float *yt) {
    for (int64_t r = r0; r < r1; r++) {
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        int64_t j = row_ptr[r], e = row_ptr[r + 1];
        for (; j + 4 <= e; j += 4) {
            BK_CSR_PREFETCH_AHEAD(j);
            const float *x0 = xt + IDX(j) * 32, *x1 = xt + IDX(j + 1) * 32;
            const float *x2 = xt + IDX(j + 2) * 32, *x3 = xt + IDX(j + 3) * 32;
            __m512 v0 = _mm512_set1_ps(values[j]), v1 = _mm512_set1_ps(values[j + 1]);
            __m512 v2 = _mm512_set1_ps(values[j + 2]), v3 = _mm512_set1_ps(values[j + 3]);
            a0 = _mm512_fmadd_ps(v0, _mm512_loadu_ps(x0), a0);
            a1 = _mm512_fmadd_ps(v0, _mm512_loadu_ps(x0 + 16), a1);
            b0 = _mm512_fmadd_ps(v1, _mm512_loadu_ps(x1), b0);
            b1 = _mm512_fmadd_ps(v1, _mm512_loadu_ps(x1 + 16), b1);
            c0 = _mm512_fmadd_ps(v2, _mm512_loadu_ps(x2), c0);
            c1 = _mm512_fmadd_ps(v2, _mm512_loadu_ps(x2 + 16), c1);
            d0 = _mm512_fmadd_ps(v3, _mm512_loadu_ps(x3), d0);
            d1 = _mm512_fmadd_ps(v3, _mm512_loadu_ps(x3 + 16), d1);
        }
        for (; j < e; j++) {
            const float *x0 = xt + IDX(j) * 32;
            __m512 v0 = _mm512_set1_ps(values[j]);
            a0 = _mm512_fmadd_ps(v0, _mm512_loadu_ps(x0), a0);
            a1 = _mm512_fmadd_ps(v0, _mm512_loadu_ps(x0 + 16), a1);
        }
        float *out = yt + (r - r0) * 32;
        _mm512_storeu_ps(out, _mm512_add_ps(_mm512_add_ps(a0, b0), _mm512_add_ps(c0, d0)));
        _mm512_storeu_ps(out + 16, _mm512_add_ps(_mm512_add_ps(a1, b1), _mm512_add_ps(c1, d1)));
    }
}

static inline __attribute__((always_inline)) BK_TARGET_AVX512 void rows_64(const float *xt, const int32_t *row_ptr,
                                                                          const void *col_idx, const int ib,
                                                                          const float *values, int64_t r0, int64_t r1,
                                                                          float *yt) {
    for (int64_t r = r0; r < r1; r++) {
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int64_t j = row_ptr[r], e = row_ptr[r + 1];
        for (; j + 2 <= e; j += 2) {
            BK_CSR_PREFETCH_AHEAD(j);
            const float *x0 = xt + IDX(j) * 64, *x1 = xt + IDX(j + 1) * 64;
            __m512 v0 = _mm512_set1_ps(values[j]), v1 = _mm512_set1_ps(values[j + 1]);
            a0 = _mm512_fmadd_ps(v0, _mm512_load_ps(x0), a0);
            a1 = _mm512_fmadd_ps(v0, _mm512_load_ps(x0 + 16), a1);
            a2 = _mm512_fmadd_ps(v0, _mm512_load_ps(x0 + 32), a2);
            a3 = _mm512_fmadd_ps(v0, _mm512_load_ps(x0 + 48), a3);
            b0 = _mm512_fmadd_ps(v1, _mm512_load_ps(x1), b0);
            b1 = _mm512_fmadd_ps(v1, _mm512_load_ps(x1 + 16), b1);
            b2 = _mm512_fmadd_ps(v1, _mm512_load_ps(x1 + 32), b2);
            b3 = _mm512_fmadd_ps(v1, _mm512_load_ps(x1 + 48), b3);
        }
        if (j < e) {
            const float *x0 = xt + IDX(j) * 64;
            __m512 v0 = _mm512_set1_ps(values[j]);
            a0 = _mm512_fmadd_ps(v0, _mm512_load_ps(x0), a0);
            a1 = _mm512_fmadd_ps(v0, _mm512_load_ps(x0 + 16), a1);
            a2 = _mm512_fmadd_ps(v0, _mm512_load_ps(x0 + 32), a2);
            a3 = _mm512_fmadd_ps(v0, _mm512_load_ps(x0 + 48), a3);
        }
        float *out = yt + (r - r0) * 64;
        _mm512_store_ps(out, _mm512_add_ps(a0, b0));
        _mm512_store_ps(out + 16, _mm512_add_ps(a1, b1));
        _mm512_store_ps(out + 32, _mm512_add_ps(a2, b2));
        _mm512_store_ps(out + 48, _mm512_add_ps(a3, b3));
    }
}

static inline __attribute__((always_inline)) BK_TARGET_AVX512 void rows_16(const float *xt, const int32_t *row_ptr,
                                                                          const void *col_idx, const int ib,
                                                                          const float *values, int64_t r0, int64_t r1,
                                                                          float *yt) {
    for (int64_t r = r0; r < r1; r++) {
        __m512 a = _mm512_setzero_ps(), b = a, c = a, d = a;
        int64_t j = row_ptr[r], e = row_ptr[r + 1];
        for (; j + 4 <= e; j += 4) {
            BK_CSR_PREFETCH_AHEAD(j);
            a = _mm512_fmadd_ps(_mm512_set1_ps(values[j]), _mm512_loadu_ps(xt + IDX(j) * 16), a);
            b = _mm512_fmadd_ps(_mm512_set1_ps(values[j + 1]), _mm512_loadu_ps(xt + IDX(j + 1) * 16), b);
            c = _mm512_fmadd_ps(_mm512_set1_ps(values[j + 2]), _mm512_loadu_ps(xt + IDX(j + 2) * 16), c);
            d = _mm512_fmadd_ps(_mm512_set1_ps(values[j + 3]), _mm512_loadu_ps(xt + IDX(j + 3) * 16), d);
        }
        for (; j < e; j++) a = _mm512_fmadd_ps(_mm512_set1_ps(values[j]), _mm512_loadu_ps(xt + IDX(j) * 16), a);
        _mm512_storeu_ps(yt + (r - r0) * 16, _mm512_add_ps(_mm512_add_ps(a, b), _mm512_add_ps(c, d)));
    }
}

BK_TARGET_AVX512 void bk_csr_store_avx512(const float *yt, int width, int64_t tokens, int64_t rows, const float *bias,
                                          int gelu, float *y, int64_t ldy) {
    __mmask16 keep = rows >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rows) - 1);
    __m512 b = bias ? _mm512_maskz_loadu_ps(keep, bias) : _mm512_setzero_ps();
    for (int t0 = 0; t0 < width && t0 < tokens; t0 += 16) {
        __m512 r[16], out[16];
        for (int q = 0; q < 16; q++) r[q] = q < rows ? _mm512_loadu_ps(yt + q * width + t0) : _mm512_setzero_ps();
        transpose16(r, out);
        int64_t nt = tokens - t0 < 16 ? tokens - t0 : 16;
        if (gelu)
            for (int64_t t = 0; t < nt; t++) _mm512_mask_storeu_ps(y + (t0 + t) * ldy, keep, bk_gelu16(_mm512_add_ps(out[t], b)));
        else
            for (int64_t t = 0; t < nt; t++) _mm512_mask_storeu_ps(y + (t0 + t) * ldy, keep, _mm512_add_ps(out[t], b));
    }
}

BK_TARGET_AVX512 void bk_csr_bias_gelu_avx512(const float *yt, int width, int64_t rows, const float *bias, float *dst) {
    __mmask16 m = width >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << width) - 1);
    for (int64_t q = 0; q < rows; q++) {
        __m512 b = _mm512_set1_ps(bias ? bias[q] : 0.0f);
        for (int t = 0; t < width; t += 16)
            _mm512_mask_storeu_ps(dst + q * width + t, m,
                                  bk_gelu16(_mm512_add_ps(_mm512_maskz_loadu_ps(m, yt + q * width + t), b)));
    }
}

BK_TARGET_AVX512 void bk_csr_transpose_avx512(const float *src, int64_t k, int64_t used, int width, float *dst) {
    for (int t16 = 0; t16 < width; t16 += 16) {
        for (int64_t c0 = 0; c0 < k; c0 += 16) {
            int64_t nc = k - c0 < 16 ? k - c0 : 16;
            __mmask16 mc = nc >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nc) - 1);
            __m512 r[16], out[16];
            for (int q = 0; q < 16; q++)
                r[q] = t16 + q < used ? _mm512_maskz_loadu_ps(mc, src + (t16 + q) * k + c0) : _mm512_setzero_ps();
            transpose16(r, out);
            for (int64_t c = 0; c < nc; c++) _mm512_storeu_ps(dst + (c0 + c) * width + t16, out[c]);
        }
    }
}

BK_TARGET_AVX512 void bk_csr_rows_avx512(const float *xt, int width, const int32_t *row_ptr, const void *col_idx,
                                         int index_bytes, const float *values, int64_t r0, int64_t r1, float *yt) {
    if (width == 64) {
        if (index_bytes == 2) rows_64(xt, row_ptr, col_idx, 2, values, r0, r1, yt);
        else rows_64(xt, row_ptr, col_idx, 4, values, r0, r1, yt);
    } else if (width == 32) {
        if (index_bytes == 2) rows_32(xt, row_ptr, col_idx, 2, values, r0, r1, yt);
        else rows_32(xt, row_ptr, col_idx, 4, values, r0, r1, yt);
    } else {
        if (index_bytes == 2) rows_16(xt, row_ptr, col_idx, 2, values, r0, r1, yt);
        else rows_16(xt, row_ptr, col_idx, 4, values, r0, r1, yt);
    }
}
#endif
