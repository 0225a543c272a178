/* transpose16: a 16 x 16 float transpose in zmm registers (unpack, 64-bit unpack, two 128-bit lane
 * shuffles), shared by the CSR kernels' token-layout changes and attention's K transpose. Include after
 * immintrin.h, inside BK_X86. */
#ifndef BK_TRANSPOSE16_AVX512_H
#define BK_TRANSPOSE16_AVX512_H

/* out[j] = column j of the 16 x 16 matrix whose rows are r[0..15]. */
static inline __attribute__((always_inline)) BK_TARGET_AVX512 void transpose16(const __m512 r[16], __m512 out[16]) {
    __m512 t[16], u[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    /* u[4g + c], 128-bit lane L: column 4L + c of rows 4g .. 4g+3. */
    for (int g = 0; g < 4; g++) {
        __m512d a = _mm512_castps_pd(t[4 * g]), b = _mm512_castps_pd(t[4 * g + 1]);
        __m512d c = _mm512_castps_pd(t[4 * g + 2]), d = _mm512_castps_pd(t[4 * g + 3]);
        u[4 * g] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        u[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        u[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        u[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    /* A 4 x 4 transpose of 128-bit lanes across u[c], u[4+c], u[8+c], u[12+c]. */
    for (int c = 0; c < 4; c++) {
        __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88), v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xdd);
        __m512 v2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88), v3 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xdd);
        out[c] = _mm512_shuffle_f32x4(v0, v2, 0x88);
        out[8 + c] = _mm512_shuffle_f32x4(v0, v2, 0xdd);
        out[4 + c] = _mm512_shuffle_f32x4(v1, v3, 0x88);
        out[12 + c] = _mm512_shuffle_f32x4(v1, v3, 0xdd);
    }
}

#endif
