/* AVX-512 attention for one (batch, head), in blocks of up to twelve query rows. K is transposed into scratch
 * ([D][sp], 16 x 16 tiles through registers). Scores: the block's rows times kt, 32 keys (two zmm) per step, 24
 * accumulators, as the packed GEMM's 12 x 32 tiles; the softmax is vectorised (its scale folded into a base-2
 * exponent, masked keys exactly 0); the output: the probabilities times V (read in place), 32 head dims per step,
 * scaled by 1/sum at the end. kt and V (32 KB each for 128 keys of 64 dims) do not fit in L1 together, so every
 * block reads both from L2: twelve rows a block make that three times rarer than four did. Each accumulator sums
 * over d (scores) or s (output) in order, so results do not depend on the blocking (the same bits as four rows x 64
 * keys). Same semantics as the portable body in attention.c. */
#include "bk_internal.h"
#if BK_X86
#include <immintrin.h>
#include <math.h>
#include "transpose16_avx512.h"

#define ROWS BK_ATTENTION_ROWS
#define NV 2 /* zmm of keys (scores) or head dims (output) per step */

static inline __mmask16 tail_mask(int64_t left) {
    return left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
}

/* kt[d][s] = kb[s * H + d] for s < S, 0 for S <= s < sp. */
static BK_TARGET_AVX512 void transpose_k(const float *kb, int64_t S, int64_t H, int64_t D, int64_t sp, float *kt) {
    for (int64_t s0 = 0; s0 < sp; s0 += 16) {
        for (int64_t d0 = 0; d0 < D; d0 += 16) {
            __mmask16 md = tail_mask(D - d0);
            __m512 r[16], out[16];
            for (int i = 0; i < 16; i++)
                r[i] = s0 + i < S ? _mm512_maskz_loadu_ps(md, kb + (s0 + i) * H + d0) : _mm512_setzero_ps();
            transpose16(r, out);
            for (int64_t d = 0; d < 16 && d0 + d < D; d++) _mm512_store_ps(kt + (d0 + d) * sp + s0, out[d]);
        }
    }
}

/* p[r][s] = q_r . k_s (unscaled: softmax_row folds the scale into its exponent) for R rows (q row stride H),
 * keys [s0, s0 + 16 N). */
static inline __attribute__((always_inline)) BK_TARGET_AVX512 void scores_step(const float *q, int64_t H, int64_t D,
                                                                              const float *kt, int64_t sp, int64_t s0,
                                                                              float *p, const int R, const int N) {
    __m512 c[ROWS][NV];
    for (int r = 0; r < R; r++)
        for (int v = 0; v < N; v++) c[r][v] = _mm512_setzero_ps();
    for (int64_t d = 0; d < D; d++) {
        __m512 k[NV];
        for (int v = 0; v < N; v++) k[v] = _mm512_load_ps(kt + d * sp + s0 + 16 * v);
        for (int r = 0; r < R; r++) {
            __m512 a = _mm512_set1_ps(q[r * H + d]);
            for (int v = 0; v < N; v++) c[r][v] = _mm512_fmadd_ps(a, k[v], c[r][v]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int v = 0; v < N; v++) _mm512_store_ps(p + r * sp + s0 + 16 * v, c[r][v]);
}

/* 2^t for t <= 0 (a row's scores less its max, in units of log2 e), within about 2 ulp; 0 below -150.
 * t = n + f with n an integer and |f| <= 1/2, 2^f a degree-5 polynomial fitted for relative error
 * (9.1e-8 in exact arithmetic), times 2^n by scalef; lanes off in keep come out exactly 0. */
static inline __attribute__((always_inline)) BK_TARGET_AVX512 __m512 exp2_kept(__mmask16 keep, __m512 t) {
    t = _mm512_max_ps(t, _mm512_set1_ps(-150.0f));
    __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 f = _mm512_sub_ps(t, n);
    __m512 p = _mm512_set1_ps(1.3264723820611835e-3f);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.671512991189957e-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.550733581185341e-2f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.4022242426872253e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.931470036506653e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
    return _mm512_maskz_scalef_ps(keep, p, n);
}

/* In place on a row of unscaled scores x: p[s] = exp(scale (x[s] - max)) for kept keys (keep: one mask per
 * 16 keys), 0 elsewhere; returns 1/sum. The exponent in base 2 is one FMA, x sl - max sl with sl = scale
 * log2 e: the rounding of max sl scales every kept p alike and cancels in the normalisation. */
static BK_TARGET_AVX512 float softmax_row(float *p, int64_t sp, const __mmask16 *keep, float sl) {
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (int64_t s0 = 0; s0 < sp; s0 += 16)
        mx = _mm512_mask_max_ps(mx, keep[s0 / 16], mx, _mm512_load_ps(p + s0));
    const __m512 vsl = _mm512_set1_ps(sl), msl = _mm512_set1_ps(_mm512_reduce_max_ps(mx) * sl);
    __m512 sum = _mm512_setzero_ps();
    for (int64_t s0 = 0; s0 < sp; s0 += 16) {
        __m512 e = exp2_kept(keep[s0 / 16], _mm512_fmsub_ps(_mm512_load_ps(p + s0), vsl, msl));
        _mm512_store_ps(p + s0, e);
        sum = _mm512_add_ps(sum, e);
    }
    return 1.0f / _mm512_reduce_add_ps(sum);
}

/* o[r][d0 + ...] = inv[r] * sum_s p[r][s] v[s][d0 + ...] for R rows, N zmm of head dims (tail masks m). */
static inline __attribute__((always_inline)) BK_TARGET_AVX512 void output_step(const float *p, int64_t sp, int64_t S,
                                                                              const float *v, int64_t H, int64_t d0,
                                                                              const __mmask16 *m, const float *inv,
                                                                              float *o, const int R, const int N) {
    __m512 c[ROWS][NV];
    for (int r = 0; r < R; r++)
        for (int u = 0; u < N; u++) c[r][u] = _mm512_setzero_ps();
    for (int64_t s = 0; s < S; s++) {
        __m512 x[NV];
        for (int u = 0; u < N; u++) x[u] = _mm512_maskz_loadu_ps(m[u], v + s * H + d0 + 16 * u);
        for (int r = 0; r < R; r++) {
            __m512 a = _mm512_set1_ps(p[r * sp + s]);
            for (int u = 0; u < N; u++) c[r][u] = _mm512_fmadd_ps(a, x[u], c[r][u]);
        }
    }
    for (int r = 0; r < R; r++) {
        __m512 vi = _mm512_set1_ps(inv[r]);
        for (int u = 0; u < N; u++) _mm512_mask_storeu_ps(o + r * H + d0 + 16 * u, m[u], _mm512_mul_ps(c[r][u], vi));
    }
}

static inline __attribute__((always_inline)) BK_TARGET_AVX512 void rows_block(const float *q, const float *kt,
                                                                             const float *v, float *o, float *p,
                                                                             const __mmask16 *keep, int64_t S,
                                                                             int64_t sp, int64_t H, int64_t D,
                                                                             float sl, const int R) {
    int64_t s0 = 0;
    for (; s0 + 32 <= sp; s0 += 32) scores_step(q, H, D, kt, sp, s0, p, R, 2);
    if (s0 < sp) scores_step(q, H, D, kt, sp, s0, p, R, 1); /* sp is a multiple of 16 */
    float inv[ROWS];
    for (int r = 0; r < R; r++) inv[r] = softmax_row(p + r * sp, sp, keep, sl);
    for (int64_t d0 = 0; d0 < D; d0 += 32) {
        __mmask16 m[NV];
        for (int u = 0; u < NV; u++) m[u] = tail_mask(D - d0 - 16 * u);
        if (D - d0 > 16) output_step(p, sp, S, v, H, d0, m, inv, o, R, 2);
        else output_step(p, sp, S, v, H, d0, m, inv, o, R, 1);
    }
}

/* One (batch, head) with at least one kept key. scratch: D*sp + ROWS*sp floats (64-byte aligned),
 * keep: sp/16 masks. */
BK_TARGET_AVX512 void bk_attention_head_avx512(const float *qb, const float *kb, const float *vb, const int32_t *mb,
                                               int64_t S, int64_t H, int64_t D, float *ob, float *scratch,
                                               uint16_t *keep) {
    int64_t sp = (S + 15) & ~(int64_t)15;
    float *kt = scratch, *p = scratch + D * sp;
    transpose_k(kb, S, H, D, sp, kt);
    for (int64_t s0 = 0; s0 < sp; s0 += 16) {
        __mmask16 m = tail_mask(S - s0);
        if (mb)
            for (int i = 0; i < 16 && s0 + i < S; i++)
                if (!mb[s0 + i]) m &= (__mmask16)~(1u << i);
        keep[s0 / 16] = m;
    }
    const float sl = 1.4426950408889634f / sqrtf((float)D);
    int64_t i = 0;
    for (; i + ROWS <= S; i += ROWS) rows_block(qb + i * H, kt, vb, ob + i * H, p, keep, S, sp, H, D, sl, ROWS);
    switch (S - i) {
#define TAIL(R) case R: rows_block(qb + i * H, kt, vb, ob + i * H, p, keep, S, sp, H, D, sl, R); break;
    TAIL(11) TAIL(10) TAIL(9) TAIL(8) TAIL(7) TAIL(6) TAIL(5) TAIL(4) TAIL(3) TAIL(2) TAIL(1)
#undef TAIL
    default: break;
    }
}
#endif
