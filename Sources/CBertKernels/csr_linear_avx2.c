/* AVX2+FMA row kernel for bk_csr_linear: token blocks of 16 (two ymm) or 8 (one ymm). Each nonzero
 * broadcasts its value and multiply-adds the transposed x row of its column over the block's tokens;
 * four independent accumulator sets (nonzeros j mod 4) hide the FMA latency; the nonzeros' values and indices are
 * prefetched BK_CSR_PF_AHEAD ahead. */
#include "bk_internal.h"
#if BK_X86
#include <immintrin.h>

#define IDX(j) ((int64_t)(ib == 2 ? ((const uint16_t *)col_idx)[j] : ((const uint32_t *)col_idx)[j]))
/* Nonzeros prefetched BK_CSR_PF_AHEAD (128) ahead, as the AVX-512 kernel. Pruned BERT-base, 2 threads, alternating
 * bench medians: 1 x 8 (one 8-token block, this kernel on AVX-512 machines too) 4.64 -> 4.20 ms (8 rounds, 7
 * faster); with BERTK_ISA=avx2, 1 x 32 17.58 -> 16.99 ms (6 rounds, each faster). */

static inline __attribute__((always_inline)) BK_TARGET_AVX2 void rows_16(const float *xt, const int32_t *row_ptr,
                                                                        const void *col_idx, const int ib,
                                                                        const float *values, int64_t r0, int64_t r1,
                                                                        float *yt) {
    for (int64_t r = r0; r < r1; r++) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        int64_t j = row_ptr[r], e = row_ptr[r + 1];
        for (; j + 4 <= e; j += 4) {
            BK_CSR_PREFETCH_AHEAD(j);
            const float *x0 = xt + IDX(j) * 16, *x1 = xt + IDX(j + 1) * 16;
            const float *x2 = xt + IDX(j + 2) * 16, *x3 = xt + IDX(j + 3) * 16;
            __m256 v0 = _mm256_broadcast_ss(values + j), v1 = _mm256_broadcast_ss(values + j + 1);
            __m256 v2 = _mm256_broadcast_ss(values + j + 2), v3 = _mm256_broadcast_ss(values + j + 3);
            a0 = _mm256_fmadd_ps(v0, _mm256_loadu_ps(x0), a0);
            a1 = _mm256_fmadd_ps(v0, _mm256_loadu_ps(x0 + 8), a1);
            b0 = _mm256_fmadd_ps(v1, _mm256_loadu_ps(x1), b0);
            b1 = _mm256_fmadd_ps(v1, _mm256_loadu_ps(x1 + 8), b1);
            c0 = _mm256_fmadd_ps(v2, _mm256_loadu_ps(x2), c0);
            c1 = _mm256_fmadd_ps(v2, _mm256_loadu_ps(x2 + 8), c1);
            d0 = _mm256_fmadd_ps(v3, _mm256_loadu_ps(x3), d0);
            d1 = _mm256_fmadd_ps(v3, _mm256_loadu_ps(x3 + 8), d1);
        }
        for (; j < e; j++) {
            const float *x0 = xt + IDX(j) * 16;
            __m256 v0 = _mm256_broadcast_ss(values + j);
            a0 = _mm256_fmadd_ps(v0, _mm256_loadu_ps(x0), a0);
            a1 = _mm256_fmadd_ps(v0, _mm256_loadu_ps(x0 + 8), a1);
        }
        float *out = yt + (r - r0) * 16;
        _mm256_storeu_ps(out, _mm256_add_ps(_mm256_add_ps(a0, b0), _mm256_add_ps(c0, d0)));
        _mm256_storeu_ps(out + 8, _mm256_add_ps(_mm256_add_ps(a1, b1), _mm256_add_ps(c1, d1)));
    }
}

static inline __attribute__((always_inline)) BK_TARGET_AVX2 void rows_8(const float *xt, const int32_t *row_ptr,
                                                                       const void *col_idx, const int ib,
                                                                       const float *values, int64_t r0, int64_t r1,
                                                                       float *yt) {
    for (int64_t r = r0; r < r1; r++) {
        __m256 a = _mm256_setzero_ps(), b = a, c = a, d = a;
        int64_t j = row_ptr[r], e = row_ptr[r + 1];
        for (; j + 4 <= e; j += 4) {
            BK_CSR_PREFETCH_AHEAD(j);
            a = _mm256_fmadd_ps(_mm256_broadcast_ss(values + j), _mm256_loadu_ps(xt + IDX(j) * 8), a);
            b = _mm256_fmadd_ps(_mm256_broadcast_ss(values + j + 1), _mm256_loadu_ps(xt + IDX(j + 1) * 8), b);
            c = _mm256_fmadd_ps(_mm256_broadcast_ss(values + j + 2), _mm256_loadu_ps(xt + IDX(j + 2) * 8), c);
            d = _mm256_fmadd_ps(_mm256_broadcast_ss(values + j + 3), _mm256_loadu_ps(xt + IDX(j + 3) * 8), d);
        }
        for (; j < e; j++) a = _mm256_fmadd_ps(_mm256_broadcast_ss(values + j), _mm256_loadu_ps(xt + IDX(j) * 8), a);
        _mm256_storeu_ps(yt + (r - r0) * 8, _mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d)));
    }
}

BK_TARGET_AVX2 void bk_csr_rows_avx2(const float *xt, int width, const int32_t *row_ptr, const void *col_idx,
                                     int index_bytes, const float *values, int64_t r0, int64_t r1, float *yt) {
    if (width == 16) {
        if (index_bytes == 2) rows_16(xt, row_ptr, col_idx, 2, values, r0, r1, yt);
        else rows_16(xt, row_ptr, col_idx, 4, values, r0, r1, yt);
    } else {
        if (index_bytes == 2) rows_8(xt, row_ptr, col_idx, 2, values, r0, r1, yt);
        else rows_8(xt, row_ptr, col_idx, 4, values, r0, r1, yt);
    }
}
#endif
