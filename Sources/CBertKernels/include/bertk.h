/*
 * bertk: the C kernel library behind bertrun.
 *
 * All symbols are prefixed bk_. Every function that can fail returns a bk_status; Swift turns a
 * non-zero status into a thrown error. Pointers passed in are borrowed for the call only.
 * Matrices are row-major float32. ISA-specific code (AVX-512, AVX2+FMA) is chosen at run time
 * (bk_isa), with a portable C fallback that gives the same results within float rounding.
 */
#ifndef BERTK_H
#define BERTK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum bk_status {
    BK_OK = 0,
    BK_ERR_ARGUMENT = 1,   /* a size or pointer argument is invalid */
    BK_ERR_NOMEM = 2,      /* an allocation failed */
    BK_ERR_UNSUPPORTED = 3 /* the requested ISA is not available on this CPU */
} bk_status;

/* ---- Instruction set dispatch ---- */
typedef enum bk_isa_level { BK_ISA_PORTABLE = 0, BK_ISA_AVX2 = 1, BK_ISA_AVX512 = 2 } bk_isa_level;

/* The best level this CPU supports. */
bk_isa_level bk_isa_detect(void);
/* The level in use (defaults to bk_isa_detect(); may be lowered by bk_isa_set or BERTK_ISA=portable|avx2|avx512). */
bk_isa_level bk_isa_current(void);
/* Force a level (for tests and benchmarks); BK_ERR_UNSUPPORTED when above bk_isa_detect(). */
bk_status bk_isa_set(bk_isa_level level);
const char *bk_isa_name(bk_isa_level level);

/* ---- Thread pool ---- */
typedef struct bk_pool bk_pool;
/* A persistent pool of nthreads workers (the calling thread counts as one). nthreads >= 1. */
bk_pool *bk_pool_create(int nthreads);
void bk_pool_destroy(bk_pool *pool);
int bk_pool_threads(const bk_pool *pool);

/* ---- Dense kernels (pool may be NULL: single-threaded) ---- */

/* y[M,N] = x[M,K] * w[N,K]^T + bias[N]   (PyTorch nn.Linear layout; bias may be NULL). */
bk_status bk_linear(bk_pool *pool, const float *x, int64_t m, int64_t k,
                    const float *w, int64_t n, const float *bias, float *y);

/* y[r,:] = layer_norm(x[r,:] (+ residual[r,:] when residual != NULL)) * gamma + beta, over n columns.
 * Variance is the biased (population) variance, as torch.nn.LayerNorm. y may alias x. Rows are split between
 * the pool's threads (pool may be NULL); each row's result does not depend on the split. */
bk_status bk_layer_norm(bk_pool *pool, const float *x, const float *residual, int64_t rows, int64_t n,
                        const float *gamma, const float *beta, float eps, float *y);

/* In place, erf GELU: x * 0.5 * (1 + erf(x / sqrt(2))) (at BK_ISA_AVX512 with erf to within 1.5e-7, see
 * vecmath_avx512.h; elsewhere libm's erff). */
void bk_gelu_erf(float *x, size_t n);
/* In place tanh. */
void bk_tanh(float *x, size_t n);
/* y = a + b, elementwise (y may alias a or b). */
void bk_add(const float *a, const float *b, float *y, size_t n);

/* Multi-head self-attention as BERT computes it.
 * q, k, v, out: [batch, seq, hidden]; hidden = heads * head_dim.
 * mask: [batch, seq] with 1 for real tokens and 0 for padding (keys with 0 get -inf... in practice
 *       the additive large negative value torch uses: finfo(float32).min), or NULL for no mask.
 * scores = q_h k_h^T / sqrt(head_dim) + mask; softmax over keys; out_h = probs v_h. */
bk_status bk_attention(bk_pool *pool, const float *q, const float *k, const float *v,
                       const int32_t *mask, int64_t batch, int64_t seq, int64_t hidden, int64_t heads,
                       float *out);

/* out[b,s,:] = word[ids[b,s],:] + position[s,:] + token_type[types[b,s],:].
 * Fails with BK_ERR_ARGUMENT if any id or type is out of range or seq > max_position. */
bk_status bk_embeddings(const int32_t *ids, const int32_t *types, int64_t batch, int64_t seq,
                        const float *word, int64_t vocab, const float *position, int64_t max_position,
                        const float *token_type, int64_t type_vocab, int64_t hidden, float *out);

/* ---- Sparse kernels (pool may be NULL: single-threaded) ---- */

/* y[M,N] = x[M,K] * W^T + bias[N], W [N,K] held in CSR by rows (one row per output neuron):
 * row_ptr[N+1] (row_ptr[0] = 0, non-decreasing, row_ptr[N] = nnz), col_idx[nnz] of index_bytes 2 (uint16) or 4 (uint32),
 * values[nnz]. bias may be NULL. Vectorised across tokens: x is transposed into per-thread scratch [K, M-block] so each
 * nonzero drives a SIMD multiply-add over a block of tokens. Validates index_bytes; trusts the CSR structure (the
 * artifact reader validated it). */
bk_status bk_csr_linear(bk_pool *pool, const float *x, int64_t m, int64_t k, const int32_t *row_ptr, const void *col_idx,
                        int index_bytes, const float *values, int64_t n, const float *bias, float *y);
/* What a linear layer applies to its outputs after the bias. */
typedef enum bk_epilogue { BK_EPILOGUE_NONE = 0, BK_EPILOGUE_GELU = 1 /* bk_gelu_erf */ } bk_epilogue;
/* bk_csr_linear, then the epilogue on each block of outputs while it is in cache (GELU: the results equal
 * bk_csr_linear followed by bk_gelu_erf bit for bit). */
bk_status bk_csr_linear_ex(bk_pool *pool, const float *x, int64_t m, int64_t k, const int32_t *row_ptr,
                           const void *col_idx, int index_bytes, const float *values, int64_t n, const float *bias,
                           bk_epilogue epilogue, float *y);
/* One CSR weight of bk_csr_linear_multi, with its bias (may be NULL) and output y [M, n]. */
typedef struct bk_csr_weight {
    const int32_t *row_ptr;
    const void *col_idx;
    int index_bytes;
    const float *values;
    int64_t n;
    const float *bias;
    float *y;
} bk_csr_weight;
#define BK_CSR_MAX_PARTS 4
/* bk_csr_linear_ex for 1..BK_CSR_MAX_PARTS weights over the same x (e.g. the Q, K and V projections), in one pass:
 * each block of tokens is transposed once for all of them and the threads share one pool call. Each y equals
 * bk_csr_linear_ex's for its weight up to rounding: the split into token blocks follows the total work, and each
 * block width sums a row's nonzeros in its own order (so neither is bit for bit the same as the other). */
bk_status bk_csr_linear_multi(bk_pool *pool, const float *x, int64_t m, int64_t k, const bk_csr_weight *weights,
                              int count, bk_epilogue epilogue);
/* The residual add and layer norm that follow a linear in BERT: out = bk_layer_norm(y, residual, gamma, beta, eps) over
 * the linear's outputs y ([M, n]; residual may be NULL). */
typedef struct bk_add_norm {
    const float *residual;
    const float *gamma, *beta;
    float eps;
    float *out;
} bk_add_norm;
/* bk_csr_linear_ex(w, BK_EPILOGUE_NONE) and then bk_layer_norm(w->y, norm->residual, ..., norm->out): the same bits as
 * those two calls. Where the tokens are split among tasks (bk_csr_linear_ex's blocks of 64), each task computes its
 * tokens into its own scratch and normalises them from there, so w->y is not written; elsewhere it is. */
bk_status bk_csr_linear_norm(bk_pool *pool, const float *x, int64_t m, int64_t k, const bk_csr_weight *w,
                             const bk_add_norm *norm);
/* A feed-forward block with both weights in CSR: down->y = GELU(x up^T + up->bias) down^T + down->bias, where down
 * has up->n columns. The same bits as bk_csr_linear_ex(up, BK_EPILOGUE_GELU) into up->y followed by
 * bk_csr_linear_ex(down) over it. On AVX-512 the intermediate mostly stays out of up->y: with more than 48 tokens per
 * thread it is kept per block of tokens in the layout the down projection reads; where both calls would split their
 * rows among the threads (too few tokens), the up projection's tasks write it in that layout to one shared scratch
 * buffer that the down projection's tasks read. Otherwise those two calls are made (and up->y written). With
 * norm (may be NULL), then as bk_csr_linear_norm over down->y: each fused task normalises its own tokens. */
bk_status bk_csr_ffn(bk_pool *pool, const float *x, int64_t m, int64_t k, const bk_csr_weight *up,
                     const bk_csr_weight *down, const bk_add_norm *norm);
/* y = x * (W with zeroed entries)^T + bias: W [N,K] dense (the shared base's weights, never copied or modified),
 * zeroed_bits: bit (r*K + c) of little-endian uint64 words set = entry (r, c) is treated as 0. The mask is applied while
 * packing W panels, so this costs about the same as bk_linear. */
bk_status bk_masked_linear(bk_pool *pool, const float *x, int64_t m, int64_t k, const float *w, const uint64_t *zeroed_bits,
                           int64_t n, const float *bias, float *y);

/* ---- Pre-packed weights (a layout made once, at load) ---- */

/* Floats bk_pack_weights writes for an [N, K] weight: ceil(N/32)*32*K (0 for invalid sizes). */
int64_t bk_packed_floats(int64_t k, int64_t n);
/* Lays w [N, K] out in panels of 32 output columns, K-major, zero-padded: packed[(p*K + k)*32 + j] = w[32p + j][k].
 * zeroed_bits: NULL, or entries to read as zero (as bk_masked_linear). packed: bk_packed_floats floats, 64-byte aligned. */
bk_status bk_pack_weights(bk_pool *pool, const float *w, const uint64_t *zeroed_bits, int64_t k, int64_t n,
                          float *packed);
/* 32-bit words bk_pack_mask writes: ceil(N/32)*K. */
int64_t bk_packed_mask_words(int64_t k, int64_t n);
/* A masked task's mask in panel order: bit j of keep[p*K + k] set = entry (32p + j, k) is kept (not zeroed, and < N). */
bk_status bk_pack_mask(bk_pool *pool, const uint64_t *zeroed_bits, int64_t k, int64_t n, uint32_t *keep);
/* y[M,N] = epilogue(x[M,K] * W^T + bias) with W from bk_pack_weights; keep: NULL, or a bk_pack_mask mask applied on the
 * fly (a masked task over the base's packed weights). x is packed once per call into per-thread scratch. */
bk_status bk_linear_packed(bk_pool *pool, const float *x, int64_t m, int64_t k, const float *packed,
                           const uint32_t *keep, int64_t n, const float *bias, bk_epilogue epilogue, float *y);
/* One weight of bk_linear_packed_multi: bk_pack_weights panels, an optional bk_pack_mask keep mask, its bias (may be
 * NULL) and output y [M, n]. */
typedef struct bk_packed_weight {
    const float *packed;
    const uint32_t *keep;
    int64_t n;
    const float *bias;
    float *y;
} bk_packed_weight;
#define BK_PACKED_MAX_PARTS 4
/* bk_linear_packed for 1..BK_PACKED_MAX_PARTS weights over the same x (e.g. the Q, K and V projections) in one pool
 * call: the threads take groups of panels across all the weights, so there is one wait at the end instead of one per
 * weight. Each y is bit for bit bk_linear_packed's (panels are independent and blocked the same way). */
bk_status bk_linear_packed_multi(bk_pool *pool, const float *x, int64_t m, int64_t k, const bk_packed_weight *weights,
                                 int count, bk_epilogue epilogue);
/* A dense (or masked) feed-forward block: down->y = (GELU(x up^T + up->bias)) down^T + down->bias, where down has up->n
 * columns. The same bits as bk_linear_packed_multi(up, BK_EPILOGUE_GELU) into up->y and then over it with down. With
 * AVX-512 and up->n a multiple of 1024 (whose rows the down projection would copy to a padded stride first) the
 * intermediate goes to scratch at that stride directly and up->y is not written. */
bk_status bk_linear_packed_ffn(bk_pool *pool, const float *x, int64_t m, int64_t k, const bk_packed_weight *up,
                               const bk_packed_weight *down);

/* Memory for packed weights: blocks of 2 MiB or more are mapped on a 2 MiB boundary and marked for
 * transparent huge pages (fewer TLB misses while a GEMM streams the panels); smaller ones are 64-byte
 * aligned heap blocks. NULL when out of memory. Free with bk_free_weights and the same byte count. */
void *bk_alloc_weights(size_t bytes);
void bk_free_weights(void *p, size_t bytes);

/* ---- Hashing ---- */

/* A 64-bit non-cryptographic hash of bytes (xxHash64 algorithm), for fingerprints and checksums. */
uint64_t bk_hash64(const void *data, size_t len, uint64_t seed);

/* bk_hash64 of bytes inside a read-only file mapping, handing the pages back to the kernel as it goes
 * (bk_release_pages), so checking a large mapped file does not keep it resident. Never pass memory that
 * is not a read-only file mapping: released anonymous pages would read back as zeros. */
uint64_t bk_hash64_mapped(const void *data, size_t len, uint64_t seed);
/* madvise(MADV_DONTNEED) on the whole pages inside [data, data + len) of a read-only file mapping:
 * they leave the process's resident set and are read again from the page cache if touched. */
void bk_release_pages(const void *data, size_t len);

/* Convert float16 / bfloat16 bit patterns to float32 (n elements). */
void bk_f16_to_f32(const uint16_t *src, float *dst, size_t n);
void bk_bf16_to_f32(const uint16_t *src, float *dst, size_t n);

/* CRC-32C (Castagnoli) of len bytes, continuing from crc (0 to start): SSE4.2 when available, else a table.
 * bk_crc32c_portable always uses the table (for tests). */
uint32_t bk_crc32c(uint32_t crc, const void *data, size_t len);
uint32_t bk_crc32c_portable(uint32_t crc, const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* BERTK_H */
