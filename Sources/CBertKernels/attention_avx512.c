/* AVX-512 attention for one (batch, head): blocks of four query rows. Scores come from a
 * register-blocked product of the rows with K transposed into scratch ([D][S], 32 keys per step,
 * 8 accumulators); the softmax is vectorised (bk_exp16_avx512, masked keys exactly 0); the output
 * is a second register-blocked product of the probabilities with V, read in place, scaled by
 * 1/sum at the end. Same semantics as the portable body in attention.c. */
#include "bk_internal.h"
#if BK_X86
#include <immintrin.h>
#include <math.h>

/* exp(x) for 16 lanes, within about 2 ulp over the float range; underflows to exactly 0 for
 * x < -103.9 and is +inf above 88.72. Cody-Waite reduction, Cephes' degree-6 polynomial, scalef. */
BK_TARGET_AVX512 __m512 bk_exp16_avx512(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));
    x = _mm512_min_ps(x, _mm512_set1_ps(88.8f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    __m512 r2 = _mm512_mul_ps(r, r);
    p = _mm512_fmadd_ps(p, r2, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

static inline __mmask16 tail_mask(int64_t left) {
    return left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
}

/* scores[r][s] = scale * q_r . k_s for R rows (stride sp), keys [0, sp) (kt zero-padded). */
static inline __attribute__((always_inline)) BK_TARGET_AVX512 void scores_rows(const float *q, int64_t H, int64_t D,
                                                                              const float *kt, int64_t sp, float scale,
                                                                              float *p, const int R) {
    const __m512 vs = _mm512_set1_ps(scale);
    for (int64_t s0 = 0; s0 < sp; s0 += 32) {
        int two = s0 + 16 < sp;
        __m512 c0[4], c1[4];
        for (int r = 0; r < R; r++) { c0[r] = _mm512_setzero_ps(); c1[r] = _mm512_setzero_ps(); }
        for (int64_t d = 0; d < D; d++) {
            __m512 k0 = _mm512_load_ps(kt + d * sp + s0);
            __m512 k1 = two ? _mm512_load_ps(kt + d * sp + s0 + 16) : _mm512_setzero_ps();
            for (int r = 0; r < R; r++) {
                __m512 a = _mm512_set1_ps(q[r * H + d]);
                c0[r] = _mm512_fmadd_ps(a, k0, c0[r]);
                c1[r] = _mm512_fmadd_ps(a, k1, c1[r]);
            }
        }
        for (int r = 0; r < R; r++) {
            _mm512_store_ps(p + r * sp + s0, _mm512_mul_ps(c0[r], vs));
            if (two) _mm512_store_ps(p + r * sp + s0 + 16, _mm512_mul_ps(c1[r], vs));
        }
    }
}

/* In place: p[s] = exp(p[s] - max) for kept keys (keep: one mask per 16 keys), 0 elsewhere; returns 1/sum. */
static BK_TARGET_AVX512 float softmax_row(float *p, int64_t sp, const __mmask16 *keep) {
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (int64_t s0 = 0; s0 < sp; s0 += 16)
        mx = _mm512_mask_max_ps(mx, keep[s0 / 16], mx, _mm512_load_ps(p + s0));
    __m512 vmax = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
    __m512 sum = _mm512_setzero_ps();
    for (int64_t s0 = 0; s0 < sp; s0 += 16) {
        __m512 e = _mm512_maskz_mov_ps(keep[s0 / 16], bk_exp16_avx512(_mm512_sub_ps(_mm512_load_ps(p + s0), vmax)));
        _mm512_store_ps(p + s0, e);
        sum = _mm512_add_ps(sum, e);
    }
    return 1.0f / _mm512_reduce_add_ps(sum);
}

/* out[r][d] = inv[r] * sum_s p[r][s] v[s][d] for R rows, 32 head dims per step. */
static inline __attribute__((always_inline)) BK_TARGET_AVX512 void output_rows(const float *p, int64_t sp, int64_t S,
                                                                              const float *v, int64_t H, int64_t D,
                                                                              const float *inv, float *o, const int R) {
    for (int64_t d0 = 0; d0 < D; d0 += 32) {
        __mmask16 m0 = tail_mask(D - d0), m1 = tail_mask(D - d0 - 16);
        __m512 c0[4], c1[4];
        for (int r = 0; r < R; r++) { c0[r] = _mm512_setzero_ps(); c1[r] = _mm512_setzero_ps(); }
        for (int64_t s = 0; s < S; s++) {
            __m512 v0 = _mm512_maskz_loadu_ps(m0, v + s * H + d0);
            __m512 v1 = _mm512_maskz_loadu_ps(m1, v + s * H + d0 + 16);
            for (int r = 0; r < R; r++) {
                __m512 a = _mm512_set1_ps(p[r * sp + s]);
                c0[r] = _mm512_fmadd_ps(a, v0, c0[r]);
                c1[r] = _mm512_fmadd_ps(a, v1, c1[r]);
            }
        }
        for (int r = 0; r < R; r++) {
            __m512 vi = _mm512_set1_ps(inv[r]);
            _mm512_mask_storeu_ps(o + r * H + d0, m0, _mm512_mul_ps(c0[r], vi));
            _mm512_mask_storeu_ps(o + r * H + d0 + 16, m1, _mm512_mul_ps(c1[r], vi));
        }
    }
}

static inline __attribute__((always_inline)) BK_TARGET_AVX512 void rows_block(const float *q, const float *kt,
                                                                             const float *v, float *o, float *p,
                                                                             const __mmask16 *keep, int64_t S,
                                                                             int64_t sp, int64_t H, int64_t D,
                                                                             float scale, const int R) {
    float inv[4];
    scores_rows(q, H, D, kt, sp, scale, p, R);
    for (int r = 0; r < R; r++) inv[r] = softmax_row(p + r * sp, sp, keep);
    output_rows(p, sp, S, v, H, D, inv, o, R);
}

/* One (batch, head) with at least one kept key. scratch: D*sp + 4*sp floats (64-byte aligned),
 * keep: sp/16 masks. */
BK_TARGET_AVX512 void bk_attention_head_avx512(const float *qb, const float *kb, const float *vb, const int32_t *mb,
                                               int64_t S, int64_t H, int64_t D, float *ob, float *scratch,
                                               uint16_t *keep) {
    int64_t sp = (S + 15) & ~(int64_t)15;
    float *kt = scratch, *p = scratch + D * sp;
    for (int64_t d = 0; d < D; d++)
        for (int64_t s = S; s < sp; s++) kt[d * sp + s] = 0.0f;
    for (int64_t s = 0; s < S; s++)
        for (int64_t d = 0; d < D; d++) kt[d * sp + s] = kb[s * H + d];
    for (int64_t s0 = 0; s0 < sp; s0 += 16) {
        __mmask16 m = tail_mask(S - s0);
        if (mb)
            for (int i = 0; i < 16 && s0 + i < S; i++)
                if (!mb[s0 + i]) m &= (__mmask16)~(1u << i);
        keep[s0 / 16] = m;
    }
    const float scale = 1.0f / sqrtf((float)D);
    int64_t i = 0;
    for (; i + 4 <= S; i += 4) rows_block(qb + i * H, kt, vb, ob + i * H, p, keep, S, sp, H, D, scale, 4);
    for (; i < S; i++) rows_block(qb + i * H, kt, vb, ob + i * H, p, keep, S, sp, H, D, scale, 1);
}
#endif
