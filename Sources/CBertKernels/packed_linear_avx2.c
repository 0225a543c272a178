/* AVX2+FMA kernels for bk_linear_packed: MR x 16 micro-kernels over half of a pre-packed 32-column panel
 * (row stride 32); a masked task's keep bits are widened to lane masks (8 columns per compare). */
#include "bk_internal.h"
#if BK_X86
#include <immintrin.h>

#define MR BK_PACKED_MR_AVX2
#define KC 256

#define DEFINE_PK(R, MASKED)                                                                                 \
    static BK_TARGET_AVX2 void pk_##R##_##MASKED(const float *xs, int64_t kc, const float *wp,               \
                                                 const uint32_t *keep, int shift, const float *bias,         \
                                                 float *y, int64_t ldy, int nr, int acc) {                   \
        __m256 c0[R], c1[R];                                                                                 \
        for (int r = 0; r < R; r++) { c0[r] = _mm256_setzero_ps(); c1[r] = _mm256_setzero_ps(); }           \
        const __m256i lane = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);                                 \
        for (int64_t kk = 0; kk < kc; kk++) {                                                                \
            __m256 b0 = _mm256_load_ps(wp + kk * 32);                                                        \
            __m256 b1 = _mm256_load_ps(wp + kk * 32 + 8);                                                    \
            if (MASKED) {                                                                                    \
                uint32_t bits = keep[kk] >> shift;                                                           \
                __m256i l0 = _mm256_set1_epi32((int)(bits & 255u)), l1 = _mm256_set1_epi32((int)((bits >> 8) & 255u)); \
                b0 = _mm256_and_ps(b0, _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(l0, lane), lane))); \
                b1 = _mm256_and_ps(b1, _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(l1, lane), lane))); \
            }                                                                                                \
            for (int r = 0; r < R; r++) {                                                                    \
                __m256 a = _mm256_broadcast_ss(xs + kk * R + r);                                             \
                c0[r] = _mm256_fmadd_ps(a, b0, c0[r]);                                                       \
                c1[r] = _mm256_fmadd_ps(a, b1, c1[r]);                                                       \
            }                                                                                                \
        }                                                                                                    \
        for (int r = 0; r < R; r++) {                                                                        \
            float tmp[16] __attribute__((aligned(32)));                                                      \
            _mm256_store_ps(tmp, c0[r]);                                                                     \
            _mm256_store_ps(tmp + 8, c1[r]);                                                                 \
            for (int j = 0; j < nr; j++)                                                                     \
                y[r * ldy + j] = tmp[j] + (acc ? y[r * ldy + j] : bias ? bias[j] : 0.0f);                    \
        }                                                                                                    \
    }

#define DEFINE_BOTH(R) DEFINE_PK(R, 0) DEFINE_PK(R, 1)
DEFINE_BOTH(1) DEFINE_BOTH(2) DEFINE_BOTH(3) DEFINE_BOTH(4) DEFINE_BOTH(5) DEFINE_BOTH(6)

typedef void (*pk_fn)(const float *, int64_t, const float *, const uint32_t *, int, const float *, float *, int64_t,
                      int, int);
static pk_fn const plain[MR + 1] = {0, pk_1_0, pk_2_0, pk_3_0, pk_4_0, pk_5_0, pk_6_0};
static pk_fn const masked[MR + 1] = {0, pk_1_1, pk_2_1, pk_3_1, pk_4_1, pk_5_1, pk_6_1};

void bk_packed_cols_avx2(const float *xp, int64_t m, int64_t k, const float *packed, const uint32_t *keep,
                         int64_t p0, int64_t p1, int64_t n, const float *bias, float *y) {
    pk_fn const *kernels = keep ? masked : plain;
    for (int64_t k0 = 0; k0 < k; k0 += KC) {
        int64_t kc = k - k0 < KC ? k - k0 : KC;
        for (int64_t p = p0; p < p1; p++) {
            for (int half = 0; half < 2; half++) {
                int64_t col = p * 32 + half * 16;
                if (col >= n) break;
                int nr = (int)(n - col < 16 ? n - col : 16);
                const float *wp = packed + (p * k + k0) * 32 + half * 16;
                const uint32_t *kp = keep ? keep + p * k + k0 : 0;
                const float *b = bias ? bias + col : 0;
                for (int64_t r0 = 0; r0 < m; r0 += MR) {
                    int64_t R = m - r0 < MR ? m - r0 : MR;
                    kernels[R](xp + r0 * k + k0 * R, kc, wp, kp, half * 16, b, y + r0 * n + col, n, nr, k0 > 0);
                }
            }
        }
    }
}
#endif
