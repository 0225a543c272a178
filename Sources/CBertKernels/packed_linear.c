/* Pre-packed linear layers: bk_pack_weights lays an [N, K] weight out once (at load) in panels of
 * BK_PANEL output columns, K-major, so bk_linear_packed never repacks W. A masked task runs over the
 * base's packed weights with a keep mask in the same panel order (bk_pack_mask): one 32-bit word
 * per (panel, k), applied by the micro-kernels' loads. x is packed once per call into strips of MR
 * rows (MR per ISA), shared by every thread; threads take groups of panels.
 * This file holds the packing, the driver and the portable kernels. */
#include <string.h>
#include "bk_internal.h"

static int64_t panels_of(int64_t n) { return (n + BK_PANEL - 1) / BK_PANEL; }

int64_t bk_packed_floats(int64_t k, int64_t n) {
    if (k < 1 || n < 1 || k > ((int64_t)1 << 40) / (panels_of(n) * BK_PANEL)) return 0;
    return panels_of(n) * BK_PANEL * k;
}

int64_t bk_packed_mask_words(int64_t k, int64_t n) {
    if (k < 1 || n < 1 || k > ((int64_t)1 << 40) / panels_of(n)) return 0;
    return panels_of(n) * k;
}

typedef struct {
    const float *w;
    const uint64_t *zbits;
    int64_t k, n;
    float *packed;
    uint32_t *keep;
} pack_job;

/* Panel p: packed[(p*K + kk) * 32 + j] = W[32p + j][kk] (0 past N or where zeroed), in blocks of 64 k
 * so the transposing stores stay in L1. */
static void pack_weights_task(void *ctx, int64_t p) {
    pack_job *j = ctx;
    float *dst = j->packed + p * j->k * BK_PANEL;
    for (int64_t k0 = 0; k0 < j->k; k0 += 64) {
        int64_t k1 = k0 + 64 < j->k ? k0 + 64 : j->k;
        for (int64_t c = 0; c < BK_PANEL; c++) {
            int64_t row = p * BK_PANEL + c;
            if (row >= j->n) {
                for (int64_t kk = k0; kk < k1; kk++) dst[kk * BK_PANEL + c] = 0.0f;
                continue;
            }
            const float *src = j->w + row * j->k;
            if (j->zbits) {
                uint64_t bit0 = (uint64_t)row * (uint64_t)j->k;
                for (int64_t kk = k0; kk < k1; kk++)
                    dst[kk * BK_PANEL + c] = bk_bits_at(j->zbits, bit0 + (uint64_t)kk, 1) ? 0.0f : src[kk];
            } else {
                for (int64_t kk = k0; kk < k1; kk++) dst[kk * BK_PANEL + c] = src[kk];
            }
        }
    }
}

static void pack_mask_task(void *ctx, int64_t p) {
    pack_job *j = ctx;
    uint32_t *dst = j->keep + p * j->k;
    for (int64_t kk = 0; kk < j->k; kk++) dst[kk] = 0;
    for (int64_t c = 0; c < BK_PANEL; c++) {
        int64_t row = p * BK_PANEL + c;
        if (row >= j->n) break;
        uint64_t bit0 = (uint64_t)row * (uint64_t)j->k;
        for (int64_t kk = 0; kk < j->k; kk++)
            if (!bk_bits_at(j->zbits, bit0 + (uint64_t)kk, 1)) dst[kk] |= (uint32_t)1 << c;
    }
}

bk_status bk_pack_weights(bk_pool *pool, const float *w, const uint64_t *zeroed_bits, int64_t k, int64_t n,
                          float *packed) {
    if (!w || !packed || bk_packed_floats(k, n) == 0) return BK_ERR_ARGUMENT;
    pack_job j = {w, zeroed_bits, k, n, packed, NULL};
    bk_parallel_for(pool, panels_of(n), pack_weights_task, &j);
    return BK_OK;
}

bk_status bk_pack_mask(bk_pool *pool, const uint64_t *zeroed_bits, int64_t k, int64_t n, uint32_t *keep) {
    if (!zeroed_bits || !keep || bk_packed_mask_words(k, n) == 0) return BK_ERR_ARGUMENT;
    pack_job j = {NULL, zeroed_bits, k, n, NULL, keep};
    bk_parallel_for(pool, panels_of(n), pack_mask_task, &j);
    return BK_OK;
}

/* ---- x strips: strip s (rows [s*mr, s*mr + R), R = min(mr, m - s*mr)) at xp + s*mr*k, laid out [k][R]. ---- */
typedef struct {
    const float *x;
    int64_t m, k, mr, strips_per_task;
    float *xp;
} xpack_job;

static void pack_x_task(void *ctx, int64_t t) {
    xpack_job *j = ctx;
    int64_t strips = (j->m + j->mr - 1) / j->mr;
    int64_t s1 = (t + 1) * j->strips_per_task < strips ? (t + 1) * j->strips_per_task : strips;
    for (int64_t s = t * j->strips_per_task; s < s1; s++) {
        int64_t r0 = s * j->mr, R = j->m - r0 < j->mr ? j->m - r0 : j->mr;
        float *dst = j->xp + r0 * j->k;
        for (int64_t r = 0; r < R; r++) {
            const float *src = j->x + (r0 + r) * j->k;
            for (int64_t kk = 0; kk < j->k; kk++) dst[kk * R + r] = src[kk];
        }
    }
}

/* ---- x rows copied to a wider row stride ---- */
typedef struct {
    const float *x;
    int64_t k, ldx, m, rows_per_task;
    float *xp;
} xcopy_job;

static void xcopy_task(void *ctx, int64_t t) {
    xcopy_job *j = ctx;
    int64_t r0 = t * j->rows_per_task, r1 = r0 + j->rows_per_task < j->m ? r0 + j->rows_per_task : j->m;
    for (int64_t r = r0; r < r1; r++) memcpy(j->xp + r * j->ldx, j->x + r * j->k, (size_t)j->k * sizeof(float));
}

/* ---- portable kernels: MR = 3 rows, 16 columns (half a panel) per tile ---- */
#define P_MR 3
typedef float v4f __attribute__((vector_size(16)));
typedef uint32_t v4u __attribute__((vector_size(16)));

/* R rows of strip xs ([kc][R]) times 16 columns at wp (row stride BK_PANEL); keep: the panel's mask words
 * shifted so bit 0 is this half's first column, or NULL. */
static inline __attribute__((always_inline)) void ptile(const float *xs, int64_t kc, const float *wp,
                                                        const uint32_t *keep, int shift, const float *bias, float *y,
                                                        int64_t ldy, int nr, int acc, const int R) {
    v4f c[P_MR][4];
    for (int r = 0; r < R; r++)
        for (int q = 0; q < 4; q++) c[r][q] = (v4f){0, 0, 0, 0};
    const v4u lane = {1, 2, 4, 8};
    for (int64_t kk = 0; kk < kc; kk++) {
        v4f b[4];
        memcpy(b, wp + kk * BK_PANEL, sizeof b);
        if (keep) {
            uint32_t bits = keep[kk] >> shift;
            for (int q = 0; q < 4; q++) {
                uint32_t b4 = (bits >> (4 * q)) & 15u;
                v4u m = (v4u){b4, b4, b4, b4} & lane;
                v4u u;
                memcpy(&u, &b[q], sizeof u);
                u &= (v4u)(m == lane);
                memcpy(&b[q], &u, sizeof u);
            }
        }
        for (int r = 0; r < R; r++) {
            float a = xs[kk * R + r];
            v4f av = {a, a, a, a};
            for (int q = 0; q < 4; q++) c[r][q] += av * b[q];
        }
    }
    for (int r = 0; r < R; r++) {
        float out[16];
        memcpy(out, c[r], sizeof out);
        for (int j = 0; j < nr; j++)
            y[r * ldy + j] = out[j] + (acc ? y[r * ldy + j] : bias ? bias[j] : 0.0f);
    }
}

#define P_KC 256
static void packed_cols_portable(const float *xp, int64_t ldx, int64_t m, int64_t k, const float *packed, const uint32_t *keep,
                                 int64_t p0, int64_t p1, int64_t n, const float *bias, float *y, int gelu) {
    (void)ldx; /* strips are packed */
    (void)gelu; /* applied by plin_task */
    for (int64_t k0 = 0; k0 < k; k0 += P_KC) {
        int64_t kc = k - k0 < P_KC ? k - k0 : P_KC;
        for (int64_t p = p0; p < p1; p++) {
            for (int half = 0; half < 2; half++) {
                int64_t col = p * BK_PANEL + half * 16;
                if (col >= n) break;
                int nr = (int)(n - col < 16 ? n - col : 16);
                const float *wp = packed + (p * k + k0) * BK_PANEL + half * 16;
                const uint32_t *kp = keep ? keep + p * k + k0 : NULL;
                const float *b = bias ? bias + col : NULL;
                for (int64_t r0 = 0; r0 < m; r0 += P_MR) {
                    int64_t R = m - r0 < P_MR ? m - r0 : P_MR;
                    const float *xs = xp + r0 * k + k0 * R;
                    float *yy = y + r0 * n + col;
                    if (R == 3) ptile(xs, kc, wp, kp, half * 16, b, yy, n, nr, k0 > 0, 3);
                    else if (R == 2) ptile(xs, kc, wp, kp, half * 16, b, yy, n, nr, k0 > 0, 2);
                    else ptile(xs, kc, wp, kp, half * 16, b, yy, n, nr, k0 > 0, 1);
                }
            }
        }
    }
}

#if BK_X86
static void packed_cols_avx2(const float *xp, int64_t ldx, int64_t m, int64_t k, const float *packed,
                             const uint32_t *keep, int64_t p0, int64_t p1, int64_t n, const float *bias, float *y,
                             int gelu) {
    (void)ldx; /* strips are packed */
    (void)gelu; /* applied by plin_task */
    bk_packed_cols_avx2(xp, m, k, packed, keep, p0, p1, n, bias, y);
}
#endif

/* ---- driver ---- */
#define ROW_PARTS 4
typedef void (*packed_cols_fn)(const float *, int64_t, int64_t, int64_t, const float *, const uint32_t *, int64_t,
                               int64_t, int64_t, const float *, float *, int);
typedef struct {
    const float *xp;
    const bk_packed_weight *parts;
    int64_t first[BK_PACKED_MAX_PARTS + 1]; /* parts[i]'s panels are [first[i], first[i + 1]) of all panels */
    int count;
    int64_t ldx, m, k, panels, panels_per_task;
    int64_t groups, rows_per_part; /* task t: panel group t % groups of rows [t / groups * rows_per_part, + rows_per_part) */
    packed_cols_fn fn;
    int epilogue, fused; /* fused: fn applies the GELU itself, to each tile as it is stored */
    int64_t ldy;         /* 0: each y's rows are its n apart; else this far apart (AVX-512 only) */
} plin_job;

/* Task t: panels [g * per, (g + 1) * per) of all parts' panels in order (g = t % groups), each part's share in one fn
 * call, for the task's part of the rows. */
static void plin_task(void *ctx, int64_t t) {
    plin_job *j = ctx;
    int64_t m0 = t / j->groups * j->rows_per_part, rows = j->m - m0 < j->rows_per_part ? j->m - m0 : j->rows_per_part;
    t %= j->groups;
    int64_t g0 = t * j->panels_per_task, g1 = g0 + j->panels_per_task < j->panels ? g0 + j->panels_per_task : j->panels;
    for (int i = 0; i < j->count; i++) {
        int64_t a = g0 > j->first[i] ? g0 : j->first[i], b = g1 < j->first[i + 1] ? g1 : j->first[i + 1];
        if (a >= b) continue;
        const bk_packed_weight *w = &j->parts[i];
        int64_t p0 = a - j->first[i], p1 = b - j->first[i];
#if BK_X86
        if (j->ldy) {
            bk_packed_cols_avx512_ld(j->xp + m0 * j->ldx, j->ldx, rows, j->k, w->packed, w->keep, p0, p1, w->n, w->bias,
                                     w->y + m0 * j->ldy, j->epilogue == BK_EPILOGUE_GELU, j->ldy);
            continue;
        }
#endif
        if (j->rows_per_part < j->m) { /* in place (AVX-512) only: x's rows are ldx apart */
            j->fn(j->xp + m0 * j->ldx, j->ldx, rows, j->k, w->packed, w->keep, p0, p1, w->n, w->bias, w->y + m0 * w->n,
                  j->epilogue == BK_EPILOGUE_GELU);
            continue;
        }
        j->fn(j->xp, j->ldx, j->m, j->k, w->packed, w->keep, p0, p1, w->n, w->bias, w->y,
              j->epilogue == BK_EPILOGUE_GELU);
        if (j->epilogue == BK_EPILOGUE_GELU && !j->fused) {
            /* This task's columns, while they are still in cache. */
            int64_t c0 = p0 * BK_PANEL, c1 = p1 * BK_PANEL < w->n ? p1 * BK_PANEL : w->n;
            for (int64_t r = 0; r < j->m; r++) bk_gelu_erf(w->y + r * w->n + c0, (size_t)(c1 - c0));
        }
    }
}

/* xld: 0, or (AVX-512 only) x's rows are already xld >= k floats apart, so it is read in place as given; ldy: 0, or
 * (AVX-512 only, one weight) y's rows are ldy >= n floats apart. */
static bk_status packed_run(bk_pool *pool, const float *x, int64_t xld, int64_t m, int64_t k,
                            const bk_packed_weight *weights, int count, bk_epilogue epilogue, int64_t ldy);

bk_status bk_linear_packed_multi(bk_pool *pool, const float *x, int64_t m, int64_t k, const bk_packed_weight *weights,
                                 int count, bk_epilogue epilogue) {
    return packed_run(pool, x, 0, m, k, weights, count, epilogue, 0);
}

static bk_status packed_run(bk_pool *pool, const float *x, int64_t xld, int64_t m, int64_t k,
                            const bk_packed_weight *weights, int count, bk_epilogue epilogue, int64_t ldy) {
    if (epilogue != BK_EPILOGUE_NONE && epilogue != BK_EPILOGUE_GELU) return BK_ERR_ARGUMENT;
    if (count < 1 || count > BK_PACKED_MAX_PARTS || !weights || m < 0 || k < 1) return BK_ERR_ARGUMENT;
    plin_job j = {0};
    int64_t n_total = 0;
    for (int i = 0; i < count; i++) {
        const bk_packed_weight *w = &weights[i];
        if (!w->packed || !w->y || bk_packed_floats(k, w->n) == 0) return BK_ERR_ARGUMENT;
        if (m > ((int64_t)1 << 40) / w->n) return BK_ERR_ARGUMENT;
        j.first[i + 1] = j.first[i] + panels_of(w->n);
        n_total += w->n;
    }
    if (m == 0) return BK_OK;
    if (!x || m > ((int64_t)1 << 40) / k || n_total > ((int64_t)1 << 40) / k) return BK_ERR_ARGUMENT;
    packed_cols_fn fn = packed_cols_portable;
    int in_place = 0; /* the AVX-512 kernels broadcast straight from x's rows */
    int64_t mr = P_MR;
#if BK_X86
    switch (bk_isa_current()) {
    case BK_ISA_AVX512: fn = bk_packed_cols_avx512; mr = BK_PACKED_MR_AVX512; in_place = 1; break;
    case BK_ISA_AVX2: fn = packed_cols_avx2; mr = BK_PACKED_MR_AVX2; break;
    default: break;
    }
#endif
    int threads = bk_pool_threads(pool);
    int big = m * k * n_total >= ((int64_t)1 << 18) && threads > 1;
    const float *xp = x;
    int64_t ldx = k;
    if (in_place && xld >= k) {
        ldx = xld;
    } else if (in_place && k % 1024 == 0) {
        /* Rows a multiple of 4 KiB apart would all fall in one L1 set (K = 3072: 81 instead of 110 GFLOP/s),
         * so such an x is first copied with its rows one cache line further apart. */
        ldx = k + 16;
        float *buf = bk_scratch(BK_SCRATCH_PACK_X, (size_t)(m * ldx));
        if (!buf) return BK_ERR_NOMEM;
        xcopy_job xj = {x, k, ldx, m, big ? (m + 2 * threads - 1) / (2 * threads) : m, buf};
        bk_parallel_for(big ? pool : NULL, big ? (m + xj.rows_per_task - 1) / xj.rows_per_task : 1, xcopy_task, &xj);
        xp = buf;
    } else if (!in_place) {
        float *buf = bk_scratch(BK_SCRATCH_PACK_X, (size_t)(m * k));
        if (!buf) return BK_ERR_NOMEM;
        int64_t strips = (m + mr - 1) / mr;
        int64_t xtasks = big ? (strips < threads * 2 ? strips : threads * 2) : 1;
        xpack_job xj = {x, m, k, mr, (strips + xtasks - 1) / xtasks, buf};
        bk_parallel_for(big ? pool : NULL, (strips + xj.strips_per_task - 1) / xj.strips_per_task, pack_x_task, &xj);
        xp = buf;
    }

    int64_t panels = j.first[count];
    /* Tasks of about one panel each (for one weight of 768 outputs at two threads): a thread that starts late
     * (waking) or runs slow is left with little to finish alone. From 512 rows (split in ROW_PARTS below) twice as
     * many: BERT-base 8 x 128 at two threads, instrumented build, GEMM flops per TSC cycle in place 84.0 -> 84.6 and
     * 80.7 -> 83.4 (every shape faster in both), MiniLM 8 x 128 79.0 -> 78.7 (alike). */
    int64_t tasks = big ? threads * (m >= 512 ? 24 : 12) : 1;
    /* From 512 rows (x read in place), the rows too are split in ROW_PARTS, so a task reads a quarter of x for its
     * panels instead of all of it for one or two: MiniLM 8 x 128 at two threads (x 1.5 MB, 384 outputs = 12 panels),
     * GEMM time in place 1.2-1.9% lower in three alternating comparisons (2 parts: half that), the time the threads
     * spend in tasks 98.9 -> 99.7% of the calls' wall time; BERT-base 8 x 128 and masked 8 x 128 unchanged (8 parts:
     * slower). Every output is computed as before (same kernels and K order), so the same bits. */
    int64_t row_parts = big && in_place && m >= 512 ? ROW_PARTS : 1;
    tasks = tasks / row_parts;
    if (tasks > panels) tasks = panels;
    j.xp = xp; j.parts = weights; j.count = count;
    j.ldx = ldx; j.m = m; j.k = k; j.panels = panels; j.panels_per_task = (panels + tasks - 1) / tasks;
    j.groups = (panels + j.panels_per_task - 1) / j.panels_per_task;
    j.rows_per_part = ((m + row_parts - 1) / row_parts + BK_PACKED_MR_AVX512 - 1) / BK_PACKED_MR_AVX512 * BK_PACKED_MR_AVX512;
    row_parts = (m + j.rows_per_part - 1) / j.rows_per_part;
    j.fn = fn; j.epilogue = epilogue; j.fused = in_place; j.ldy = in_place ? ldy : 0;
    bk_parallel_for(big ? pool : NULL, j.groups * row_parts, plin_task, &j);
    return BK_OK;
}

bk_status bk_linear_packed(bk_pool *pool, const float *x, int64_t m, int64_t k, const float *packed,
                           const uint32_t *keep, int64_t n, const float *bias, bk_epilogue epilogue, float *y) {
    if (epilogue != BK_EPILOGUE_NONE && epilogue != BK_EPILOGUE_GELU) return BK_ERR_ARGUMENT;
    if (m < 0 || !packed || !y || bk_packed_floats(k, n) == 0) return m == 0 ? BK_OK : BK_ERR_ARGUMENT;
    bk_packed_weight w = {packed, keep, n, bias, y};
    return bk_linear_packed_multi(pool, x, m, k, &w, 1, epilogue);
}

bk_status bk_linear_packed_ffn(bk_pool *pool, const float *x, int64_t m, int64_t k, const bk_packed_weight *up,
                               const bk_packed_weight *down) {
    if (!up || !down) return BK_ERR_ARGUMENT;
    int64_t inner = up->n;
#if BK_X86
    if (bk_isa_current() == BK_ISA_AVX512 && inner % 1024 == 0 && m > 0 && inner <= ((int64_t)1 << 30) &&
        m <= ((int64_t)1 << 40) / (inner + 16) && up->packed && down->packed && up->y && down->y) {
        /* The intermediate's rows would be a multiple of 4 KiB apart, which the down projection would first copy to
         * a padded stride: the up projection writes that stride into scratch itself. */
        float *h = bk_scratch(BK_SCRATCH_FFN, (size_t)(m * (inner + 16)));
        if (!h) return BK_ERR_NOMEM;
        bk_packed_weight u = *up;
        u.y = h;
        bk_status st = packed_run(pool, x, 0, m, k, &u, 1, BK_EPILOGUE_GELU, inner + 16);
        return st != BK_OK ? st : packed_run(pool, h, inner + 16, m, inner, down, 1, BK_EPILOGUE_NONE, 0);
    }
#endif
    bk_status st = bk_linear_packed_multi(pool, x, m, k, up, 1, BK_EPILOGUE_GELU);
    return st != BK_OK ? st : bk_linear_packed_multi(pool, up->y, m, inner, down, 1, BK_EPILOGUE_NONE);
}
