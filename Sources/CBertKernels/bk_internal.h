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
#define BK_SCRATCH_SLOTS 4
#define BK_SCRATCH_PACK_W 0
#define BK_SCRATCH_PACK_X 1
#define BK_SCRATCH_ATTENTION 2
float *bk_scratch(int slot, size_t floats);

/* Linear-layer implementations per ISA: compute output columns [n0, n1) for all m rows, packing
 * into this thread's scratch. Return 0, or -1 when scratch cannot be allocated. */
int bk_linear_cols_portable(const float *x, int64_t m, int64_t k, const float *w, int64_t n0, int64_t n1,
                            int64_t n, const float *bias, float *y);
#if BK_X86
int bk_linear_cols_avx2(const float *x, int64_t m, int64_t k, const float *w, int64_t n0, int64_t n1,
                        int64_t n, const float *bias, float *y);
int bk_linear_cols_avx512(const float *x, int64_t m, int64_t k, const float *w, int64_t n0, int64_t n1,
                          int64_t n, const float *bias, float *y);
#endif
/* Pack rows [p, p+nr) of W (row length k) as k x NR, K-major, zero-padding up to NR columns. */
void bk_pack_panel(const float *w, int64_t k, int64_t p, int64_t nr, int64_t NR, float *pack);

#endif
