/* Internal helpers shared by the kernel sources (not part of the public API). */
#ifndef BK_INTERNAL_H
#define BK_INTERNAL_H

#include "bertk.h"

#if defined(__x86_64__) || defined(_M_X64)
#define BK_X86 1
#define BK_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define BK_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")))
#else
#define BK_X86 0
#endif

/* Run fn(ctx, i) for i in [0, n) on the pool (inline when pool is NULL or n == 1). */
typedef void (*bk_task_fn)(void *ctx, int64_t index);
void bk_parallel_for(bk_pool *pool, int64_t n, bk_task_fn fn, void *ctx);

/* A 64-byte aligned per-thread buffer of at least `floats` floats, kept and reused across calls
 * (slot selects one of BK_SCRATCH_SLOTS independent buffers). NULL when allocation fails. */
#define BK_SCRATCH_SLOTS 6
#define BK_SCRATCH_PACK_W 0
#define BK_SCRATCH_PACK_X 1
#define BK_SCRATCH_ATTENTION 2
#define BK_SCRATCH_PANEL 3
#define BK_SCRATCH_FFN 4
#define BK_SCRATCH_OUT 5 /* a token block's linear outputs on their way to the fused layer norm */
float *bk_scratch(int slot, size_t floats);

/* The normal CDF as 32 degree-5 polynomials over [-8, 8) for bk_gelu16 (gelu_table.c, written by
 * tools/fit_gelu_table.py): bk_gelu_phi[k][i] is coefficient k of interval i. */
extern const float bk_gelu_phi[6][32];

/* AVX-512 attention for one (batch, head) with at least one kept key (attention_avx512.c). scratch holds
 * D*sp + BK_ATTENTION_ROWS*sp floats (sp = seq rounded up to 16), 64-byte aligned; keep holds sp/16 16-bit key
 * masks. */
#define BK_ATTENTION_ROWS 12 /* query rows per block */
#if BK_X86
void bk_attention_head_avx512(const float *qb, const float *kb, const float *vb, const int32_t *mb, int64_t S,
                              int64_t H, int64_t D, float *ob, float *scratch, uint16_t *keep);
#endif

/* Pre-packed linear (packed_linear*.c): panels of BK_PANEL output columns; x strips of MR rows per ISA.
 * Columns of panels [p0, p1) for all m rows from packed strips xp; keep: NULL or the panel-order keep mask. */
#define BK_PANEL 32
#define BK_PACKED_MR_AVX512 12
#define BK_PACKED_MR_AVX2 6
#if BK_X86
/* AVX-512 reads x's rows in place: row r at xp + r * ldx (ldx >= k); gelu: bk_gelu_erf on each finished tile. */
void bk_packed_cols_avx512(const float *xp, int64_t ldx, int64_t m, int64_t k, const float *packed,
                           const uint32_t *keep, int64_t p0, int64_t p1, int64_t n, const float *bias, float *y,
                           int gelu);
/* bk_packed_cols_avx512 with y's rows ldy floats apart (>= n). */
void bk_packed_cols_avx512_ld(const float *xp, int64_t ldx, int64_t m, int64_t k, const float *packed,
                              const uint32_t *keep, int64_t p0, int64_t p1, int64_t n, const float *bias, float *y,
                              int gelu, int64_t ldy);
void bk_packed_cols_avx2(const float *xp, int64_t m, int64_t k, const float *packed, const uint32_t *keep,
                         int64_t p0, int64_t p1, int64_t n, const float *bias, float *y);
#endif

/* ---- Sparse kernels (csr_linear*.c, masked_linear.c) ---- */

/* CSR rows [r0, r1) times a transposed token block xt [k][width] (64-byte aligned, padded tokens zero):
 * yt[(r - r0) * width + t] = sum over the row's nonzeros of values[j] * xt[col_idx[j] * width + t].
 * index_bytes is 2 or 4. Widths: portable 4, 8, 16; AVX2 8, 16; AVX-512 16, 32. */
void bk_csr_rows_portable(const float *xt, int width, const int32_t *row_ptr, const void *col_idx, int index_bytes,
                          const float *values, int64_t r0, int64_t r1, float *yt);
#if BK_X86
/* In the x86 row kernels' loops over nonzeros j (values, col_idx and ib in scope): request the value and column
 * index of nonzero j + BK_CSR_PF_AHEAD now. They stream from the mapped artifact, and a batch of 1 x 8 to 1 x 128
 * tokens does too little work per nonzero to hide a miss (8 x 128: no difference). A prefetch never faults, so
 * running past the arrays' end is harmless. Measured in csr_linear_avx512.c and csr_linear_avx2.c. */
#define BK_CSR_PF_AHEAD 128
#define BK_CSR_PREFETCH_AHEAD(j)                                                                            \
    do {                                                                                                    \
        _mm_prefetch((const char *)(values + (j) + BK_CSR_PF_AHEAD), _MM_HINT_T0);                          \
        _mm_prefetch((const char *)col_idx + ((j) + BK_CSR_PF_AHEAD) * ib, _MM_HINT_T0);                    \
    } while (0)
void bk_csr_rows_avx2(const float *xt, int width, const int32_t *row_ptr, const void *col_idx, int index_bytes,
                      const float *values, int64_t r0, int64_t r1, float *yt);
void bk_csr_rows_avx512(const float *xt, int width, const int32_t *row_ptr, const void *col_idx, int index_bytes,
                        const float *values, int64_t r0, int64_t r1, float *yt);
/* dst[c * width + t] = src[t * k + c] for c < k, t < width (0 for t >= used); width 16 or 32. */
void bk_csr_transpose_avx512(const float *src, int64_t k, int64_t used, int width, float *dst);
/* y[t * ldy + q] = yt[q * width + t] + bias[q] (bias may be NULL), then GELU if gelu (the same bits as bk_gelu_erf),
 * for t < tokens, q < rows; width 16, 32 or 64, rows <= 16. */
void bk_csr_store_avx512(const float *yt, int width, int64_t tokens, int64_t rows, const float *bias, int gelu, float *y,
                         int64_t ldy);
#endif

/* Shared by csr_linear.c and csr_ffn.c: the token-block width for `rows` remaining tokens (BK_CSR_MAXW at most), the
 * row kernel for a width, and the transpose of tokens [tok0, tok0 + rows) of x into blocks of BK_CSR_MAXW tokens
 * (block b at xt + b * k * BK_CSR_MAXW), each made of sub-blocks [k][width] of the widths bk_csr_block_width picks. */
#define BK_CSR_MAXW 64
#define BK_CSR_CHUNK 1024 /* tokens per pool call */
typedef void (*bk_csr_rows_fn)(const float *, int, const int32_t *, const void *, int, const float *, int64_t, int64_t,
                               float *);
int bk_csr_block_width(int isa, int64_t rows);
/* bk_csr_linear_multi's argument checks: 1 when the call has work to do; else 0 with *status its result (BK_OK for
 * m == 0, BK_ERR_ARGUMENT for a bad argument). */
int bk_csr_check(const float *x, int64_t m, int64_t k, const bk_csr_weight *weights, int count, bk_status *status);
bk_csr_rows_fn bk_csr_kernel_for(int isa, int width);
void bk_csr_transpose_tokens(const float *x, int64_t k, int64_t tok0, int64_t rows, int isa, float *xt);
/* Every row of w for tokens [tok, tok + ntok) (at most BK_CSR_MAXW) whose transpose is xt, into w->y with its bias and
 * epilogue: what one token-split task of bk_csr_linear_multi does after its transpose. yblock: NULL, or where the block's
 * rows go instead (row 0 = token tok). */
void bk_csr_rows_over_block(const bk_csr_weight *w, int isa, const float *xt, int64_t k, int64_t tok, int64_t ntok,
                            bk_epilogue epilogue, float *yblock);
/* 1 when bk_csr_linear_multi(pool, x, m, ., w, 1, .) runs as one chunk split by rows (too few tokens for every
 * thread to get a block of 32). */
int bk_csr_splits_rows(const bk_pool *pool, int64_t m, const bk_csr_weight *w);
/* That row-split call, with two changes for bk_csr_ffn: xt (may be NULL) is x already transposed (the layout of
 * bk_csr_transpose_tokens over the m tokens), read by every task instead of each transposing x; with ht (AVX-512,
 * epilogue GELU), the results + bias + GELU go to ht in that transposed layout (row count w->n) instead of to w->y.
 * norm: as bk_csr_linear_norm. BK_ERR_ARGUMENT when the call would not split by rows. */
bk_status bk_csr_linear_rows(bk_pool *pool, const float *x, const float *xt, int64_t m, int64_t k,
                             const bk_csr_weight *w, bk_epilogue epilogue, const bk_add_norm *norm, float *ht);
/* bk_layer_norm's rows, on this thread: the same bits as bk_layer_norm for each row. */
void bk_layer_norm_rows(const float *x, const float *residual, int64_t rows, int64_t n, const float *gamma,
                        const float *beta, float eps, float *y);
/* bk_add_norm's pointers are usable (residual may be NULL). */
int bk_add_norm_ok(const bk_add_norm *norm);
/* norm over tokens [tok, tok + ntok), on this thread: yblock holds those tokens' linear outputs (row length n). */
void bk_add_norm_tokens(const bk_add_norm *norm, const float *yblock, int64_t n, int64_t tok, int64_t ntok);
#if BK_X86
/* dst[q * width + t] = GELU(yt[q * width + t] + bias[q]) (bias may be NULL) for q < rows, t < width; the same bits as
 * bk_csr_store_avx512 with gelu. */
void bk_csr_bias_gelu_avx512(const float *yt, int width, int64_t rows, const float *bias, float *dst);
#endif
/* `count` (1..64) bits of a little-endian uint64 bitmap starting at bit `pos`, in the low bits of the result.
 * Reads only the words that hold those bits. */
static inline uint64_t bk_bits_at(const uint64_t *bits, uint64_t pos, int count) {
    uint64_t word = pos >> 6;
    unsigned shift = (unsigned)(pos & 63);
    uint64_t v = bits[word] >> shift;
    if (shift && shift + (unsigned)count > 64) v |= bits[word + 1] << (64 - shift);
    return count >= 64 ? v : v & ((UINT64_C(1) << count) - 1);
}

#endif
