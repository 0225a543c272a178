/* bk_layer_norm: torch.nn.LayerNorm over the last dimension (biased variance), with an optional
 * fused residual add. Mean and variance accumulate in double. */
#include <math.h>
#include "bk_internal.h"

bk_status bk_layer_norm(const float *x, const float *residual, int64_t rows, int64_t n, const float *gamma,
                        const float *beta, float eps, float *y) {
    if (rows < 0 || n < 1 || !x || !gamma || !beta || !y) return rows == 0 ? BK_OK : BK_ERR_ARGUMENT;
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        const float *rr = residual ? residual + r * n : 0;
        float *yr = y + r * n;
        double sum = 0;
        for (int64_t i = 0; i < n; i++) {
            float v = rr ? xr[i] + rr[i] : xr[i];
            yr[i] = v;
            sum += v;
        }
        double mean = sum / (double)n, var = 0;
        for (int64_t i = 0; i < n; i++) { double d = yr[i] - mean; var += d * d; }
        var /= (double)n;
        float inv = (float)(1.0 / sqrt(var + (double)eps));
        float fm = (float)mean;
        for (int64_t i = 0; i < n; i++) yr[i] = (yr[i] - fm) * inv * gamma[i] + beta[i];
    }
    return BK_OK;
}
