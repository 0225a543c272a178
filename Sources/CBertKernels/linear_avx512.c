/* AVX-512 micro-kernels for bk_linear: panels of 32 columns (two zmm), up to 6 rows at once. */
#include "bk_internal.h"
#if BK_X86
#include <immintrin.h>

void bk_pack_panel(const float *w, int64_t k, int64_t p, int64_t nr, int64_t NR, float *pack);

#define NR 32
#define MR 6

#define DEFINE_MK(R)                                                                                   \
    static BK_TARGET_AVX512 void mk_##R(const float *x, int64_t ldx, int64_t k, const float *pack,      \
                                        const float *bias, float *y, int64_t ldy, int nr) {           \
        __m512 c0[R], c1[R];                                                                           \
        for (int r = 0; r < R; r++) { c0[r] = _mm512_setzero_ps(); c1[r] = _mm512_setzero_ps(); }     \
        for (int64_t kk = 0; kk < k; kk++) {                                                           \
            __m512 b0 = _mm512_load_ps(pack + kk * NR);                                                \
            __m512 b1 = _mm512_load_ps(pack + kk * NR + 16);                                           \
            for (int r = 0; r < R; r++) {                                                              \
                __m512 a = _mm512_set1_ps(x[r * ldx + kk]);                                            \
                c0[r] = _mm512_fmadd_ps(a, b0, c0[r]);                                                 \
                c1[r] = _mm512_fmadd_ps(a, b1, c1[r]);                                                 \
            }                                                                                          \
        }                                                                                              \
        __mmask16 m0 = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1);                     \
        __mmask16 m1 = nr >= 32 ? (__mmask16)0xFFFF : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1) : 0; \
        __m512 bias0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();                   \
        __m512 bias1 = bias ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();              \
        for (int r = 0; r < R; r++) {                                                                  \
            _mm512_mask_storeu_ps(y + r * ldy, m0, _mm512_add_ps(c0[r], bias0));                       \
            _mm512_mask_storeu_ps(y + r * ldy + 16, m1, _mm512_add_ps(c1[r], bias1));                  \
        }                                                                                              \
    }

DEFINE_MK(1)
DEFINE_MK(2)
DEFINE_MK(3)
DEFINE_MK(4)
DEFINE_MK(5)
DEFINE_MK(6)

BK_TARGET_AVX512
void bk_linear_cols_avx512(const float *x, int64_t m, int64_t k, const float *w, int64_t n0, int64_t n1,
                           int64_t n, const float *bias, float *y, float *pack) {
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
}
#endif
