/* AVX2+FMA micro-kernels for bk_linear: panels of 16 columns (two ymm), up to 6 rows at once. */
#include "bk_internal.h"
#if BK_X86
#include <immintrin.h>


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

int bk_linear_cols_avx2(const float *x, int64_t m, int64_t k, const float *w, int64_t n0, int64_t n1,
                        int64_t n, const float *bias, float *y) {
    float *pack = bk_scratch(BK_SCRATCH_PACK_W, (size_t)(k * NR));
    if (!pack) return -1;
    for (int64_t p = n0; p < n1; p += NR) {
        int nr = (int)(n1 - p < NR ? n1 - p : NR);
        bk_pack_panel(w, k, p, nr, NR, pack);
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
#endif
