// Winograd F(4x4, 3x3) tile transforms, AVX2: 8 horizontally adjacent tiles per vector (one tile
// row per vector; rows of fewer than 8 tiles leave lanes empty). See include/ck_winograd4.h for the
// math, layout and overwrite rules; same operations as ck_winograd4_avx512.c. Tails use masked
// loads and stores (nothing outside the planes is read or written); the left edge of a padded row
// is assembled in a small buffer.
#include "ck_winograd4.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include "ck_winograd_avx2_internal.h"

#define CK_INLINE __attribute__((always_inline)) static inline

/// 32 consecutive floats (a0 .. a3) split into their columns mod 4: g[j] lane l = element 4l + j.
CK_AVX2 CK_INLINE void ck4_deinterleave4_8(__m256 a0, __m256 a1, __m256 a2, __m256 a3, __m256 g[4]) {
    // 4x4 transposes inside the 128-bit halves give tiles in the order 0 2 4 6 | 1 3 5 7.
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    __m256 t0 = _mm256_unpacklo_ps(a0, a1), t1 = _mm256_unpackhi_ps(a0, a1);
    __m256 t2 = _mm256_unpacklo_ps(a2, a3), t3 = _mm256_unpackhi_ps(a2, a3);
    g[0] = _mm256_permutevar8x32_ps(_mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0)), order);
    g[1] = _mm256_permutevar8x32_ps(_mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2)), order);
    g[2] = _mm256_permutevar8x32_ps(_mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0)), order);
    g[3] = _mm256_permutevar8x32_ps(_mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2)), order);
}

/// The inverse of ck4_deinterleave4_8: out[k] = the 8 floats 8k ... 8k + 7 (tiles 2k, 2k + 1).
CK_AVX2 CK_INLINE void ck4_interleave4_8(const __m256 y[4], __m256 out[4]) {
    const __m256i order = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    __m256 u0 = _mm256_permutevar8x32_ps(y[0], order), u1 = _mm256_permutevar8x32_ps(y[1], order);
    __m256 u2 = _mm256_permutevar8x32_ps(y[2], order), u3 = _mm256_permutevar8x32_ps(y[3], order);
    __m256 t0 = _mm256_unpacklo_ps(u0, u1), t1 = _mm256_unpackhi_ps(u0, u1);
    __m256 t2 = _mm256_unpacklo_ps(u2, u3), t3 = _mm256_unpackhi_ps(u2, u3);
    out[0] = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
    out[1] = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    out[2] = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
    out[3] = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
}

/// Bᵀ·d along one axis (see ck_winograd4_avx512.c).
CK_AVX2 CK_INLINE void ck4_input_1d_8(const __m256 d[6], __m256 t[6]) {
    const __m256 two = _mm256_set1_ps(2.0f), four = _mm256_set1_ps(4.0f), five = _mm256_set1_ps(5.0f);
    __m256 a = _mm256_fnmadd_ps(four, d[2], d[4]);
    __m256 b = _mm256_fnmadd_ps(four, d[1], d[3]);
    __m256 c = _mm256_sub_ps(d[4], d[2]);
    __m256 e = _mm256_sub_ps(d[3], d[1]);
    t[0] = _mm256_fmadd_ps(four, d[0], _mm256_fnmadd_ps(five, d[2], d[4]));
    t[1] = _mm256_add_ps(a, b);
    t[2] = _mm256_sub_ps(a, b);
    t[3] = _mm256_fmadd_ps(two, e, c);
    t[4] = _mm256_fnmadd_ps(two, e, c);
    t[5] = _mm256_fmadd_ps(four, d[1], _mm256_fnmadd_ps(five, d[3], d[5]));
}

/// Aᵀ·m along one axis.
CK_AVX2 CK_INLINE void ck4_output_1d_8(const __m256 m[6], __m256 y[4]) {
    __m256 s12 = _mm256_add_ps(m[1], m[2]), d12 = _mm256_sub_ps(m[1], m[2]);
    __m256 s34 = _mm256_add_ps(m[3], m[4]), d34 = _mm256_sub_ps(m[3], m[4]);
    y[0] = _mm256_add_ps(_mm256_add_ps(m[0], s12), s34);
    y[1] = _mm256_fmadd_ps(_mm256_set1_ps(2.0f), d34, d12);
    y[2] = _mm256_fmadd_ps(_mm256_set1_ps(4.0f), s34, s12);
    y[3] = _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(8.0f), d34, d12), m[5]);
}

/// A·g along one axis.
CK_AVX2 CK_INLINE void ck4_output_grad_1d_8(const __m256 g[4], __m256 e[6]) {
    __m256 p = _mm256_add_ps(g[0], g[2]), q = _mm256_add_ps(g[1], g[3]);
    __m256 r = _mm256_fmadd_ps(_mm256_set1_ps(4.0f), g[2], g[0]);
    __m256 s = _mm256_fmadd_ps(_mm256_set1_ps(8.0f), g[3], _mm256_add_ps(g[1], g[1]));
    e[0] = g[0];
    e[1] = _mm256_add_ps(p, q);
    e[2] = _mm256_sub_ps(p, q);
    e[3] = _mm256_add_ps(r, s);
    e[4] = _mm256_sub_ps(r, s);
    e[5] = g[3];
}

/// G·(a, b, c) along one axis.
CK_AVX2 CK_INLINE void ck4_filter_1d_8(__m256 a, __m256 b, __m256 c, __m256 u[6]) {
    const __m256 quarter = _mm256_set1_ps(0.25f), half = _mm256_set1_ps(0.5f);
    const __m256 sixth = _mm256_set1_ps(1.0f / 6.0f), minus_sixth = _mm256_set1_ps(-1.0f / 6.0f);
    __m256 ac = _mm256_add_ps(a, c);
    __m256 q = _mm256_fmadd_ps(quarter, a, c);
    u[0] = _mm256_mul_ps(quarter, a);
    u[1] = _mm256_mul_ps(_mm256_add_ps(ac, b), minus_sixth);
    u[2] = _mm256_mul_ps(_mm256_sub_ps(ac, b), minus_sixth);
    u[3] = _mm256_mul_ps(_mm256_fmadd_ps(half, b, q), sixth);
    u[4] = _mm256_mul_ps(_mm256_fnmadd_ps(half, b, q), sixth);
    u[5] = c;
}

CK_AVX2
void ck_wino4_input_avx2(const float *in, ptrdiff_t in_plane_stride, ptrdiff_t planes,
                         ptrdiff_t H, ptrdiff_t W, ptrdiff_t P, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                         float *out, ptrdiff_t out_plane_stride, ptrdiff_t pos_stride) {
    const ptrdiff_t s = pos_stride;
    for (ptrdiff_t p = 0; p < planes; p++) {
        const float *plane = in + p * in_plane_stride;
        float *o = out + p * out_plane_stride;
        for (ptrdiff_t ty = ty0; ty < ty1; ty++) {
            const ptrdiff_t y0 = 4 * ty - P;
            float *orow = o + (ty - ty0) * TW;
            if (p + 1 < planes) {
                // Prefetch this tile row's new input rows in the next plane (planes come from memory).
                for (ptrdiff_t r = ty == ty0 ? 0 : 2; r < 6; r++) {
                    const ptrdiff_t yy = y0 + r;
                    if (yy < 0 || yy >= H) continue;
                    const char *row = (const char *)(plane + in_plane_stride + yy * W);
                    for (ptrdiff_t b = 0; b < W * 4; b += 64) _mm_prefetch(row + b, _MM_HINT_T0);
                }
            }
            for (ptrdiff_t tx = 0; tx < TW; tx += 8) {
                const ptrdiff_t x = 4 * tx - P, n = TW - tx;
                float *q = orow + tx;
                __m256 t[6][6];
                for (int r = 0; r < 6; r++) {
                    __m256 d[6], shifted[4];
                    const ptrdiff_t yy = y0 + r;
                    if (yy < 0 || yy >= H) {
                        for (int j = 0; j < 6; j++) t[r][j] = _mm256_setzero_ps();
                        continue;
                    }
                    const float *row = plane + yy * W;
                    ck4_deinterleave4_8(ck_columns8(row, x, W), ck_columns8(row, x + 8, W),
                                        ck_columns8(row, x + 16, W), ck_columns8(row, x + 24, W), d);
                    ck4_deinterleave4_8(ck_columns8(row, x + 4, W), ck_columns8(row, x + 12, W),
                                        ck_columns8(row, x + 20, W), ck_columns8(row, x + 28, W), shifted);
                    d[4] = shifted[0];
                    d[5] = shifted[1];
                    ck4_input_1d_8(d, t[r]);
                }
                for (int c = 0; c < 6; c++) {
                    __m256 column[6] = { t[0][c], t[1][c], t[2][c], t[3][c], t[4][c], t[5][c] }, v[6];
                    ck4_input_1d_8(column, v);
                    for (int r = 0; r < 6; r++) ck_store8(q + (6 * r + c) * s, v[r], n);
                }
            }
        }
    }
}

CK_AVX2
void ck_wino4_output_avx2(const float *m, ptrdiff_t m_plane_stride, ptrdiff_t pos_stride, ptrdiff_t planes,
                          ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                          const float *bias, int relu, float *y, ptrdiff_t y_plane_stride) {
    const __m256 zero = _mm256_setzero_ps();
    const ptrdiff_t s = pos_stride;
    for (ptrdiff_t p = 0; p < planes; p++) {
        const float *mp = m + p * m_plane_stride;
        float *plane = y + p * y_plane_stride;
        const __m256 b = _mm256_set1_ps(bias ? bias[p] : 0.0f);
        for (ptrdiff_t ty = ty0; ty < ty1; ty++) {
            const float *mrow = mp + (ty - ty0) * TW;
            for (ptrdiff_t tx = 0; tx < TW; tx += 8) {
                const ptrdiff_t n = TW - tx, x = 4 * tx;
                const float *q = mrow + tx;
                __m256 u[4][6];
                for (int c = 0; c < 6; c++) {
                    __m256 column[6], v[4];
                    for (int r = 0; r < 6; r++) column[r] = ck_load8(q + (6 * r + c) * s, n);
                    ck4_output_1d_8(column, v);
                    for (int i = 0; i < 4; i++) u[i][c] = v[i];
                }
                for (int i = 0; i < 4 && 4 * ty + i < OH; i++) {
                    __m256 v[4], outs[4];
                    ck4_output_1d_8(u[i], v);
                    for (int j = 0; j < 4; j++) {
                        v[j] = _mm256_add_ps(v[j], b);
                        // max(0, y) returns y (the second operand) when y is NaN: NaN propagates.
                        if (relu) v[j] = _mm256_max_ps(zero, v[j]);
                    }
                    ck4_interleave4_8(v, outs);
                    float *row = plane + (4 * ty + i) * OW;
                    for (int k = 0; k < 4; k++) {
                        const ptrdiff_t col = x + 8 * k;
                        if (col < OW) ck_store8(row + col, outs[k], OW - col);
                    }
                }
            }
        }
    }
}

CK_AVX2
void ck_wino4_output_grad_avx2(const float *dy, ptrdiff_t dy_plane_stride, ptrdiff_t planes,
                               ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                               float *out, ptrdiff_t out_plane_stride, ptrdiff_t pos_stride) {
    const ptrdiff_t s = pos_stride;
    for (ptrdiff_t p = 0; p < planes; p++) {
        const float *plane = dy + p * dy_plane_stride;
        float *o = out + p * out_plane_stride;
        for (ptrdiff_t ty = ty0; ty < ty1; ty++) {
            const ptrdiff_t rows = OH - 4 * ty < 4 ? OH - 4 * ty : 4;   // gradient rows inside the plane
            float *orow = o + (ty - ty0) * TW;
            if (p + 1 < planes) {
                const char *next = (const char *)(plane + dy_plane_stride + 4 * ty * OW);
                for (ptrdiff_t b = 0; b < rows * OW * 4; b += 64) _mm_prefetch(next + b, _MM_HINT_T0);
            }
            for (ptrdiff_t tx = 0; tx < TW; tx += 8) {
                const ptrdiff_t x = 4 * tx, n = TW - tx;
                __m256 h[4][6];
                for (int i = 0; i < 4; i++) {
                    __m256 a[4], g[4];
                    for (int k = 0; k < 4; k++) {
                        const ptrdiff_t col = x + 8 * k;
                        a[k] = i < rows ? ck_load8(plane + (4 * ty + i) * OW + col, OW - col) : _mm256_setzero_ps();
                    }
                    ck4_deinterleave4_8(a[0], a[1], a[2], a[3], g);
                    ck4_output_grad_1d_8(g, h[i]);
                }
                float *q = orow + tx;
                for (int c = 0; c < 6; c++) {
                    __m256 column[4] = { h[0][c], h[1][c], h[2][c], h[3][c] }, e[6];
                    ck4_output_grad_1d_8(column, e);
                    for (int r = 0; r < 6; r++) ck_store8(q + (6 * r + c) * s, e[r], n);
                }
            }
        }
    }
}

CK_AVX2
void ck_wino4_filter_avx2(const float *filter, ptrdiff_t first, ptrdiff_t end, ptrdiff_t count, float *u) {
    const __m256i nine = _mm256_setr_epi32(0, 9, 18, 27, 36, 45, 54, 63);
    for (ptrdiff_t f = first; f < end; f += 8) {
        const ptrdiff_t n = end - f;
        const __m256 lanes = _mm256_castsi256_ps(ck_mask8(n));
        const float *g = filter + 9 * f;
        __m256 v[9];
        for (int j = 0; j < 9; j++)
            v[j] = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), g, _mm256_add_epi32(nine, _mm256_set1_epi32(j)), lanes, 4);
        __m256 t[3][6];
        for (int c = 0; c < 3; c++) ck4_filter_1d_8(v[c], v[3 + c], v[6 + c], t[c]);
        float *q = u + f;
        for (int r = 0; r < 6; r++) {
            __m256 row[6];
            ck4_filter_1d_8(t[0][r], t[1][r], t[2][r], row);
            for (int c = 0; c < 6; c++) ck_store8(q + (6 * r + c) * count, row[c], n);
        }
    }
}

/// Gᵀ·d along one axis.
CK_AVX2 CK_INLINE void ck4_filter_grad_1d_8(const __m256 d[6], __m256 w[3]) {
    const __m256 quarter = _mm256_set1_ps(0.25f), sixth = _mm256_set1_ps(1.0f / 6.0f);
    const __m256 twelfth = _mm256_set1_ps(1.0f / 12.0f), twentyfourth = _mm256_set1_ps(1.0f / 24.0f);
    __m256 s12 = _mm256_add_ps(d[1], d[2]), s34 = _mm256_add_ps(d[3], d[4]);
    w[0] = _mm256_fmadd_ps(quarter, d[0], _mm256_fmsub_ps(s34, twentyfourth, _mm256_mul_ps(s12, sixth)));
    w[1] = _mm256_fmadd_ps(_mm256_sub_ps(d[2], d[1]), sixth, _mm256_mul_ps(_mm256_sub_ps(d[3], d[4]), twelfth));
    w[2] = _mm256_fmadd_ps(_mm256_sub_ps(s34, s12), sixth, d[5]);
}

CK_AVX2
void ck_wino4_filter_grad_avx2(const float *dU, ptrdiff_t part_stride, ptrdiff_t parts, ptrdiff_t first,
                               ptrdiff_t end, ptrdiff_t count, float *dw, int accumulate) {
    for (ptrdiff_t f = first; f < end; f += 8) {
        const ptrdiff_t n = end - f < 8 ? end - f : 8;
        __m256 t[3][6];
        for (int c = 0; c < 6; c++) {
            __m256 column[6], w[3];
            for (int r = 0; r < 6; r++) {
                const float *p = dU + (6 * r + c) * count + f;
                __m256 sum = ck_load8(p, n);
                for (ptrdiff_t part = 1; part < parts; part++) sum = _mm256_add_ps(sum, ck_load8(p + part * part_stride, n));
                column[r] = sum;
            }
            ck4_filter_grad_1d_8(column, w);
            for (int i = 0; i < 3; i++) t[i][c] = w[i];
        }
        // values[3i + j][lane]: no scatter in AVX2, so the 9 results per filter go through a buffer.
        float values[9][8];
        for (int i = 0; i < 3; i++) {
            __m256 w[3];
            ck4_filter_grad_1d_8(t[i], w);
            for (int j = 0; j < 3; j++) _mm256_storeu_ps(values[3 * i + j], w[j]);
        }
        float *out = dw + 9 * f;
        for (ptrdiff_t l = 0; l < n; l++)
            for (int k = 0; k < 9; k++) out[9 * l + k] = accumulate ? out[9 * l + k] + values[k][l] : values[k][l];
    }
}

#else  // not x86-64: never called (ck_cpu_level() is 0), defined so the module links everywhere.

void ck_wino4_input_avx2(const float *in, ptrdiff_t in_plane_stride, ptrdiff_t planes,
                         ptrdiff_t H, ptrdiff_t W, ptrdiff_t P, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                         float *out, ptrdiff_t out_plane_stride, ptrdiff_t pos_stride) {}
void ck_wino4_output_avx2(const float *m, ptrdiff_t m_plane_stride, ptrdiff_t pos_stride, ptrdiff_t planes,
                          ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                          const float *bias, int relu, float *y, ptrdiff_t y_plane_stride) {}
void ck_wino4_output_grad_avx2(const float *dy, ptrdiff_t dy_plane_stride, ptrdiff_t planes,
                               ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                               float *out, ptrdiff_t out_plane_stride, ptrdiff_t pos_stride) {}
void ck_wino4_filter_avx2(const float *filter, ptrdiff_t first, ptrdiff_t end, ptrdiff_t count, float *u) {}
void ck_wino4_filter_grad_avx2(const float *dU, ptrdiff_t part_stride, ptrdiff_t parts, ptrdiff_t first,
                               ptrdiff_t end, ptrdiff_t count, float *dw, int accumulate) {}
#endif
