/* Exact widening of float16 and bfloat16 bit patterns to float32. */
#include <string.h>
#include "bk_internal.h"

static inline float from_bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

void bk_f16_to_f32(const uint16_t *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t h = src[i];
        uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1Fu, man = h & 0x3FFu;
        uint32_t out;
        if (exp == 0) {
            if (man == 0) out = sign;
            else { /* subnormal: normalise */
                int e = -1;
                do { e++; man <<= 1; } while (!(man & 0x400u));
                out = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3FFu) << 13);
            }
        } else if (exp == 0x1F) {
            out = sign | 0x7F800000u | (man << 13);
        } else {
            out = sign | ((exp + 127 - 15) << 23) | (man << 13);
        }
        dst[i] = from_bits(out);
    }
}

void bk_bf16_to_f32(const uint16_t *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = from_bits((uint32_t)src[i] << 16);
}
