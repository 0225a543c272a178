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

/* Linear-layer implementations per ISA: compute output columns [n0, n1) for all m rows. */
void bk_linear_cols_portable(const float *x, int64_t m, int64_t k, const float *w, int64_t n0, int64_t n1,
                             int64_t n, const float *bias, float *y, float *pack);
#if BK_X86
void bk_linear_cols_avx2(const float *x, int64_t m, int64_t k, const float *w, int64_t n0, int64_t n1,
                         int64_t n, const float *bias, float *y, float *pack);
void bk_linear_cols_avx512(const float *x, int64_t m, int64_t k, const float *w, int64_t n0, int64_t n1,
                           int64_t n, const float *bias, float *y, float *pack);
#endif

/* Columns per packed panel, per ISA (the packing buffer holds k * BK_PANEL_MAX floats). */
#define BK_PANEL_MAX 32

#endif
