/* bk_attention: BERT multi-head self-attention, one task per (batch, head).
 * K of the head is transposed into a per-worker scratch buffer so that the score and output loops
 * run over contiguous memory and vectorise (the loops are compiled once per ISA level and chosen by
 * bk_isa_current()). Masked keys get probability exactly 0, as with torch's additive
 * finfo(float32).min mask. If every key of a sequence is masked, torch's scores all become
 * finfo.min and the softmax is uniform, so that is what this gives too. */
#include <math.h>
#include <stdlib.h>
#include "bk_internal.h"

typedef struct {
    const float *q, *k, *v;
    const int32_t *mask;
    int64_t batch, seq, hidden, heads, dh;
    float *out;
    int failed;
} attn_job;

static inline __attribute__((always_inline)) void attn_body(attn_job *j, int64_t index) {
    int64_t b = index / j->heads, h = index % j->heads;
    int64_t S = j->seq, H = j->hidden, D = j->dh;
    float *kt = bk_scratch(BK_SCRATCH_ATTENTION, (size_t)(D * S + S));
    if (!kt) { __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED); return; }
    float *scores = kt + D * S;
    const float *qb = j->q + b * S * H + h * D;
    const float *kb = j->k + b * S * H + h * D;
    const float *vb = j->v + b * S * H + h * D;
    float *ob = j->out + b * S * H + h * D;
    const int32_t *mb = j->mask ? j->mask + b * S : 0;
    int any = 0;
    for (int64_t s = 0; s < S; s++) if (!mb || mb[s]) { any = 1; break; }
    if (!any) {
        /* All keys masked: uniform attention, the mean of v. */
        for (int64_t d = 0; d < D; d++) {
            double acc = 0;
            for (int64_t s = 0; s < S; s++) acc += vb[s * H + d];
            float mean = (float)(acc / (double)S);
            for (int64_t i = 0; i < S; i++) ob[i * H + d] = mean;
        }
        return;
    }
    for (int64_t s = 0; s < S; s++)
        for (int64_t d = 0; d < D; d++) kt[d * S + s] = kb[s * H + d];
    const float scale = 1.0f / sqrtf((float)D);
    for (int64_t i = 0; i < S; i++) {
        const float *qi = qb + i * H;
        for (int64_t s = 0; s < S; s++) scores[s] = 0.0f;
        for (int64_t d = 0; d < D; d++) {
            float qd = qi[d];
            const float *row = kt + d * S;
            for (int64_t s = 0; s < S; s++) scores[s] += qd * row[s];
        }
        float mx = -INFINITY;
        for (int64_t s = 0; s < S; s++) {
            int keep = !mb || mb[s];
            scores[s] = keep ? scores[s] * scale : -INFINITY;
            if (scores[s] > mx) mx = scores[s];
        }
        float sum = 0.0f;
        for (int64_t s = 0; s < S; s++) {
            float e = scores[s] == -INFINITY ? 0.0f : expf(scores[s] - mx);
            scores[s] = e;
            sum += e;
        }
        float inv = 1.0f / sum;
        float *oi = ob + i * H;
        for (int64_t d = 0; d < D; d++) oi[d] = 0.0f;
        for (int64_t s = 0; s < S; s++) {
            float p = scores[s] * inv;
            if (p == 0.0f) continue;
            const float *vs = vb + s * H;
            for (int64_t d = 0; d < D; d++) oi[d] += p * vs[d];
        }
    }
}

static void attn_task_portable(void *ctx, int64_t index) { attn_body(ctx, index); }
#if BK_X86
static BK_TARGET_AVX2 void attn_task_avx2(void *ctx, int64_t index) { attn_body(ctx, index); }
static BK_TARGET_AVX512 void attn_task_avx512(void *ctx, int64_t index) {
    attn_job *j = ctx;
    int64_t b = index / j->heads, h = index % j->heads, S = j->seq, H = j->hidden, D = j->dh;
    const int32_t *mb = j->mask ? j->mask + b * S : 0;
    int any = !mb;
    for (int64_t s = 0; s < S && !any; s++) any = mb[s] != 0;
    if (!any) { attn_body(j, index); return; } /* every key masked: the uniform case */
    int64_t sp = (S + 15) & ~(int64_t)15;
    float *scratch = bk_scratch(BK_SCRATCH_ATTENTION, (size_t)(D * sp + BK_ATTENTION_ROWS * sp + sp / 16 + 16));
    if (!scratch) { __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED); return; }
    int64_t off = b * S * H + h * D;
    bk_attention_head_avx512(j->q + off, j->k + off, j->v + off, mb, S, H, D, j->out + off, scratch,
                             (uint16_t *)(scratch + D * sp + BK_ATTENTION_ROWS * sp));
}
#endif

bk_status bk_attention(bk_pool *pool, const float *q, const float *k, const float *v, const int32_t *mask,
                       int64_t batch, int64_t seq, int64_t hidden, int64_t heads, float *out) {
    if (batch < 0 || seq < 0 || hidden < 1 || heads < 1 || hidden % heads != 0) return BK_ERR_ARGUMENT;
    if (batch == 0 || seq == 0) return BK_OK;
    if (!q || !k || !v || !out) return BK_ERR_ARGUMENT;
    if (seq > ((int64_t)1 << 31) || batch > (INT64_MAX / heads) / seq) return BK_ERR_ARGUMENT;
    attn_job j = {q, k, v, mask, batch, seq, hidden, heads, hidden / heads, out, 0};
    bk_task_fn fn = attn_task_portable;
#if BK_X86
    switch (bk_isa_current()) {
    case BK_ISA_AVX512: fn = attn_task_avx512; break;
    case BK_ISA_AVX2: fn = attn_task_avx2; break;
    default: break;
    }
#endif
    bk_parallel_for(pool, batch * heads, fn, &j);
    return j.failed ? BK_ERR_NOMEM : BK_OK;
}
