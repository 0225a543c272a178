/* bk_csr_linear: y = x W^T + b with W in CSR by rows (one row per output neuron). Tokens are processed
 * in chunks of up to CHUNK, transposed into per-thread scratch as blocks of `width` tokens (xt[k][width],
 * zero-padded). Tasks take a block of up to 64 tokens each (transposing their own, so no core reads
 * another's transpose and the block stays in L2), or when there are too few tokens for every thread to get
 * 32, every thread transposes them all into its own scratch and the output rows are split into tasks
 * balanced on nonzeros. Rows go in groups of GROUP; for each token
 * block the ISA's row kernel (csr_linear_avx512.c, csr_linear_avx2.c, or the portable one here) makes
 * one SIMD multiply-add per nonzero over the block's tokens into a small [GROUP][width] buffer, which is
 * transposed into y with the bias. bk_csr_linear_multi runs several weights over one x (Q, K, V) as one matrix of
 * their rows concatenated: one transpose per token block and one pool call. This file also holds the portable row
 * kernel. */
#include <string.h>
#include "bk_internal.h"

#define CHUNK BK_CSR_CHUNK /* tokens per call to the pool */
#define GROUP 16    /* output rows per y write-back */
#define MAXW BK_CSR_MAXW /* widest token block */
/* Row-split tasks per thread (too few tokens for a token split): a thread that starts late or runs slow is left with
 * at most an eighth of its share to finish alone. Pruned BERT-base 1 x 32, 2 threads, alternating bench medians:
 * 9.17 -> 8.46 ms and 10.05 -> 9.08 ms against 4 per thread (16: 8.88). */
#define ROW_TASKS_PER_THREAD 8


/* One weight of a call; its output rows are [first, first + n) of the call's concatenated rows. */
typedef struct {
    const float *values, *bias;
    const int32_t *row_ptr;
    const void *col_idx;
    float *y;
    int64_t n, first, cost_before; /* cost_before: split cost (nonzeros + PER_ROW per row) of the parts before */
    int index_bytes;
    int64_t ytok; /* the token whose row is y's first (0 but for a block redirected to scratch) */
} csr_part;

typedef struct {
    const float *x;
    csr_part parts[BK_CSR_MAX_PARTS];
    int count;
    int64_t k, n, tok0, rows, tasks, part; /* n: all parts' rows */
    int isa, by_tokens, failed, epilogue;
    const bk_add_norm *norm; /* bk_csr_linear_norm: applied per task when by_tokens (one part only) */
    const float *xt_in; /* row split only: the chunk already transposed (bk_csr_ffn's intermediate), shared by all tasks */
    float *ht_out;      /* row split only: results + bias + GELU go here in the transposed layout, not to y */
    uint64_t chunk_id; /* unique per chunk of a call: which transpose a thread's scratch holds */
} csr_job;

static uint64_t g_chunks;                /* atomic: chunk ids handed out */
static _Thread_local uint64_t t_chunk;   /* the chunk whose transpose this thread's scratch holds */

/* Token-block width for `rows` remaining tokens, and the kernel that handles it (bk_internal.h). */
int bk_csr_block_width(int isa, int64_t rows) {
    switch (isa) {
    case BK_ISA_AVX512: return rows > 32 ? 64 : rows > 16 ? 32 : rows > 8 ? 16 : 8;
    case BK_ISA_AVX2: return rows > 8 ? 16 : 8;
    default: return rows > 8 ? 16 : rows > 4 ? 8 : 4;
    }
}

bk_csr_rows_fn bk_csr_kernel_for(int isa, int width) {
#if BK_X86
    if (isa == BK_ISA_AVX512) return width >= 16 ? bk_csr_rows_avx512 : bk_csr_rows_avx2;
    if (isa == BK_ISA_AVX2) return bk_csr_rows_avx2;
#endif
    (void)isa; (void)width;
    return bk_csr_rows_portable;
}

/* First concatenated row r whose rows before it cost at least target (nonzeros + PER_ROW per row). */
#define PER_ROW 8
static int64_t split_row(const csr_job *j, int64_t target) {
    int p = 0;
    while (p + 1 < j->count && j->parts[p + 1].cost_before < target) p++;
    const csr_part *c = &j->parts[p];
    int64_t lo = 0, hi = c->n, base = c->cost_before;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (base + (int64_t)c->row_ptr[mid] + PER_ROW * mid < target) lo = mid + 1; else hi = mid;
    }
    return c->first + lo;
}

/* Transpose tokens [tok0, tok0 + rows) of x into blocks of MAXW tokens (block b at xt + b * k * MAXW); inside a
 * block, sub-blocks of the widths block_width picks, each [k][width] and zero-padded. */
void bk_csr_transpose_tokens(const float *x, int64_t k, int64_t tok0, int64_t rows, int isa, float *xt) {
    for (int64_t t0 = 0, b = 0; t0 < rows; t0 += MAXW, b++) {
        int64_t brows = rows - t0 < MAXW ? rows - t0 : MAXW;
        for (int64_t s = 0; s < brows;) {
            int width = bk_csr_block_width(isa, brows - s);
            float *dst = xt + b * k * MAXW + s * k;
            int64_t used = brows - s < width ? brows - s : width;
            const float *src = x + (tok0 + t0 + s) * k;
#if BK_X86
            if (isa == BK_ISA_AVX512 && width >= 16) {
                bk_csr_transpose_avx512(src, k, used, width, dst);
                s += width;
                continue;
            }
#endif
            if (used < width) memset(dst, 0, sizeof(float) * (size_t)(k * width));
            /* Sixteen columns at a time, so that the stores stay within 16 cache lines. */
            for (int64_t c0 = 0; c0 < k; c0 += 16) {
                int64_t c1 = k - c0 < 16 ? k : c0 + 16;
                for (int64_t t = 0; t < used; t++)
                    for (int64_t c = c0; c < c1; c++) dst[c * width + t] = src[t * k + c];
            }
            s += width;
        }
    }
}

/* Rows [r0, r1) of part c for tokens [tok, tok + ntok), whose transpose (transpose_tokens layout) is xt. */
static void run_part(const csr_job *j, const csr_part *c, const float *xt0, int64_t tok, int64_t ntok, int64_t r0,
                     int64_t r1) {
    float yt[GROUP * MAXW] __attribute__((aligned(64)));
    for (int64_t g0 = r0; g0 < r1; g0 += GROUP) {
        int64_t g1 = r1 - g0 < GROUP ? r1 : g0 + GROUP, gl = g1 - g0;
        for (int64_t t0 = 0, b = 0; t0 < ntok; t0 += MAXW, b++) {
            int64_t rows = ntok - t0 < MAXW ? ntok - t0 : MAXW;
            /* A block of up to MAXW tokens; narrower ISAs cover it with several narrower blocks. */
            for (int64_t s = 0; s < rows;) {
                int width = bk_csr_block_width(j->isa, rows - s);
                const float *xt = xt0 + b * j->k * MAXW + s * j->k;
                bk_csr_kernel_for(j->isa, width)(xt, width, c->row_ptr, c->col_idx, c->index_bytes, c->values, g0, g1, yt);
#if BK_X86
                if (j->ht_out) { /* [rows][width] is already the layout the next linear reads: no store transpose */
                    bk_csr_bias_gelu_avx512(yt, width, gl, c->bias ? c->bias + g0 : NULL,
                                            j->ht_out + b * c->n * MAXW + s * c->n + g0 * width);
                    s += width;
                    continue;
                }
#endif
                int64_t used = rows - s < width ? rows - s : width;
                float *y = c->y + (tok + t0 + s - c->ytok) * c->n + g0;
#if BK_X86
                if (j->isa == BK_ISA_AVX512 && width >= 16) {
                    bk_csr_store_avx512(yt, width, used, gl, c->bias ? c->bias + g0 : NULL, j->epilogue == BK_EPILOGUE_GELU,
                                        y, c->n);
                    s += width;
                    continue;
                }
#endif
                for (int64_t t = 0; t < used; t++) {
                    float *yr = y + t * c->n;
                    if (c->bias)
                        for (int64_t q = 0; q < gl; q++) yr[q] = yt[q * width + t] + c->bias[g0 + q];
                    else
                        for (int64_t q = 0; q < gl; q++) yr[q] = yt[q * width + t];
                }
                if (j->epilogue == BK_EPILOGUE_GELU)
                    for (int64_t t = 0; t < used; t++) bk_gelu_erf(y + t * c->n, (size_t)gl);
                s += width;
            }
        }
    }
}

/* Concatenated rows [r0, r1) (across parts) for tokens [tok, tok + ntok). */
static void run_range(const csr_job *j, const float *xt, int64_t tok, int64_t ntok, int64_t r0, int64_t r1) {
    for (int p = 0; p < j->count; p++) {
        const csr_part *c = &j->parts[p];
        int64_t a = r0 > c->first ? r0 - c->first : 0, b = r1 - c->first < c->n ? r1 - c->first : c->n;
        if (a < b) run_part(j, c, xt, tok, ntok, a, b);
    }
}

void bk_csr_rows_over_block(const bk_csr_weight *w, int isa, const float *xt, int64_t k, int64_t tok, int64_t ntok,
                            bk_epilogue epilogue, float *yblock) {
    csr_job j = {0};
    j.count = 1;
    j.k = k;
    j.isa = isa;
    j.epilogue = (int)epilogue;
    j.n = w->n;
    j.parts[0] = (csr_part){w->values, w->bias, w->row_ptr, w->col_idx, yblock ? yblock : w->y, w->n, 0, 0,
                            w->index_bytes, yblock ? tok : 0};
    run_part(&j, &j.parts[0], xt, tok, ntok, 0, w->n);
}

/* Split by tokens: task i transposes its own `part` tokens into its thread's scratch and computes every output
 * row for them (no transposed x shared between cores). Split by rows: each thread transposes the whole chunk
 * into its own scratch at its first task of the chunk (a few microseconds, done in parallel, where a shared
 * transpose made by the caller was read by the other core out of the caller's cache: 1 x 32 BERT-base ran
 * 1.36x faster on 2 threads than on 1); task i computes its share of the rows (balanced on nonzeros). */
static void csr_task(void *ctx, int64_t i) {
    csr_job *j = ctx;
    if (j->by_tokens) {
        int64_t t0 = i * j->part, t1 = t0 + j->part < j->rows ? t0 + j->part : j->rows;
        if (t0 >= t1) return;
        float *xt = bk_scratch(BK_SCRATCH_PACK_X, (size_t)(((t1 - t0 + MAXW - 1) / MAXW) * MAXW * j->k));
        if (!xt) { __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED); return; }
        bk_csr_transpose_tokens(j->x, j->k, j->tok0 + t0, t1 - t0, j->isa, xt);
        if (!j->norm) {
            run_range(j, xt, j->tok0 + t0, t1 - t0, 0, j->n);
            return;
        }
        /* The block's outputs go to this thread's scratch (in its cache, never written back to y) and straight on
         * through the layer norm. */
        float *yb = bk_scratch(BK_SCRATCH_OUT, (size_t)((t1 - t0) * j->n));
        if (!yb) { __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED); return; }
        csr_job local = *j;
        local.parts[0].y = yb;
        local.parts[0].ytok = j->tok0 + t0;
        run_range(&local, xt, j->tok0 + t0, t1 - t0, 0, j->n);
        bk_add_norm_tokens(j->norm, yb, j->n, j->tok0 + t0, t1 - t0);
        return;
    }
    const float *xt = j->xt_in;
    if (!xt) {
        float *own = bk_scratch(BK_SCRATCH_PACK_X, (size_t)(((j->rows + MAXW - 1) / MAXW) * MAXW * j->k));
        if (!own) { __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED); return; }
        if (t_chunk != j->chunk_id) {
            bk_csr_transpose_tokens(j->x, j->k, j->tok0, j->rows, j->isa, own);
            t_chunk = j->chunk_id;
        }
        xt = own;
    }
    const csr_part *last = &j->parts[j->count - 1];
    int64_t total = last->cost_before + (int64_t)last->row_ptr[last->n] + PER_ROW * last->n;
    int64_t r0 = i == 0 ? 0 : split_row(j, total * i / j->tasks);
    int64_t r1 = i == j->tasks - 1 ? j->n : split_row(j, total * (i + 1) / j->tasks);
    run_range(j, xt, j->tok0, j->rows, r0, r1);
}

bk_status bk_csr_linear(bk_pool *pool, const float *x, int64_t m, int64_t k, const int32_t *row_ptr, const void *col_idx,
                        int index_bytes, const float *values, int64_t n, const float *bias, float *y) {
    return bk_csr_linear_ex(pool, x, m, k, row_ptr, col_idx, index_bytes, values, n, bias, BK_EPILOGUE_NONE, y);
}

bk_status bk_csr_linear_ex(bk_pool *pool, const float *x, int64_t m, int64_t k, const int32_t *row_ptr,
                           const void *col_idx, int index_bytes, const float *values, int64_t n, const float *bias,
                           bk_epilogue epilogue, float *y) {
    bk_csr_weight w = {row_ptr, col_idx, index_bytes, values, n, bias, y};
    return bk_csr_linear_multi(pool, x, m, k, &w, 1, epilogue);
}

/* Sizes within bounds and a row_ptr that cannot index out of bounds (O(n); the rest of the structure is trusted:
 * the artifact reader validated it). */
static int weight_ok(const bk_csr_weight *w, int64_t m, int64_t k) {
    int64_t n = w->n;
    if (k > ((int64_t)1 << 40) / n || m > ((int64_t)1 << 40) / n || m > ((int64_t)1 << 40) / k || n >= INT32_MAX)
        return 0;
    if (w->row_ptr[0] != 0) return 0;
    for (int64_t r = 0; r < n; r++)
        if (w->row_ptr[r + 1] < w->row_ptr[r]) return 0;
    int64_t nnz = w->row_ptr[n];
    return nnz <= n * k && (nnz == 0 || (w->col_idx && w->values));
}

int bk_csr_check(const float *x, int64_t m, int64_t k, const bk_csr_weight *weights, int count, bk_status *status) {
    *status = BK_ERR_ARGUMENT;
    if (count < 1 || count > BK_CSR_MAX_PARTS || !weights) return 0;
    for (int p = 0; p < count; p++) {
        const bk_csr_weight *w = &weights[p];
        if (m < 0 || k < 1 || w->n < 1 || !x || !w->row_ptr || !w->y) {
            if (m == 0) *status = BK_OK;
            return 0;
        }
        if (w->index_bytes != 2 && w->index_bytes != 4) return 0;
        if (w->index_bytes == 2 && k > 65536) return 0;
    }
    if (m == 0) { *status = BK_OK; return 0; }
    for (int p = 0; p < count; p++)
        if (!weight_ok(&weights[p], m, k)) return 0;
    *status = BK_OK;
    return 1;
}

static bk_status csr_multi(bk_pool *pool, const float *x, int64_t m, int64_t k, const bk_csr_weight *weights, int count,
                           bk_epilogue epilogue, const bk_add_norm *norm, const float *xt_in, float *ht_out);

bk_status bk_csr_linear_multi(bk_pool *pool, const float *x, int64_t m, int64_t k, const bk_csr_weight *weights,
                              int count, bk_epilogue epilogue) {
    return csr_multi(pool, x, m, k, weights, count, epilogue, NULL, NULL, NULL);
}

bk_status bk_csr_linear_norm(bk_pool *pool, const float *x, int64_t m, int64_t k, const bk_csr_weight *w,
                             const bk_add_norm *norm) {
    if (!bk_add_norm_ok(norm)) return BK_ERR_ARGUMENT;
    return csr_multi(pool, x, m, k, w, 1, BK_EPILOGUE_NONE, norm, NULL, NULL);
}

/* Tasks for a chunk of `rows` tokens: work in padded token lanes times (nonzeros + per-row cost); the pool from 2^20
 * (about 30 us on one AVX-512 core): its workers spin between ops, so handing out tasks costs far less than a wake-up.
 * (At 2^22 the attention projections of a 1 x 32 BERT-base batch ran on one thread: 10.4 -> 8.6 ms at 2 threads with
 * 2^20; 2^18 gave no more.) The chunk is split by rows when that leaves a thread fewer than 32 tokens. */
static int64_t chunk_tasks(int threads, int64_t rows, int64_t nnz, int64_t n) {
    int64_t work = ((rows + 15) & ~(int64_t)15) * (nnz + PER_ROW * n);
    return (threads == 1 || work < ((int64_t)1 << 20)) ? 1 : threads;
}

int bk_csr_splits_rows(const bk_pool *pool, int64_t m, const bk_csr_weight *w) {
    return m > 0 && m <= CHUNK && m < 32 * chunk_tasks(bk_pool_threads(pool), m, w->row_ptr[w->n], w->n);
}

bk_status bk_csr_linear_rows(bk_pool *pool, const float *x, const float *xt, int64_t m, int64_t k,
                             const bk_csr_weight *w, bk_epilogue epilogue, const bk_add_norm *norm, float *ht) {
    if (!bk_csr_splits_rows(pool, m, w) || (ht && epilogue != BK_EPILOGUE_GELU) || (norm && !bk_add_norm_ok(norm)))
        return BK_ERR_ARGUMENT;
    return csr_multi(pool, x, m, k, w, 1, epilogue, norm, xt, ht);
}

static bk_status csr_multi(bk_pool *pool, const float *x, int64_t m, int64_t k, const bk_csr_weight *weights, int count,
                           bk_epilogue epilogue, const bk_add_norm *norm, const float *xt_in, float *ht_out) {
    if (epilogue != BK_EPILOGUE_NONE && epilogue != BK_EPILOGUE_GELU) return BK_ERR_ARGUMENT;
    bk_status status;
    if (!bk_csr_check(x, m, k, weights, count, &status)) return status;

    int isa = BK_ISA_PORTABLE;
#if BK_X86
    isa = (int)bk_isa_current();
#endif
    int threads = bk_pool_threads(pool);
    csr_job j = {0};
    j.x = x;
    j.count = count;
    j.k = k;
    j.isa = isa;
    j.epilogue = (int)epilogue;
    j.norm = norm;
    j.xt_in = xt_in;
    j.ht_out = ht_out;
    int64_t nnz = 0;
    for (int p = 0; p < count; p++) {
        const bk_csr_weight *w = &weights[p];
        j.parts[p] = (csr_part){w->values, w->bias, w->row_ptr, w->col_idx, w->y, w->n, j.n,
                                nnz + PER_ROW * j.n, w->index_bytes};
        nnz += w->row_ptr[w->n];
        j.n += w->n;
    }
    for (int64_t tok0 = 0; tok0 < m; tok0 += CHUNK) {
        int64_t rows = m - tok0 < CHUNK ? m - tok0 : CHUNK;
        j.tok0 = tok0;
        j.rows = rows;
        int64_t tasks = chunk_tasks(threads, rows, nnz, j.n);
        /* Token split when every thread gets a full block of 32 tokens (narrower blocks cost more per nonzero than
         * transposing the chunk once per thread); else rows, several tasks per thread. Shares are multiples of 16
         * tokens. */
        j.part = (((rows + tasks - 1) / tasks) + 15) & ~(int64_t)15;
        int parallel = tasks > 1;
        j.by_tokens = rows >= 32 * tasks;
        if (j.by_tokens) {
            /* At most one block of tokens per task, also on one thread: its transpose (k x 64 floats) then stays in
             * L2 while every row passes over it. */
            if (j.part > MAXW) j.part = MAXW;
            j.tasks = (rows + j.part - 1) / j.part;
        } else {
            j.chunk_id = __atomic_add_fetch(&g_chunks, 1, __ATOMIC_RELAXED);
            if (tasks > 1) tasks = threads * ROW_TASKS_PER_THREAD;
            if (tasks > (j.n + GROUP - 1) / GROUP) tasks = (j.n + GROUP - 1) / GROUP;
            j.tasks = tasks;
        }
        bk_parallel_for(parallel ? pool : NULL, j.tasks, csr_task, &j);
        if (j.failed) return BK_ERR_NOMEM;
        if (norm && !j.by_tokens) {
            const float *res = norm->residual ? norm->residual + tok0 * j.n : NULL;
            bk_layer_norm(pool, weights[0].y + tok0 * j.n, res, rows, j.n, norm->gamma, norm->beta,
                          norm->eps, norm->out + tok0 * j.n);
        }
    }
    return BK_OK;
}

/* ---- portable row kernel: widths 4, 8, 16 with the compilers' generic 4-float vectors ---- */
typedef float v4f __attribute__((vector_size(16)));

static inline __attribute__((always_inline)) void rows_portable(const float *xt, const int W, const int32_t *row_ptr,
                                                                const void *col_idx, const int ib, const float *values,
                                                                int64_t r0, int64_t r1, float *yt) {
    const uint16_t *i16 = col_idx;
    const uint32_t *i32 = col_idx;
    for (int64_t r = r0; r < r1; r++) {
        v4f a[W / 4], b[W / 4];
        for (int q = 0; q < W / 4; q++) a[q] = b[q] = (v4f){0, 0, 0, 0};
        int64_t j = row_ptr[r], e = row_ptr[r + 1];
        for (; j + 2 <= e; j += 2) {
            const float *x0 = xt + (int64_t)(ib == 2 ? i16[j] : i32[j]) * W;
            const float *x1 = xt + (int64_t)(ib == 2 ? i16[j + 1] : i32[j + 1]) * W;
            v4f v0 = {values[j], values[j], values[j], values[j]};
            v4f v1 = {values[j + 1], values[j + 1], values[j + 1], values[j + 1]};
            for (int q = 0; q < W / 4; q++) {
                v4f t0, t1;
                memcpy(&t0, x0 + 4 * q, sizeof t0);
                memcpy(&t1, x1 + 4 * q, sizeof t1);
                a[q] += v0 * t0;
                b[q] += v1 * t1;
            }
        }
        if (j < e) {
            const float *x0 = xt + (int64_t)(ib == 2 ? i16[j] : i32[j]) * W;
            v4f v0 = {values[j], values[j], values[j], values[j]};
            for (int q = 0; q < W / 4; q++) {
                v4f t0;
                memcpy(&t0, x0 + 4 * q, sizeof t0);
                a[q] += v0 * t0;
            }
        }
        for (int q = 0; q < W / 4; q++) {
            v4f s = a[q] + b[q];
            memcpy(yt + (r - r0) * W + 4 * q, &s, sizeof s);
        }
    }
}

void bk_csr_rows_portable(const float *xt, int width, const int32_t *row_ptr, const void *col_idx, int index_bytes,
                          const float *values, int64_t r0, int64_t r1, float *yt) {
    if (index_bytes == 2) {
        if (width == 16) rows_portable(xt, 16, row_ptr, col_idx, 2, values, r0, r1, yt);
        else if (width == 8) rows_portable(xt, 8, row_ptr, col_idx, 2, values, r0, r1, yt);
        else rows_portable(xt, 4, row_ptr, col_idx, 2, values, r0, r1, yt);
    } else {
        if (width == 16) rows_portable(xt, 16, row_ptr, col_idx, 4, values, r0, r1, yt);
        else if (width == 8) rows_portable(xt, 8, row_ptr, col_idx, 4, values, r0, r1, yt);
        else rows_portable(xt, 4, row_ptr, col_idx, 4, values, r0, r1, yt);
    }
}
