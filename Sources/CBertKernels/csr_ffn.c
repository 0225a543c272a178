/* bk_csr_ffn: a BERT feed-forward block with both weights in CSR, one task per block of up to 64 tokens. The up
 * projection's row kernel already leaves its results as [inner rows][tokens], the layout the down projection reads,
 * so they get the bias and GELU in place of being stored token-major, and the down projection runs straight over
 * them: no store transposes for the intermediate, no transpose back, and the intermediate (inner x 64 floats)
 * stays in the thread's L2. The token blocks, widths, row kernels and GELU are those of bk_csr_linear_ex, so the
 * result is the same bits as the two calls; where those calls would split the tokens otherwise, it makes them. */
#include "bk_internal.h"

#if BK_X86
typedef struct {
    const float *x;
    const bk_csr_weight *up, *down;
    const bk_add_norm *norm;
    int64_t k, tok0, rows;
    int isa, failed;
} ffn_job;

static void ffn_task(void *ctx, int64_t i) {
    ffn_job *j = ctx;
    int64_t t0 = i * BK_CSR_MAXW, n = j->rows - t0 < BK_CSR_MAXW ? j->rows - t0 : BK_CSR_MAXW;
    int64_t inner = j->up->n;
    float *xt = bk_scratch(BK_SCRATCH_PACK_X, (size_t)(j->k * BK_CSR_MAXW));
    float *ht = bk_scratch(BK_SCRATCH_FFN, (size_t)(inner * BK_CSR_MAXW));
    if (!xt || !ht) { __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED); return; }
    bk_csr_transpose_tokens(j->x, j->k, j->tok0 + t0, n, j->isa, xt);
    float yt[16 * BK_CSR_MAXW] __attribute__((aligned(64)));
    for (int64_t s = 0; s < n;) {
        int width = bk_csr_block_width(j->isa, n - s);
        bk_csr_rows_fn rows = bk_csr_kernel_for(j->isa, width);
        for (int64_t g0 = 0; g0 < inner; g0 += 16) {
            int64_t g1 = inner - g0 < 16 ? inner : g0 + 16;
            rows(xt + s * j->k, width, j->up->row_ptr, j->up->col_idx, j->up->index_bytes, j->up->values, g0, g1, yt);
            bk_csr_bias_gelu_avx512(yt, width, g1 - g0, j->up->bias ? j->up->bias + g0 : NULL, ht + s * inner + g0 * width);
        }
        s += width;
    }
    if (!j->norm) {
        bk_csr_rows_over_block(j->down, j->isa, ht, inner, j->tok0 + t0, n, BK_EPILOGUE_NONE, NULL);
        return;
    }
    float *yb = bk_scratch(BK_SCRATCH_OUT, (size_t)(n * j->down->n));
    if (!yb) { __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED); return; }
    bk_csr_rows_over_block(j->down, j->isa, ht, inner, j->tok0 + t0, n, BK_EPILOGUE_NONE, yb);
    bk_add_norm_tokens(j->norm, yb, j->down->n, j->tok0 + t0, n);
}
#endif

bk_status bk_csr_ffn(bk_pool *pool, const float *x, int64_t m, int64_t k, const bk_csr_weight *up,
                     const bk_csr_weight *down, const bk_add_norm *norm) {
    bk_status status;
    if (norm && !bk_add_norm_ok(norm)) return BK_ERR_ARGUMENT;
    if (!bk_csr_check(x, m, k, up, 1, &status)) return status;
    if (!bk_csr_check(up->y, m, up->n, down, 1, &status)) return status;
#if BK_X86
    int64_t threads = bk_pool_threads(pool);
    int64_t last = m % BK_CSR_CHUNK ? m % BK_CSR_CHUNK : BK_CSR_CHUNK, fewest = m < last ? m : last;
    /* bk_csr_linear_ex gives every task exactly 64 tokens from the start of a chunk when the chunk has more than 48
     * tokens per thread; the fused tasks reproduce that split only. */
    if (bk_isa_current() == BK_ISA_AVX512 && fewest > 48 * threads) {
        ffn_job j = {x, up, down, norm, k, 0, 0, BK_ISA_AVX512, 0};
        for (int64_t tok0 = 0; tok0 < m; tok0 += BK_CSR_CHUNK) {
            j.tok0 = tok0;
            j.rows = m - tok0 < BK_CSR_CHUNK ? m - tok0 : BK_CSR_CHUNK;
            bk_parallel_for(threads > 1 ? pool : NULL, (j.rows + BK_CSR_MAXW - 1) / BK_CSR_MAXW, ffn_task, &j);
            if (j.failed) return BK_ERR_NOMEM;
        }
        return BK_OK;
    }
    /* Too few tokens to split them (e.g. 1 x 32 at two threads): both linears split their rows among the tasks. The
     * up projection's tasks leave bias + GELU of their rows in one shared buffer in the transposed layout, which the
     * down projection's tasks then read as their x: no store transposes for the intermediate, and no thread
     * transposes all of it back (inner x tokens floats each) as bk_csr_linear_multi over up->y would. */
    if (bk_isa_current() == BK_ISA_AVX512 && bk_csr_splits_rows(pool, m, up) && bk_csr_splits_rows(pool, m, down)) {
        float *ht = bk_scratch(BK_SCRATCH_FFN, (size_t)(((m + BK_CSR_MAXW - 1) / BK_CSR_MAXW) * BK_CSR_MAXW * up->n));
        if (ht) {
            status = bk_csr_linear_rows(pool, x, NULL, m, k, up, BK_EPILOGUE_GELU, NULL, ht);
            if (status != BK_OK) return status;
            return bk_csr_linear_rows(pool, up->y, ht, m, up->n, down, BK_EPILOGUE_NONE, norm, NULL);
        }
    }
#endif
    status = bk_csr_linear_multi(pool, x, m, k, up, 1, BK_EPILOGUE_GELU);
    if (status != BK_OK) return status;
    return norm ? bk_csr_linear_norm(pool, up->y, m, up->n, down, norm)
                : bk_csr_linear_multi(pool, up->y, m, up->n, down, 1, BK_EPILOGUE_NONE);
}
