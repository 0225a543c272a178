/* bk_linear and bk_masked_linear: one-off GEMMs over weights in nn.Linear layout. Each packs W (with the
 * mask applied, for bk_masked_linear) into the caller's scratch with bk_pack_weights and runs the
 * pre-packed GEMM (packed_linear*.c). The engine packs its weights once at load and calls
 * bk_linear_packed directly; these serve callers that hold a weight only for one product. */
#include "bk_internal.h"

static bk_status pack_and_run(bk_pool *pool, const float *x, int64_t m, int64_t k, const float *w,
                              const uint64_t *zbits, int64_t n, const float *bias, float *y) {
    if (m < 0 || k < 1 || n < 1 || !x || !w || !y) return m == 0 ? BK_OK : BK_ERR_ARGUMENT;
    if (m == 0) return BK_OK;
    int64_t floats = bk_packed_floats(k, n);
    if (floats == 0 || m > ((int64_t)1 << 40) / k || m > ((int64_t)1 << 40) / n) return BK_ERR_ARGUMENT;
    float *packed = bk_scratch(BK_SCRATCH_PACK_W, (size_t)floats);
    if (!packed) return BK_ERR_NOMEM;
    bk_status st = bk_pack_weights(pool, w, zbits, k, n, packed);
    if (st != BK_OK) return st;
    return bk_linear_packed(pool, x, m, k, packed, NULL, n, bias, BK_EPILOGUE_NONE, y);
}

bk_status bk_linear(bk_pool *pool, const float *x, int64_t m, int64_t k, const float *w, int64_t n,
                    const float *bias, float *y) {
    return pack_and_run(pool, x, m, k, w, NULL, n, bias, y);
}

bk_status bk_masked_linear(bk_pool *pool, const float *x, int64_t m, int64_t k, const float *w, const uint64_t *zeroed_bits,
                           int64_t n, const float *bias, float *y) {
    if (!zeroed_bits) return m == 0 ? BK_OK : BK_ERR_ARGUMENT;
    return pack_and_run(pool, x, m, k, w, zeroed_bits, n, bias, y);
}
