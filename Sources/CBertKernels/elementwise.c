/* Elementwise kernels: exact-erf GELU, tanh, add. */
#include <math.h>
#include "bk_internal.h"

void bk_gelu_erf(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        x[i] = v * 0.5f * (1.0f + erff(v * 0.70710678118654752440f));
    }
}

void bk_tanh(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = tanhf(x[i]);
}

void bk_add(const float *a, const float *b, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}
