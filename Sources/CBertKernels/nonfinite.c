/* Counting NaN and infinite float32 entries (bertc compile's weight scan; see bk_robust.h). */
#include <stdint.h>
#include <string.h>
#include "include/bk_robust.h"

void bk_count_nonfinite(const float *x, size_t n, size_t *nan_count, size_t *inf_count) {
    size_t nonfinite = 0, inf = 0;
    const size_t block = 4096;
    for (size_t start = 0; start < n; start += block) {
        size_t end = n - start < block ? n : start + block;
        uint32_t bad = 0;
        /* Fast pass: any entry with an all-ones exponent in this block? (vectorises) */
        for (size_t i = start; i < end; i++) {
            uint32_t u;
            memcpy(&u, x + i, 4);
            bad |= (uint32_t)((u & 0x7F800000u) == 0x7F800000u);
        }
        if (!bad) continue;
        for (size_t i = start; i < end; i++) {
            uint32_t u;
            memcpy(&u, x + i, 4);
            if ((u & 0x7F800000u) == 0x7F800000u) {
                nonfinite++;
                if ((u & 0x007FFFFFu) == 0) inf++;
            }
        }
    }
    *nan_count = nonfinite - inf;
    *inf_count = inf;
}
