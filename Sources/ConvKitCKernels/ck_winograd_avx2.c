// Winograd F(2x2, 3x3) tile transforms, AVX2: 8 horizontally adjacent tiles per vector.
// See include/ck_winograd.h for the math, layout and overwrite rules. Tails use masked loads and
// stores (nothing outside the planes is read or written); the left edge of a padded row is
// assembled in a small buffer.
#include "ck_winograd.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include "ck_winograd_avx2_internal.h"

/// Even and odd lanes of the 16 floats (a, b).
CK_AVX2 static inline void ck_split(__m256 a, __m256 b, __m256 *even, __m256 *odd) {
    __m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));   // a0 a2 b0 b2 | a4 a6 b4 b6
    __m256 o = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    *even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
    *odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), _MM_SHUFFLE(3, 1, 2, 0)));
}

/// Column transform of one input row for 8 tiles: t = (d0 − d2, d1 + d2, d2 − d1, d1 − d3).
CK_AVX2 __attribute__((always_inline)) static inline void ck_row_transform(const float *plane, ptrdiff_t yy, ptrdiff_t H, ptrdiff_t W,
                                            ptrdiff_t x, __m256 t[4]) {
    if (yy < 0 || yy >= H) {
        t[0] = t[1] = t[2] = t[3] = _mm256_setzero_ps();
        return;
    }
    const float *row = plane + yy * W;
    __m256 d0, d1, d2, d3;
    ck_split(ck_columns8(row, x, W), ck_columns8(row, x + 8, W), &d0, &d1);
    ck_split(ck_columns8(row, x + 2, W), ck_columns8(row, x + 10, W), &d2, &d3);
    t[0] = _mm256_sub_ps(d0, d2);
    t[1] = _mm256_add_ps(d1, d2);
    t[2] = _mm256_sub_ps(d2, d1);
    t[3] = _mm256_sub_ps(d1, d3);
}

CK_AVX2
void ck_wino_input_avx2(const float *in, ptrdiff_t in_plane_stride, ptrdiff_t planes,
                        ptrdiff_t H, ptrdiff_t W, ptrdiff_t P, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                        float *out, ptrdiff_t out_plane_stride, ptrdiff_t pos_stride) {
    const ptrdiff_t s = pos_stride;
    for (ptrdiff_t p = 0; p < planes; p++) {
        const float *plane = in + p * in_plane_stride;
        float *o = out + p * out_plane_stride;
        for (ptrdiff_t ty = ty0; ty < ty1; ty++) {
            const ptrdiff_t y0 = 2 * ty - P;
            float *orow = o + (ty - ty0) * TW;
            if (p + 1 < planes) {
                // Prefetch this tile row's new input rows in the next plane (planes come from memory).
                for (ptrdiff_t r = ty == ty0 ? 0 : 2; r < 4; r++) {
                    const ptrdiff_t yy = y0 + r;
                    if (yy < 0 || yy >= H) continue;
                    const char *row = (const char *)(plane + in_plane_stride + yy * W);
                    for (ptrdiff_t b = 0; b < W * 4; b += 64) _mm_prefetch(row + b, _MM_HINT_T0);
                }
            }
            for (ptrdiff_t tx = 0; tx < TW; tx += 8) {
                const ptrdiff_t x = 2 * tx - P, n = TW - tx;
                float *q = orow + tx;
                // Rows in the order that keeps at most 8 of the 16 ymm registers live:
                // V0 = t0 − t2, then V1 = t1 + t2 and V2 = t2 − t1, then V3 = t1 − t3.
                __m256 ta[4], tb[4];
                ck_row_transform(plane, y0, H, W, x, ta);          // t0
                ck_row_transform(plane, y0 + 2, H, W, x, tb);      // t2
                for (int c = 0; c < 4; c++) ck_store8(q + c * s, _mm256_sub_ps(ta[c], tb[c]), n);
                ck_row_transform(plane, y0 + 1, H, W, x, ta);      // t1
                for (int c = 0; c < 4; c++) {
                    ck_store8(q + (4 + c) * s, _mm256_add_ps(ta[c], tb[c]), n);
                    ck_store8(q + (8 + c) * s, _mm256_sub_ps(tb[c], ta[c]), n);
                }
                ck_row_transform(plane, y0 + 3, H, W, x, tb);      // t3
                for (int c = 0; c < 4; c++) ck_store8(q + (12 + c) * s, _mm256_sub_ps(ta[c], tb[c]), n);
            }
        }
    }
}

CK_AVX2
void ck_wino_output_avx2(const float *m, ptrdiff_t m_plane_stride, ptrdiff_t pos_stride, ptrdiff_t planes,
                         ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                         const float *bias, int relu, float *y, ptrdiff_t y_plane_stride) {
    const __m256 zero = _mm256_setzero_ps();
    const ptrdiff_t s = pos_stride;
    for (ptrdiff_t p = 0; p < planes; p++) {
        const float *mp = m + p * m_plane_stride;
        float *plane = y + p * y_plane_stride;
        const __m256 b = _mm256_set1_ps(bias ? bias[p] : 0.0f);
        for (ptrdiff_t ty = ty0; ty < ty1; ty++) {
            float *row0 = plane + 2 * ty * OW;
            const int has_row1 = 2 * ty + 1 < OH;
            const float *mrow = mp + (ty - ty0) * TW;
            for (ptrdiff_t tx = 0; tx < TW; tx += 8) {
                const ptrdiff_t n = TW - tx;
                const float *q = mrow + tx;
                __m256 u0[4], u1[4];
                for (int c = 0; c < 4; c++) {
                    __m256 m0 = ck_load8(q + (0 + c) * s, n), m1 = ck_load8(q + (4 + c) * s, n);
                    __m256 m2 = ck_load8(q + (8 + c) * s, n), m3 = ck_load8(q + (12 + c) * s, n);
                    u0[c] = _mm256_add_ps(_mm256_add_ps(m0, m1), m2);
                    u1[c] = _mm256_sub_ps(_mm256_sub_ps(m1, m2), m3);
                }
                __m256 y00 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(u0[0], u0[1]), u0[2]), b);
                __m256 y01 = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(u0[1], u0[2]), u0[3]), b);
                __m256 y10 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(u1[0], u1[1]), u1[2]), b);
                __m256 y11 = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(u1[1], u1[2]), u1[3]), b);
                if (relu) {
                    // max(0, y) returns y (the second operand) when y is NaN: NaN propagates.
                    y00 = _mm256_max_ps(zero, y00); y01 = _mm256_max_ps(zero, y01);
                    y10 = _mm256_max_ps(zero, y10); y11 = _mm256_max_ps(zero, y11);
                }
                const ptrdiff_t x = 2 * tx, cols = OW - x;   // output columns left in the row
                __m256 lo = _mm256_unpacklo_ps(y00, y01), hi = _mm256_unpackhi_ps(y00, y01);
                ck_store8(row0 + x, _mm256_permute2f128_ps(lo, hi, 0x20), cols);
                if (cols > 8) ck_store8(row0 + x + 8, _mm256_permute2f128_ps(lo, hi, 0x31), cols - 8);
                if (has_row1) {
                    lo = _mm256_unpacklo_ps(y10, y11); hi = _mm256_unpackhi_ps(y10, y11);
                    ck_store8(row0 + OW + x, _mm256_permute2f128_ps(lo, hi, 0x20), cols);
                    if (cols > 8) ck_store8(row0 + OW + x + 8, _mm256_permute2f128_ps(lo, hi, 0x31), cols - 8);
                }
            }
        }
    }
}

CK_AVX2
void ck_wino_output_grad_avx2(const float *dy, ptrdiff_t dy_plane_stride, ptrdiff_t planes,
                              ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                              float *out, ptrdiff_t out_plane_stride, ptrdiff_t pos_stride) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const ptrdiff_t s = pos_stride;
    for (ptrdiff_t p = 0; p < planes; p++) {
        const float *plane = dy + p * dy_plane_stride;
        float *o = out + p * out_plane_stride;
        for (ptrdiff_t ty = ty0; ty < ty1; ty++) {
            const float *row0 = plane + 2 * ty * OW;
            const int has_row1 = 2 * ty + 1 < OH;
            float *orow = o + (ty - ty0) * TW;
            if (p + 1 < planes) {
                // Prefetch the same rows of the next plane (planes come from memory).
                const char *next = (const char *)(row0 + dy_plane_stride);
                for (ptrdiff_t b = 0; b < (has_row1 ? 2 : 1) * OW * 4; b += 64) _mm_prefetch(next + b, _MM_HINT_T0);
            }
            for (ptrdiff_t tx = 0; tx < TW; tx += 8) {
                const ptrdiff_t x = 2 * tx;
                __m256 g00, g01, g10 = _mm256_setzero_ps(), g11 = _mm256_setzero_ps();
                ck_split(ck_columns8(row0, x, OW), ck_columns8(row0, x + 8, OW), &g00, &g01);
                if (has_row1) ck_split(ck_columns8(row0 + OW, x, OW), ck_columns8(row0 + OW, x + 8, OW), &g10, &g11);
                // Rows of A·dY: (dY0, dY0 + dY1, dY0 − dY1, −dY1); then each row times Aᵀ.
                __m256 e[4][2] = {
                    { g00, g01 },
                    { _mm256_add_ps(g00, g10), _mm256_add_ps(g01, g11) },
                    { _mm256_sub_ps(g00, g10), _mm256_sub_ps(g01, g11) },
                    { _mm256_xor_ps(g10, sign), _mm256_xor_ps(g11, sign) },
                };
                const ptrdiff_t n = TW - tx;
                float *q = orow + tx;
                for (int r = 0; r < 4; r++) {
                    ck_store8(q + (4 * r + 0) * s, e[r][0], n);
                    ck_store8(q + (4 * r + 1) * s, _mm256_add_ps(e[r][0], e[r][1]), n);
                    ck_store8(q + (4 * r + 2) * s, _mm256_sub_ps(e[r][0], e[r][1]), n);
                    ck_store8(q + (4 * r + 3) * s, _mm256_xor_ps(e[r][1], sign), n);
                }
            }
        }
    }
}

#else  // not x86-64: never called (ck_cpu_level() is 0), defined so the module links everywhere.

void ck_wino_input_avx2(const float *in, ptrdiff_t in_plane_stride, ptrdiff_t planes,
                        ptrdiff_t H, ptrdiff_t W, ptrdiff_t P, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                        float *out, ptrdiff_t out_plane_stride, ptrdiff_t pos_stride) {}
void ck_wino_output_avx2(const float *m, ptrdiff_t m_plane_stride, ptrdiff_t pos_stride, ptrdiff_t planes,
                         ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                         const float *bias, int relu, float *y, ptrdiff_t y_plane_stride) {}
void ck_wino_output_grad_avx2(const float *dy, ptrdiff_t dy_plane_stride, ptrdiff_t planes,
                              ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                              float *out, ptrdiff_t out_plane_stride, ptrdiff_t pos_stride) {}
#endif
