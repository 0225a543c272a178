/* AVX-512 kernels for bk_linear_packed: MR x 32 micro-kernels (2*MR zmm accumulators) over a strip of
 * packed x ([kc][R]) and one pre-packed 32-column panel of W; for a masked task each panel row is
 * loaded through its 32-bit keep word (zero-masking loads), so masking costs no extra pass. A fused GELU
 * runs on each tile right after its last K block is stored, while the tile is still in L1. */
#include "bk_internal.h"
#if BK_X86
#include <immintrin.h>
#include "vecmath_avx512.h"

#define MR BK_PACKED_MR_AVX512
/* Blocking: a 12 x 32 tile accumulates over a K block of KC steps in registers before it is stored, and the
 * block of x (about MC_DENSE or MC_MASKED rows x KC) stays in L2 while every panel of the task passes over it. K = 768 goes in one
 * go (the tile is not read back and added to). Dense weights take M blocks of about 120 rows (360 KiB of x): dense
 * BERT-base 8 x 128 at two threads spent about 2% less time in the GEMMs than with 384 x 240 (11 of 12 alternating
 * comparisons; 96-192 rows alike), MiniLM 8 x 128 about 2% less. A masked task whose panels are copied through the
 * mask (below) takes blocks of about 240 rows, so each copy serves more strips (BERT-base 8 x 128: 1-5% less GEMM
 * time than 384 x 240 in three comparisons; 768 x 120 was slower). A masked task with few rows (keep words applied
 * on every load) gains from K = 768 as well: masked / dense in alternating pairs at 1 x 32 1.149 with K blocks of
 * 384 for it, 1.075 with 768 (1 x 128: 1.112, 1.088). */
#define KC 768
#define MC_DENSE 120
#define MC_MASKED 240
/* A masked task's panels are copied through the mask only for M blocks of more rows than this. */
#define COPY_ROWS 128

#define DEFINE_PK(R, MASKED)                                                                                 \
    static BK_TARGET_AVX512 void pk_##R##_##MASKED(const float *xs, int64_t ldx, int64_t kc, const float *wp,             \
                                                   const uint32_t *keep, const float *bias, float *y,        \
                                                   int64_t ldy, int nr, int acc) {                           \
        __m512 c0[R], c1[R];                                                                                 \
        for (int r = 0; r < R; r++) { c0[r] = _mm512_setzero_ps(); c1[r] = _mm512_setzero_ps(); }           \
        for (int64_t kk = 0; kk < kc; kk++) {                                                                \
            __m512 b0, b1;                                                                                   \
            if (MASKED) {                                                                                    \
                uint32_t bits = keep[kk];                                                                    \
                b0 = _mm512_maskz_load_ps((__mmask16)bits, wp + kk * 32);                                    \
                b1 = _mm512_maskz_load_ps((__mmask16)(bits >> 16), wp + kk * 32 + 16);                       \
            } else {                                                                                         \
                b0 = _mm512_load_ps(wp + kk * 32);                                                           \
                b1 = _mm512_load_ps(wp + kk * 32 + 16);                                                      \
            }                                                                                                \
            for (int r = 0; r < R; r++) {                                                                    \
                __m512 a = _mm512_set1_ps(xs[r * ldx + kk]);                                                   \
                c0[r] = _mm512_fmadd_ps(a, b0, c0[r]);                                                       \
                c1[r] = _mm512_fmadd_ps(a, b1, c1[r]);                                                       \
            }                                                                                                \
        }                                                                                                    \
        __mmask16 m0 = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1);                           \
        __mmask16 m1 = nr >= 32 ? (__mmask16)0xFFFF : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1) : 0;       \
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();                                           \
        if (!acc && bias) {                                                                                  \
            a0 = _mm512_maskz_loadu_ps(m0, bias);                                                            \
            a1 = _mm512_maskz_loadu_ps(m1, bias + 16);                                                       \
        }                                                                                                    \
        for (int r = 0; r < R; r++) {                                                                        \
            if (acc) {                                                                                       \
                a0 = _mm512_maskz_loadu_ps(m0, y + r * ldy);                                                 \
                a1 = _mm512_maskz_loadu_ps(m1, y + r * ldy + 16);                                            \
            }                                                                                                \
            _mm512_mask_storeu_ps(y + r * ldy, m0, _mm512_add_ps(c0[r], a0));                                \
            _mm512_mask_storeu_ps(y + r * ldy + 16, m1, _mm512_add_ps(c1[r], a1));                           \
        }                                                                                                    \
    }

#define DEFINE_BOTH(R) DEFINE_PK(R, 0) DEFINE_PK(R, 1)
DEFINE_BOTH(1) DEFINE_BOTH(2) DEFINE_BOTH(3) DEFINE_BOTH(4) DEFINE_BOTH(5) DEFINE_BOTH(6)
DEFINE_BOTH(7) DEFINE_BOTH(8) DEFINE_BOTH(9) DEFINE_BOTH(10) DEFINE_BOTH(11) DEFINE_BOTH(12)

typedef void (*pk_fn)(const float *, int64_t, int64_t, const float *, const uint32_t *, const float *, float *, int64_t, int, int);
static pk_fn const plain[MR + 1] = {0, pk_1_0, pk_2_0, pk_3_0, pk_4_0, pk_5_0, pk_6_0,
                                    pk_7_0, pk_8_0, pk_9_0, pk_10_0, pk_11_0, pk_12_0};
static pk_fn const masked[MR + 1] = {0, pk_1_1, pk_2_1, pk_3_1, pk_4_1, pk_5_1, pk_6_1,
                                     pk_7_1, pk_8_1, pk_9_1, pk_10_1, pk_11_1, pk_12_1};

/* bk_gelu16 on the R x nr tile at y, just stored and still in L1 (the same bits as bk_gelu_erf). */
static BK_TARGET_AVX512 void gelu_tile(float *y, int64_t ldy, int64_t R, int nr) {
    __mmask16 m0 = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? (__mmask16)0xFFFF : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1) : 0;
    for (int64_t r = 0; r < R; r++) {
        float *row = y + r * ldy;
        _mm512_mask_storeu_ps(row, m0, bk_gelu16(_mm512_maskz_loadu_ps(m0, row)));
        if (m1) _mm512_mask_storeu_ps(row + 16, m1, bk_gelu16(_mm512_maskz_loadu_ps(m1, row + 16)));
    }
}

BK_TARGET_AVX512 void bk_packed_cols_avx512(const float *xp, int64_t ldx, int64_t m, int64_t k, const float *packed,
                                             const uint32_t *keep, int64_t p0, int64_t p1, int64_t n, const float *bias,
                                             float *y, int gelu) {
    bk_packed_cols_avx512_ld(xp, ldx, m, k, packed, keep, p0, p1, n, bias, y, gelu, n);
}

BK_TARGET_AVX512 void bk_packed_cols_avx512_ld(const float *xp, int64_t ldx, int64_t m, int64_t k, const float *packed,
                                                const uint32_t *keep, int64_t p0, int64_t p1, int64_t n,
                                                const float *bias, float *y, int gelu, int64_t ldy) {
    /* A masked task with many rows: each (panel, K block) is copied once through its keep words into a small
     * buffer that the plain kernels then read for every strip. With few rows (a 1 x 128 or 1 x 32 batch) the
     * copy costs more than it saves, and the masked kernels apply the words on every load instead (they are
     * also the fallback when the buffer cannot be had). 1 x 32 BERT-base masked task, one thread: 76 -> 63 ms
     * (dense 61); 8 x 128: the copy is 4-7% faster. */
    float *panel = keep && m > COPY_ROWS ? bk_scratch(BK_SCRATCH_PANEL, KC * 32) : 0;
    int64_t target = keep ? MC_MASKED : MC_DENSE;
    /* round(m / target) blocks (at least one) of whole strips: dense, 1024 rows are 8 x 120 + 64, 128 one block. */
    int64_t blocks = (m + target / 2) / target < 1 ? 1 : (m + target / 2) / target;
    int64_t block_rows = ((m + blocks - 1) / blocks + MR - 1) / MR * MR;
    for (int64_t m0 = 0; m0 < m; m0 += block_rows) {
        int64_t mc = m - m0 < block_rows ? m - m0 : block_rows;
        int copy = panel && mc > COPY_ROWS;
        pk_fn const *kernels = keep && !copy ? masked : plain;
        for (int64_t k0 = 0; k0 < k; k0 += KC) {
            int64_t kc = k - k0 < KC ? k - k0 : KC;
            for (int64_t p = p0; p < p1; p++) {
                int64_t col = p * 32;
                int nr = (int)(n - col < 32 ? n - col : 32);
                const float *wp = packed + (p * k + k0) * 32;
                const uint32_t *kp = keep ? keep + p * k + k0 : 0;
                if (copy) {
                    for (int64_t kk = 0; kk < kc; kk++) {
                        _mm512_store_ps(panel + kk * 32, _mm512_maskz_load_ps((__mmask16)kp[kk], wp + kk * 32));
                        _mm512_store_ps(panel + kk * 32 + 16,
                                        _mm512_maskz_load_ps((__mmask16)(kp[kk] >> 16), wp + kk * 32 + 16));
                    }
                    wp = panel;
                }
                const float *b = bias ? bias + col : 0;
                for (int64_t r0 = m0; r0 < m0 + mc; r0 += MR) {
                    int64_t R = m0 + mc - r0 < MR ? m0 + mc - r0 : MR;
                    kernels[R](xp + r0 * ldx + k0, ldx, kc, wp, kp, b, y + r0 * ldy + col, ldy, nr, k0 > 0);
                    if (gelu && k0 + kc == k) gelu_tile(y + r0 * ldy + col, ldy, R, nr);
                }
            }
        }
    }
}
#endif
