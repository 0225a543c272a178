/* sparse_bench: a hand-run timing of the sparse kernels against bk_linear (not a test).
 * Build and run from the package root with: sh benchmarks/sparse_bench.sh  (BERTK_ISA=avx2|portable to lower the ISA)
 * For each shape and 1 and 2 threads: the median time of bk_linear (dense), of bk_csr_linear at several densities
 * (uniformly random nonzeros, uint16 indices; each timed in runs interleaved with dense ones) and of bk_masked_linear (mask zeroing 90% of W), and the density
 * below which CSR beats dense (linear interpolation of the time ratio between measured densities). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bertk.h"

#define RUNS 21

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double frand(void) { return rand() / (double)RAND_MAX; }

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    int kind; /* 0 dense, 1 csr, 2 masked */
    bk_pool *pool;
    const float *x, *w, *values, *bias;
    const int32_t *row_ptr;
    const uint16_t *col;
    const uint64_t *bits;
    int64_t m, k, n;
    float *y;
} call;

static void run(const call *c) {
    bk_status st = BK_OK;
    if (c->kind == 0) st = bk_linear(c->pool, c->x, c->m, c->k, c->w, c->n, c->bias, c->y);
    else if (c->kind == 1) st = bk_csr_linear(c->pool, c->x, c->m, c->k, c->row_ptr, c->col, 2, c->values, c->n, c->bias, c->y);
    else st = bk_masked_linear(c->pool, c->x, c->m, c->k, c->w, c->bits, c->n, c->bias, c->y);
    if (st != BK_OK) { fprintf(stderr, "sparse_bench: kernel failed (%d)\n", (int)st); exit(1); }
}

/* Calls per timed run so that one run of `c` lasts about 2 ms. */
static int calibrate(const call *c) {
    run(c);
    double t0 = now();
    int reps = 0;
    do { run(c); reps++; } while (now() - t0 < 0.002);
    return reps;
}

static double time_run(const call *c, int reps) {
    double s = now();
    for (int i = 0; i < reps; i++) run(c);
    return (now() - s) / reps;
}

/* Interleaved runs of a and b (so that load from other processes hits both alike): the median seconds per
 * call of each, and the median of the per-run ratios b / a. */
static double paired(const call *a, const call *b, double *ta, double *tb) {
    int ra = calibrate(a), rb = calibrate(b);
    double xa[RUNS], xb[RUNS], ratio[RUNS];
    for (int r = 0; r < RUNS; r++) {
        xa[r] = time_run(a, ra);
        xb[r] = time_run(b, rb);
        ratio[r] = xb[r] / xa[r];
    }
    qsort(xa, RUNS, sizeof xa[0], cmp);
    qsort(xb, RUNS, sizeof xb[0], cmp);
    qsort(ratio, RUNS, sizeof ratio[0], cmp);
    *ta = xa[RUNS / 2];
    *tb = xb[RUNS / 2];
    return ratio[RUNS / 2];
}

int main(void) {
    const int64_t shapes[][3] = {{128, 384, 1536}, {128, 1536, 384}, {128, 768, 3072}, {128, 3072, 768}, {32, 384, 1536}};
    const double densities[] = {0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7};
    const int nd = sizeof densities / sizeof densities[0];
    srand(1);
    printf("isa %s; times are medians of %d runs, in microseconds; ratio = median of time / dense time over runs\n",
           bk_isa_name(bk_isa_current()), RUNS);
    printf("%-22s %3s %9s %9s %6s", "shape (M K N)", "thr", "dense", "masked", "ratio");
    for (int d = 0; d < nd; d++) printf("  csr@%-4.2f ratio", densities[d]);
    printf("  crossover\n");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int64_t m = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
        float *x = malloc(sizeof(float) * m * k), *w = malloc(sizeof(float) * n * k);
        float *b = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * m * n);
        float *values = malloc(sizeof(float) * n * k);
        uint16_t *col = malloc(sizeof(uint16_t) * n * k);
        int32_t *row_ptr = malloc(sizeof(int32_t) * (n + 1));
        uint64_t *bits = calloc((size_t)(n * k + 63) / 64, sizeof(uint64_t));
        if (!x || !w || !b || !y || !values || !col || !row_ptr || !bits) return 1;
        for (int64_t i = 0; i < m * k; i++) x[i] = (float)frand() - 0.5f;
        for (int64_t i = 0; i < n * k; i++) w[i] = (float)frand() - 0.5f;
        for (int64_t i = 0; i < n; i++) b[i] = (float)frand() - 0.5f;
        for (int64_t i = 0; i < n * k; i++)
            if (frand() < 0.9) bits[i >> 6] |= (uint64_t)1 << (i & 63);
        for (int threads = 1; threads <= 2; threads++) {
            bk_pool *pool = threads > 1 ? bk_pool_create(threads) : NULL;
            call dc = {0, pool, x, w, values, b, row_ptr, col, bits, m, k, n, y}, c = dc;
            c.kind = 2;
            double dense, masked, td;
            double mratio = paired(&dc, &c, &dense, &masked);
            char label[32];
            snprintf(label, sizeof label, "%lld %lld %lld", (long long)m, (long long)k, (long long)n);
            printf("%-22s %3d %9.1f %9.1f %6.3f", label, threads, dense * 1e6, masked * 1e6, mratio);
            double ratio[16];
            for (int d = 0; d < nd; d++) {
                int64_t nnz = 0;
                row_ptr[0] = 0;
                for (int64_t r = 0; r < n; r++) {
                    for (int64_t cc = 0; cc < k; cc++)
                        if (frand() < densities[d]) { col[nnz] = (uint16_t)cc; values[nnz] = w[r * k + cc]; nnz++; }
                    row_ptr[r + 1] = (int32_t)nnz;
                }
                c.kind = 1;
                double t;
                ratio[d] = paired(&dc, &c, &td, &t);
                printf("  %8.1f %5.2f", t * 1e6, ratio[d]);
            }
            /* Crossover: the density where the ratio first reaches 1, interpolated. */
            double cross = -1;
            if (ratio[0] >= 1) cross = 0;
            for (int d = 1; d < nd && cross < 0; d++)
                if (ratio[d] >= 1)
                    cross = densities[d - 1] + (1 - ratio[d - 1]) / (ratio[d] - ratio[d - 1]) * (densities[d] - densities[d - 1]);
            if (cross < 0) printf("  > %.2f\n", densities[nd - 1]);
            else printf("  %.3f\n", cross);
            fflush(stdout);
            bk_pool_destroy(pool);
        }
        free(x); free(w); free(b); free(y); free(values); free(col); free(row_ptr); free(bits);
    }
    return 0;
}
