/* AVX2+FMA micro-kernels for bk_linear: panels of 16 columns (two ymm), up to 6 rows at once. The same
 * kernels serve bk_masked_linear, whose panels are packed with the zeroed-entry bitmap applied. */
#include "bk_internal.h"
#if BK_X86
#include <immintrin.h>
#include <string.h>


#define NR 16
#define MR 6

#define DEFINE_MK(R)                                                                                   \
    static BK_TARGET_AVX2 void mk_##R(const float *x, int64_t ldx, int64_t k, const float *pack,        \
                                      const float *bias, float *y, int64_t ldy, int nr) {             \
        __m256 c0[R], c1[R];                                                                           \
        for (int r = 0; r < R; r++) { c0[r] = _mm256_setzero_ps(); c1[r] = _mm256_setzero_ps(); }     \
        for (int64_t kk = 0; kk < k; kk++) {                                                           \
            __m256 b0 = _mm256_load_ps(pack + kk * NR);                                                \
            __m256 b1 = _mm256_load_ps(pack + kk * NR + 8);                                            \
            for (int r = 0; r < R; r++) {                                                              \
                __m256 a = _mm256_broadcast_ss(x + r * ldx + kk);                                      \
                c0[r] = _mm256_fmadd_ps(a, b0, c0[r]);                                                 \
                c1[r] = _mm256_fmadd_ps(a, b1, c1[r]);                                                 \
            }                                                                                          \
        }                                                                                              \
        for (int r = 0; r < R; r++) {                                                                  \
            float tmp[NR] __attribute__((aligned(32)));                                                \
            _mm256_store_ps(tmp, c0[r]);                                                               \
            _mm256_store_ps(tmp + 8, c1[r]);                                                           \
            for (int j = 0; j < nr; j++) y[r * ldy + j] = tmp[j] + (bias ? bias[j] : 0.0f);            \
        }                                                                                              \
    }

DEFINE_MK(1)
DEFINE_MK(2)
DEFINE_MK(3)
DEFINE_MK(4)
DEFINE_MK(5)
DEFINE_MK(6)

/* bk_pack_panel_masked with AVX2: eight columns of a row at a time, the bitmap's bits widened to a lane
 * mask that clears the zeroed entries, then the same transposing stores as the plain packing. */
static BK_TARGET_AVX2 void pack_panel_masked(const float *w, const uint64_t *zbits, int64_t k, int64_t p, int nr,
                                             float *pack) {
    const __m256i lane = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    float tmp[8] __attribute__((aligned(32)));
    for (int j = 0; j < nr; j++) {
        const float *row = w + (p + j) * k;
        uint64_t bit0 = (uint64_t)(p + j) * (uint64_t)k;
        int64_t kk = 0;
        for (; kk + 8 <= k; kk += 8) {
            __m256i b = _mm256_set1_epi32((int)bk_bits_at(zbits, bit0 + (uint64_t)kk, 8));
            __m256 zero = _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(b, lane), lane));
            _mm256_store_ps(tmp, _mm256_andnot_ps(zero, _mm256_loadu_ps(row + kk)));
            for (int i = 0; i < 8; i++) pack[(kk + i) * NR + j] = tmp[i];
        }
        for (; kk < k; kk++) {
            uint32_t u;
            memcpy(&u, row + kk, sizeof u);
            u &= (uint32_t)(bk_bits_at(zbits, bit0 + (uint64_t)kk, 1) & 1) - 1u;
            memcpy(pack + kk * NR + j, &u, sizeof u);
        }
    }
    for (int j = nr; j < NR; j++)
        for (int64_t kk = 0; kk < k; kk++) pack[kk * NR + j] = 0.0f;
}

/* zbits: NULL, or the zeroed-entry bitmap of bk_masked_linear applied while packing. */
static inline __attribute__((always_inline)) int cols_avx2(const float *x, int64_t m, int64_t k, const float *w,
                                                           const uint64_t *zbits, int64_t n0, int64_t n1, int64_t n,
                                                           const float *bias, float *y) {
    float *pack = bk_scratch(BK_SCRATCH_PACK_W, (size_t)(k * NR));
    if (!pack) return -1;
    for (int64_t p = n0; p < n1; p += NR) {
        int nr = (int)(n1 - p < NR ? n1 - p : NR);
        if (zbits) pack_panel_masked(w, zbits, k, p, nr, pack);
        else bk_pack_panel(w, k, p, nr, NR, pack);
        const float *b = bias ? bias + p : 0;
        int64_t m0 = 0;
        for (; m0 + MR <= m; m0 += MR) mk_6(x + m0 * k, k, k, pack, b, y + m0 * n + p, n, nr);
        switch (m - m0) {
        case 5: mk_5(x + m0 * k, k, k, pack, b, y + m0 * n + p, n, nr); break;
        case 4: mk_4(x + m0 * k, k, k, pack, b, y + m0 * n + p, n, nr); break;
        case 3: mk_3(x + m0 * k, k, k, pack, b, y + m0 * n + p, n, nr); break;
        case 2: mk_2(x + m0 * k, k, k, pack, b, y + m0 * n + p, n, nr); break;
        case 1: mk_1(x + m0 * k, k, k, pack, b, y + m0 * n + p, n, nr); break;
        default: break;
        }
    }
    return 0;
}

int bk_linear_cols_avx2(const float *x, int64_t m, int64_t k, const float *w, int64_t n0, int64_t n1,
                        int64_t n, const float *bias, float *y) {
    return cols_avx2(x, m, k, w, NULL, n0, n1, n, bias, y);
}

int bk_masked_linear_cols_avx2(const float *x, int64_t m, int64_t k, const float *w, const uint64_t *zbits,
                               int64_t n0, int64_t n1, int64_t n, const float *bias, float *y) {
    return cols_avx2(x, m, k, w, zbits, n0, n1, n, bias, y);
}
#endif
