/* AVX-512 GEMM for bk_linear (y = x W^T + b). Blocked BLIS-style: for each block of MC rows and KC
 * of the K dimension, x is packed into MR-row strips (so the micro-kernel broadcasts from one
 * contiguous stream) and each 32-column panel of W is packed K-major (KC x 32, sized to stay in
 * L1). The MR x 32 micro-kernel keeps 2*MR zmm accumulators; the first K block adds the bias,
 * later ones accumulate into y. Edges: masked stores for partial panels, smaller kernels for the
 * last rows. Scratch is per thread (bk_scratch), so calls do not allocate after the first. */
#include "bk_internal.h"
#if BK_X86
#include <immintrin.h>
#include <string.h>

#define NR 32
#define MR 12
#define KC 256
#define MC 240

/* xp: kc x R interleaved (xp[kk * R + r]); pack: kc x NR. */
#define DEFINE_MK(R)                                                                                   \
    static BK_TARGET_AVX512 void mk_##R(const float *xp, int64_t k, const float *pack,                 \
                                        const float *bias, float *y, int64_t ldy, int nr, int acc) {  \
        __m512 c0[R], c1[R];                                                                           \
        for (int r = 0; r < R; r++) { c0[r] = _mm512_setzero_ps(); c1[r] = _mm512_setzero_ps(); }     \
        for (int64_t kk = 0; kk < k; kk++) {                                                           \
            __m512 b0 = _mm512_load_ps(pack + kk * NR);                                                \
            __m512 b1 = _mm512_load_ps(pack + kk * NR + 16);                                           \
            for (int r = 0; r < R; r++) {                                                              \
                __m512 a = _mm512_set1_ps(xp[kk * R + r]);                                             \
                c0[r] = _mm512_fmadd_ps(a, b0, c0[r]);                                                 \
                c1[r] = _mm512_fmadd_ps(a, b1, c1[r]);                                                 \
            }                                                                                          \
        }                                                                                              \
        __mmask16 m0 = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1);                     \
        __mmask16 m1 = nr >= 32 ? (__mmask16)0xFFFF : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1) : 0; \
        __m512 a0, a1;                                                                                 \
        if (!acc) {                                                                                    \
            a0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();                         \
            a1 = bias ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();                    \
        }                                                                                              \
        for (int r = 0; r < R; r++) {                                                                  \
            if (acc) {                                                                                 \
                a0 = _mm512_maskz_loadu_ps(m0, y + r * ldy);                                           \
                a1 = _mm512_maskz_loadu_ps(m1, y + r * ldy + 16);                                      \
            }                                                                                          \
            _mm512_mask_storeu_ps(y + r * ldy, m0, _mm512_add_ps(c0[r], a0));                          \
            _mm512_mask_storeu_ps(y + r * ldy + 16, m1, _mm512_add_ps(c1[r], a1));                     \
        }                                                                                              \
    }

DEFINE_MK(1)
DEFINE_MK(2)
DEFINE_MK(3)
DEFINE_MK(4)
DEFINE_MK(5)
DEFINE_MK(6)
DEFINE_MK(7)
DEFINE_MK(8)
DEFINE_MK(9)
DEFINE_MK(10)
DEFINE_MK(11)
DEFINE_MK(12)

typedef void (*mk_fn)(const float *, int64_t, const float *, const float *, float *, int64_t, int, int);
static mk_fn const kernels[MR + 1] = {0, mk_1, mk_2, mk_3, mk_4, mk_5, mk_6, mk_7, mk_8, mk_9, mk_10, mk_11, mk_12};

/* Pack rows [m0, m0+mc) and columns [k0, k0+kc) of x into strips of MR rows (the last strip has
 * mc % MR rows and is interleaved by that count). */
static void pack_x(const float *x, int64_t k, int64_t m0, int64_t mc, int64_t k0, int64_t kc, float *xp) {
    for (int64_t s = 0; s < mc; s += MR) {
        int64_t rows = mc - s < MR ? mc - s : MR;
        float *dst = xp + s * kc;
        for (int64_t r = 0; r < rows; r++) {
            const float *src = x + (m0 + s + r) * k + k0;
            for (int64_t kk = 0; kk < kc; kk++) dst[kk * rows + r] = src[kk];
        }
    }
}

/* Pack columns [k0, k0+kc) of W rows [p, p+nr) as kc x NR, zero-padding missing columns, and
 * prefetch the same columns of the next `ahead` rows (the next panel) so that they arrive from
 * memory while the micro-kernels run. */
static BK_TARGET_AVX512 void pack_w(const float *w, int64_t k, int64_t p, int64_t nr, int64_t k0, int64_t kc,
                                    int64_t ahead, float *pack) {
    if (nr < NR) memset(pack, 0, sizeof(float) * (size_t)(kc * NR));
    for (int64_t j = 0; j < nr; j++) {
        const float *row = w + (p + j) * k + k0;
        for (int64_t kk = 0; kk < kc; kk++) pack[kk * NR + j] = row[kk];
        if (j < ahead) {
            const char *next = (const char *)(row + NR * k);
            for (int64_t off = 0; off < kc * 4; off += 64) __builtin_prefetch(next + off, 0, 2);
        }
    }
}

/* pack_w for bk_masked_linear: entry (p + j, k0 + kk) is zero when bit (p + j) * k + k0 + kk of zbits is set.
 * Sixteen columns at a time: a zero-masking load driven by the bitmap, then the same transposing stores. */
static BK_TARGET_AVX512 void pack_w_masked(const float *w, const uint64_t *zbits, int64_t k, int64_t p, int64_t nr,
                                           int64_t k0, int64_t kc, int64_t ahead, float *pack) {
    if (nr < NR) memset(pack, 0, sizeof(float) * (size_t)(kc * NR));
    float tmp[16] __attribute__((aligned(64)));
    for (int64_t j = 0; j < nr; j++) {
        const float *row = w + (p + j) * k + k0;
        uint64_t bit0 = (uint64_t)(p + j) * (uint64_t)k + (uint64_t)k0;
        int64_t kk = 0;
        for (; kk + 16 <= kc; kk += 16) {
            __mmask16 keep = (__mmask16)~bk_bits_at(zbits, bit0 + (uint64_t)kk, 16);
            _mm512_store_ps(tmp, _mm512_maskz_loadu_ps(keep, row + kk));
            for (int i = 0; i < 16; i++) pack[(kk + i) * NR + j] = tmp[i];
        }
        if (kk < kc) {
            int rest = (int)(kc - kk);
            __mmask16 keep = (__mmask16)(~bk_bits_at(zbits, bit0 + (uint64_t)kk, rest) & ((1u << rest) - 1));
            _mm512_store_ps(tmp, _mm512_maskz_loadu_ps(keep, row + kk));
            for (int i = 0; i < rest; i++) pack[(kk + i) * NR + j] = tmp[i];
        }
        if (j < ahead) {
            const char *next = (const char *)(row + NR * k);
            for (int64_t off = 0; off < kc * 4; off += 64) __builtin_prefetch(next + off, 0, 2);
        }
    }
}

/* zbits: NULL, or the zeroed-entry bitmap of bk_masked_linear applied while packing. */
static inline __attribute__((always_inline)) int cols_avx512(const float *x, int64_t m, int64_t k, const float *w,
                                                             const uint64_t *zbits, int64_t n0, int64_t n1, int64_t n,
                                                             const float *bias, float *y) {
    int64_t kcmax = k < KC ? k : KC, mcmax = m < MC ? m : MC;
    float *pack = bk_scratch(BK_SCRATCH_PACK_W, (size_t)(kcmax * NR));
    float *xp = bk_scratch(BK_SCRATCH_PACK_X, (size_t)(kcmax * mcmax));
    if (!pack || !xp) return -1;
    for (int64_t m0 = 0; m0 < m; m0 += MC) {
        int64_t mc = m - m0 < MC ? m - m0 : MC;
        for (int64_t k0 = 0; k0 < k; k0 += KC) {
            int64_t kc = k - k0 < KC ? k - k0 : KC;
            pack_x(x, k, m0, mc, k0, kc, xp);
            for (int64_t p = n0; p < n1; p += NR) {
                int nr = (int)(n1 - p < NR ? n1 - p : NR);
                int64_t ahead = n1 - (p + NR) < NR ? n1 - (p + NR) : NR;
                if (zbits) pack_w_masked(w, zbits, k, p, nr, k0, kc, ahead > 0 ? ahead : 0, pack);
                else pack_w(w, k, p, nr, k0, kc, ahead > 0 ? ahead : 0, pack);
                const float *b = bias ? bias + p : 0;
                for (int64_t s = 0; s < mc; s += MR) {
                    int64_t rows = mc - s < MR ? mc - s : MR;
                    kernels[rows](xp + s * kc, kc, pack, b, y + (m0 + s) * n + p, n, nr, k0 > 0);
                }
            }
        }
    }
    return 0;
}

int bk_linear_cols_avx512(const float *x, int64_t m, int64_t k, const float *w, int64_t n0, int64_t n1,
                          int64_t n, const float *bias, float *y) {
    return cols_avx512(x, m, k, w, NULL, n0, n1, n, bias, y);
}

int bk_masked_linear_cols_avx512(const float *x, int64_t m, int64_t k, const float *w, const uint64_t *zbits,
                                 int64_t n0, int64_t n1, int64_t n, const float *bias, float *y) {
    return cols_avx512(x, m, k, w, zbits, n0, n1, n, bias, y);
}
#endif
