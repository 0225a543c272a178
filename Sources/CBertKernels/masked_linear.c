/* bk_masked_linear: y = x (W with zeroed entries)^T + b, for a task stored as the shared base's dense W
 * plus a bitmap of the entries it sets to zero. W is never copied or modified: the GEMM of bk_linear
 * (linear*.c) packs each W panel into per-thread scratch anyway, and the masked variants of its
 * column functions apply the bitmap during that packing. Threading and dispatch are bk_linear's (bk_gemm_run in linear.c).
 * This file also holds the portable masked panel packing (linear_avx2.c has its own). */
#include <string.h>
#include "bk_internal.h"

bk_status bk_masked_linear(bk_pool *pool, const float *x, int64_t m, int64_t k, const float *w, const uint64_t *zeroed_bits,
                           int64_t n, const float *bias, float *y) {
    if (!zeroed_bits) return m == 0 ? BK_OK : BK_ERR_ARGUMENT;
    return bk_gemm_run(pool, x, m, k, w, zeroed_bits, n, bias, y);
}

/* Four columns of a row at a time with the compilers' generic 4-lane vectors: the bitmap's bits widened to
 * a lane mask that clears the zeroed entries (branch-free: random masks would defeat the branch predictor). */
typedef uint32_t v4u __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

void bk_pack_panel_masked(const float *w, const uint64_t *zbits, int64_t k, int64_t p, int64_t nr, int64_t NR,
                          float *pack) {
    const v4u lane = {1, 2, 4, 8};
    for (int64_t j = 0; j < nr; j++) {
        const float *row = w + (p + j) * k;
        uint64_t bit0 = (uint64_t)(p + j) * (uint64_t)k;
        int64_t kk = 0;
        for (; kk + 4 <= k; kk += 4) {
            uint32_t b4 = (uint32_t)bk_bits_at(zbits, bit0 + (uint64_t)kk, 4);
            v4u bits = {b4, b4, b4, b4};
            v4i zero = (bits & lane) == lane;  /* -1 in zeroed lanes */
            v4u v;
            memcpy(&v, row + kk, sizeof v);
            v &= ~(v4u)zero;
            uint32_t out[4];
            memcpy(out, &v, sizeof out);
            for (int i = 0; i < 4; i++) memcpy(pack + (kk + i) * NR + j, out + i, sizeof out[i]);
        }
        for (; kk < k; kk++) {
            uint32_t u;
            memcpy(&u, row + kk, sizeof u);
            u &= (uint32_t)(bk_bits_at(zbits, bit0 + (uint64_t)kk, 1) & 1) - 1u;
            memcpy(pack + kk * NR + j, &u, sizeof u);
        }
    }
    for (int64_t j = nr; j < NR; j++)
        for (int64_t kk = 0; kk < k; kk++) pack[kk * NR + j] = 0.0f;
}
