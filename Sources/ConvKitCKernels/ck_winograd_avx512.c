// Winograd F(2x2, 3x3) tile transforms, AVX-512: 16 horizontally adjacent tiles per vector.
// See include/ck_winograd.h for the math, layout and overwrite rules.
#include "ck_winograd.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include "ck_winograd_internal.h"

/// Column transform of one input row for 16 tiles: t = (d0 − d2, d1 + d2, d2 − d1, d1 − d3).
CK_AVX512 __attribute__((always_inline)) static inline void
ck_row_transform16(const float *plane, ptrdiff_t yy, ptrdiff_t H, ptrdiff_t W, ptrdiff_t x, __m512 t[4]) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    if (yy < 0 || yy >= H) {
        t[0] = t[1] = t[2] = t[3] = _mm512_setzero_ps();
        return;
    }
    const float *row = plane + yy * W;
    __m512 a = ck_columns16(row, x, W), b = ck_columns16(row, x + 16, W);
    __m512 c = ck_columns16(row, x + 2, W), d = ck_columns16(row, x + 18, W);
    __m512 d0 = _mm512_permutex2var_ps(a, even, b), d1 = _mm512_permutex2var_ps(a, odd, b);
    __m512 d2 = _mm512_permutex2var_ps(c, even, d), d3 = _mm512_permutex2var_ps(c, odd, d);
    t[0] = _mm512_sub_ps(d0, d2);
    t[1] = _mm512_add_ps(d1, d2);
    t[2] = _mm512_sub_ps(d2, d1);
    t[3] = _mm512_sub_ps(d1, d3);
}

CK_AVX512
void ck_wino_input_avx512(const float *in, ptrdiff_t in_plane_stride, ptrdiff_t planes,
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
            for (ptrdiff_t tx = 0; tx < TW; tx += 16) {
                const ptrdiff_t x = 2 * tx - P;
                const __mmask16 k = ck_first(TW - tx);
                float *q = orow + tx;
                // V0 = t0 − t2, V1 = t1 + t2, V2 = t2 − t1, V3 = t1 − t3 (t_r: row r's column transform),
                // in an order that keeps 8 vectors live.
                __m512 ta[4], tb[4];
                ck_row_transform16(plane, y0, H, W, x, ta);        // t0
                ck_row_transform16(plane, y0 + 2, H, W, x, tb);    // t2
                for (int c = 0; c < 4; c++) _mm512_mask_storeu_ps(q + c * s, k, _mm512_sub_ps(ta[c], tb[c]));
                ck_row_transform16(plane, y0 + 1, H, W, x, ta);    // t1
                for (int c = 0; c < 4; c++) {
                    _mm512_mask_storeu_ps(q + (4 + c) * s, k, _mm512_add_ps(ta[c], tb[c]));
                    _mm512_mask_storeu_ps(q + (8 + c) * s, k, _mm512_sub_ps(tb[c], ta[c]));
                }
                ck_row_transform16(plane, y0 + 3, H, W, x, tb);    // t3
                for (int c = 0; c < 4; c++) _mm512_mask_storeu_ps(q + (12 + c) * s, k, _mm512_sub_ps(ta[c], tb[c]));
            }
        }
    }
}

CK_AVX512
void ck_wino_output_avx512(const float *m, ptrdiff_t m_plane_stride, ptrdiff_t pos_stride, ptrdiff_t planes,
                           ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                           const float *bias, int relu, float *y, ptrdiff_t y_plane_stride) {
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const __m512 zero = _mm512_setzero_ps();
    const ptrdiff_t s = pos_stride;
    for (ptrdiff_t p = 0; p < planes; p++) {
        const float *mp = m + p * m_plane_stride;
        float *plane = y + p * y_plane_stride;
        const __m512 b = _mm512_set1_ps(bias ? bias[p] : 0.0f);
        for (ptrdiff_t ty = ty0; ty < ty1; ty++) {
            float *row0 = plane + 2 * ty * OW;
            const int has_row1 = 2 * ty + 1 < OH;
            const float *mrow = mp + (ty - ty0) * TW;
            for (ptrdiff_t tx = 0; tx < TW; tx += 16) {
                const __mmask16 k = ck_first(TW - tx);
                const float *q = mrow + tx;
                __m512 u0[4], u1[4];
                for (int c = 0; c < 4; c++) {
                    __m512 m0 = _mm512_maskz_loadu_ps(k, q + (0 + c) * s);
                    __m512 m1 = _mm512_maskz_loadu_ps(k, q + (4 + c) * s);
                    __m512 m2 = _mm512_maskz_loadu_ps(k, q + (8 + c) * s);
                    __m512 m3 = _mm512_maskz_loadu_ps(k, q + (12 + c) * s);
                    u0[c] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
                    u1[c] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
                }
                __m512 y00 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(u0[0], u0[1]), u0[2]), b);
                __m512 y01 = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(u0[1], u0[2]), u0[3]), b);
                __m512 y10 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(u1[0], u1[1]), u1[2]), b);
                __m512 y11 = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(u1[1], u1[2]), u1[3]), b);
                if (relu) {
                    // max(0, y) returns y (the second operand) when y is NaN: NaN propagates.
                    y00 = _mm512_max_ps(zero, y00); y01 = _mm512_max_ps(zero, y01);
                    y10 = _mm512_max_ps(zero, y10); y11 = _mm512_max_ps(zero, y11);
                }
                const ptrdiff_t x = 2 * tx, cols = OW - x;   // output columns left in the row
                const __mmask16 k0 = ck_first(cols), k1 = ck_first(cols - 16);
                _mm512_mask_storeu_ps(row0 + x, k0, _mm512_permutex2var_ps(y00, lo, y01));
                _mm512_mask_storeu_ps(row0 + x + 16, k1, _mm512_permutex2var_ps(y00, hi, y01));
                if (has_row1) {
                    _mm512_mask_storeu_ps(row0 + OW + x, k0, _mm512_permutex2var_ps(y10, lo, y11));
                    _mm512_mask_storeu_ps(row0 + OW + x + 16, k1, _mm512_permutex2var_ps(y10, hi, y11));
                }
            }
        }
    }
}

CK_AVX512
void ck_wino_output_grad_avx512(const float *dy, ptrdiff_t dy_plane_stride, ptrdiff_t planes,
                                ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                                float *out, ptrdiff_t out_plane_stride, ptrdiff_t pos_stride) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512 sign = _mm512_set1_ps(-0.0f);
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
            for (ptrdiff_t tx = 0; tx < TW; tx += 16) {
                const ptrdiff_t x = 2 * tx, cols = OW - x;
                const __mmask16 k0 = ck_first(cols), k1 = ck_first(cols - 16);
                __m512 a = _mm512_maskz_loadu_ps(k0, row0 + x), b = _mm512_maskz_loadu_ps(k1, row0 + x + 16);
                __m512 g00 = _mm512_permutex2var_ps(a, even, b), g01 = _mm512_permutex2var_ps(a, odd, b);
                __m512 g10 = _mm512_setzero_ps(), g11 = _mm512_setzero_ps();
                if (has_row1) {
                    __m512 c = _mm512_maskz_loadu_ps(k0, row0 + OW + x), d = _mm512_maskz_loadu_ps(k1, row0 + OW + x + 16);
                    g10 = _mm512_permutex2var_ps(c, even, d);
                    g11 = _mm512_permutex2var_ps(c, odd, d);
                }
                // Rows of A·dY: (dY0, dY0 + dY1, dY0 − dY1, −dY1); then each row times Aᵀ.
                __m512 r0[2] = { g00, g01 };
                __m512 r1[2] = { _mm512_add_ps(g00, g10), _mm512_add_ps(g01, g11) };
                __m512 r2[2] = { _mm512_sub_ps(g00, g10), _mm512_sub_ps(g01, g11) };
                __m512 r3[2] = { _mm512_xor_ps(g10, sign), _mm512_xor_ps(g11, sign) };
                const __m512 *rows[4] = { r0, r1, r2, r3 };
                const __mmask16 k = ck_first(TW - tx);
                float *q = orow + tx;
                for (int r = 0; r < 4; r++) {
                    __m512 e0 = rows[r][0], e1 = rows[r][1];
                    _mm512_mask_storeu_ps(q + (4 * r + 0) * s, k, e0);
                    _mm512_mask_storeu_ps(q + (4 * r + 1) * s, k, _mm512_add_ps(e0, e1));
                    _mm512_mask_storeu_ps(q + (4 * r + 2) * s, k, _mm512_sub_ps(e0, e1));
                    _mm512_mask_storeu_ps(q + (4 * r + 3) * s, k, _mm512_xor_ps(e1, sign));
                }
            }
        }
    }
}

/// One row (a, b, c) of G·g times Gᵀ, for 16 filters: positions 4r ... 4r+3.
CK_AVX512 static inline void ck_filter_row(__m512 a, __m512 b, __m512 c, float *u, ptrdiff_t r,
                                           ptrdiff_t count, __mmask16 k) {
    const __m512 half = _mm512_set1_ps(0.5f);
    _mm512_mask_storeu_ps(u + (4 * r + 0) * count, k, a);
    _mm512_mask_storeu_ps(u + (4 * r + 1) * count, k, _mm512_mul_ps(half, _mm512_add_ps(_mm512_add_ps(a, b), c)));
    _mm512_mask_storeu_ps(u + (4 * r + 2) * count, k, _mm512_mul_ps(half, _mm512_add_ps(_mm512_sub_ps(a, b), c)));
    _mm512_mask_storeu_ps(u + (4 * r + 3) * count, k, c);
}

CK_AVX512
void ck_wino_filter_avx512(const float *filter, ptrdiff_t first, ptrdiff_t end, ptrdiff_t count, float *u) {
    const __m512 half = _mm512_set1_ps(0.5f);
    const __m512i nine = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                            _mm512_set1_epi32(9));
    for (ptrdiff_t f = first; f < end; f += 16) {
        const __mmask16 k = ck_first(end - f);
        const float *g = filter + 9 * f;
        __m512 v[9];
        for (int j = 0; j < 9; j++)
            v[j] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), k, _mm512_add_epi32(nine, _mm512_set1_epi32(j)), g, 4);
        float *q = u + f;
        ck_filter_row(v[0], v[1], v[2], q, 0, count, k);
        ck_filter_row(_mm512_mul_ps(half, _mm512_add_ps(_mm512_add_ps(v[0], v[3]), v[6])),
                      _mm512_mul_ps(half, _mm512_add_ps(_mm512_add_ps(v[1], v[4]), v[7])),
                      _mm512_mul_ps(half, _mm512_add_ps(_mm512_add_ps(v[2], v[5]), v[8])), q, 1, count, k);
        ck_filter_row(_mm512_mul_ps(half, _mm512_add_ps(_mm512_sub_ps(v[0], v[3]), v[6])),
                      _mm512_mul_ps(half, _mm512_add_ps(_mm512_sub_ps(v[1], v[4]), v[7])),
                      _mm512_mul_ps(half, _mm512_add_ps(_mm512_sub_ps(v[2], v[5]), v[8])), q, 2, count, k);
        ck_filter_row(v[6], v[7], v[8], q, 3, count, k);
    }
}

CK_AVX512
void ck_wino_filter_grad_avx512(const float *dU, ptrdiff_t part_stride, ptrdiff_t parts, ptrdiff_t first,
                                ptrdiff_t end, ptrdiff_t count, float *dw, int accumulate) {
    const __m512 half = _mm512_set1_ps(0.5f);
    const __m512i nine = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                            _mm512_set1_epi32(9));
    for (ptrdiff_t f = first; f < end; f += 16) {
        const __mmask16 k = ck_first(end - f);
        __m512 d[16];
        for (int xi = 0; xi < 16; xi++) {
            const float *p = dU + xi * count + f;
            __m512 sum = _mm512_maskz_loadu_ps(k, p);
            for (ptrdiff_t part = 1; part < parts; part++)
                sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(k, p + part * part_stride));
            d[xi] = sum;
        }
        // t = Gᵀ · dU (3x4), column by column; then each row of t times G (4 -> 3).
        __m512 t[3][4];
        for (int c = 0; c < 4; c++) {
            __m512 d0 = d[c], d1 = d[4 + c], d2 = d[8 + c], d3 = d[12 + c];
            t[0][c] = _mm512_add_ps(d0, _mm512_mul_ps(half, _mm512_add_ps(d1, d2)));
            t[1][c] = _mm512_mul_ps(half, _mm512_sub_ps(d1, d2));
            t[2][c] = _mm512_add_ps(_mm512_mul_ps(half, _mm512_add_ps(d1, d2)), d3);
        }
        float *w = dw + 9 * f;
        for (int r = 0; r < 3; r++) {
            __m512 v[3];
            v[0] = _mm512_add_ps(t[r][0], _mm512_mul_ps(half, _mm512_add_ps(t[r][1], t[r][2])));
            v[1] = _mm512_mul_ps(half, _mm512_sub_ps(t[r][1], t[r][2]));
            v[2] = _mm512_add_ps(_mm512_mul_ps(half, _mm512_add_ps(t[r][1], t[r][2])), t[r][3]);
            for (int j = 0; j < 3; j++) {
                const __m512i index = _mm512_add_epi32(nine, _mm512_set1_epi32(3 * r + j));
                __m512 value = v[j];
                if (accumulate)
                    value = _mm512_add_ps(_mm512_mask_i32gather_ps(_mm512_setzero_ps(), k, index, w, 4), value);
                _mm512_mask_i32scatter_ps(w, k, index, value, 4);
            }
        }
    }
}

#else  // not x86-64: never called (ck_cpu_level() is 0), defined so the module links everywhere.

void ck_wino_input_avx512(const float *in, ptrdiff_t in_plane_stride, ptrdiff_t planes,
                          ptrdiff_t H, ptrdiff_t W, ptrdiff_t P, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                          float *out, ptrdiff_t out_plane_stride, ptrdiff_t pos_stride) {}
void ck_wino_output_avx512(const float *m, ptrdiff_t m_plane_stride, ptrdiff_t pos_stride, ptrdiff_t planes,
                           ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                           const float *bias, int relu, float *y, ptrdiff_t y_plane_stride) {}
void ck_wino_output_grad_avx512(const float *dy, ptrdiff_t dy_plane_stride, ptrdiff_t planes,
                                ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                                float *out, ptrdiff_t out_plane_stride, ptrdiff_t pos_stride) {}
void ck_wino_filter_avx512(const float *filter, ptrdiff_t first, ptrdiff_t end, ptrdiff_t count, float *u) {}
void ck_wino_filter_grad_avx512(const float *dU, ptrdiff_t part_stride, ptrdiff_t parts, ptrdiff_t first,
                                ptrdiff_t end, ptrdiff_t count, float *dw, int accumulate) {}
#endif
