// Winograd F(4x4, 3x3) transforms, AVX-512: 16 horizontally adjacent tiles per vector.
// See include/ck_winograd4.h for the math, layout and overwrite rules.
#include "ck_winograd4.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include "ck_winograd_internal.h"

#define CK_INLINE __attribute__((always_inline)) static inline

/// Bᵀ·d along one axis for six vectors (t must not alias d):
/// t = (4d0 − 5d2 + d4, −4d1 − 4d2 + d3 + d4, 4d1 − 4d2 − d3 + d4, −2d1 − d2 + 2d3 + d4,
///      2d1 − d2 − 2d3 + d4, 4d1 − 5d3 + d5).
CK_AVX512 CK_INLINE void ck4_input_1d(const __m512 d[6], __m512 t[6]) {
    const __m512 two = _mm512_set1_ps(2.0f), four = _mm512_set1_ps(4.0f), five = _mm512_set1_ps(5.0f);
    __m512 a = _mm512_fnmadd_ps(four, d[2], d[4]);     // d4 − 4d2
    __m512 b = _mm512_fnmadd_ps(four, d[1], d[3]);     // d3 − 4d1
    __m512 c = _mm512_sub_ps(d[4], d[2]);
    __m512 e = _mm512_sub_ps(d[3], d[1]);
    t[0] = _mm512_fmadd_ps(four, d[0], _mm512_fnmadd_ps(five, d[2], d[4]));
    t[1] = _mm512_add_ps(a, b);
    t[2] = _mm512_sub_ps(a, b);
    t[3] = _mm512_fmadd_ps(two, e, c);
    t[4] = _mm512_fnmadd_ps(two, e, c);
    t[5] = _mm512_fmadd_ps(four, d[1], _mm512_fnmadd_ps(five, d[3], d[5]));
}

/// Aᵀ·m along one axis (6 -> 4): y = (m0 + m1 + m2 + m3 + m4, m1 − m2 + 2(m3 − m4),
/// m1 + m2 + 4(m3 + m4), m1 − m2 + 8(m3 − m4) + m5).
CK_AVX512 CK_INLINE void ck4_output_1d(const __m512 m[6], __m512 y[4]) {
    __m512 s12 = _mm512_add_ps(m[1], m[2]), d12 = _mm512_sub_ps(m[1], m[2]);
    __m512 s34 = _mm512_add_ps(m[3], m[4]), d34 = _mm512_sub_ps(m[3], m[4]);
    y[0] = _mm512_add_ps(_mm512_add_ps(m[0], s12), s34);
    y[1] = _mm512_fmadd_ps(_mm512_set1_ps(2.0f), d34, d12);
    y[2] = _mm512_fmadd_ps(_mm512_set1_ps(4.0f), s34, s12);
    y[3] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(8.0f), d34, d12), m[5]);
}

/// A·g along one axis (4 -> 6), the adjoint of ck4_output_1d:
/// e = (g0, g0 + g1 + g2 + g3, g0 − g1 + g2 − g3, g0 + 2g1 + 4g2 + 8g3, g0 − 2g1 + 4g2 − 8g3, g3).
CK_AVX512 CK_INLINE void ck4_output_grad_1d(const __m512 g[4], __m512 e[6]) {
    __m512 p = _mm512_add_ps(g[0], g[2]), q = _mm512_add_ps(g[1], g[3]);
    __m512 r = _mm512_fmadd_ps(_mm512_set1_ps(4.0f), g[2], g[0]);
    __m512 s = _mm512_fmadd_ps(_mm512_set1_ps(8.0f), g[3], _mm512_add_ps(g[1], g[1]));
    e[0] = g[0];
    e[1] = _mm512_add_ps(p, q);
    e[2] = _mm512_sub_ps(p, q);
    e[3] = _mm512_add_ps(r, s);
    e[4] = _mm512_sub_ps(r, s);
    e[5] = g[3];
}

/// G·(a, b, c) along one axis (3 -> 6): (a/4, −(a + b + c)/6, −(a − b + c)/6, (a/4 + b/2 + c)/6,
/// (a/4 − b/2 + c)/6, c).
CK_AVX512 CK_INLINE void ck4_filter_1d(__m512 a, __m512 b, __m512 c, __m512 u[6]) {
    const __m512 quarter = _mm512_set1_ps(0.25f), half = _mm512_set1_ps(0.5f);
    const __m512 sixth = _mm512_set1_ps(1.0f / 6.0f), minus_sixth = _mm512_set1_ps(-1.0f / 6.0f);
    __m512 ac = _mm512_add_ps(a, c);
    __m512 q = _mm512_fmadd_ps(quarter, a, c);
    u[0] = _mm512_mul_ps(quarter, a);
    u[1] = _mm512_mul_ps(_mm512_add_ps(ac, b), minus_sixth);
    u[2] = _mm512_mul_ps(_mm512_sub_ps(ac, b), minus_sixth);
    u[3] = _mm512_mul_ps(_mm512_fmadd_ps(half, b, q), sixth);
    u[4] = _mm512_mul_ps(_mm512_fnmadd_ps(half, b, q), sixth);
    u[5] = c;
}

/// Gᵀ·d along one axis (6 -> 3), the adjoint of ck4_filter_1d:
/// w = (d0/4 − (d1 + d2)/6 + (d3 + d4)/24, (d2 − d1)/6 + (d3 − d4)/12, (d3 + d4 − d1 − d2)/6 + d5).
CK_AVX512 CK_INLINE void ck4_filter_grad_1d(const __m512 d[6], __m512 w[3]) {
    const __m512 quarter = _mm512_set1_ps(0.25f), sixth = _mm512_set1_ps(1.0f / 6.0f);
    const __m512 twelfth = _mm512_set1_ps(1.0f / 12.0f), twentyfourth = _mm512_set1_ps(1.0f / 24.0f);
    __m512 s12 = _mm512_add_ps(d[1], d[2]), s34 = _mm512_add_ps(d[3], d[4]);
    w[0] = _mm512_fmadd_ps(quarter, d[0], _mm512_fmsub_ps(s34, twentyfourth, _mm512_mul_ps(s12, sixth)));
    w[1] = _mm512_fmadd_ps(_mm512_sub_ps(d[2], d[1]), sixth, _mm512_mul_ps(_mm512_sub_ps(d[3], d[4]), twelfth));
    w[2] = _mm512_fmadd_ps(_mm512_sub_ps(s34, s12), sixth, d[5]);
}

/// Splits 64 consecutive floats (a0 .. a3, 16 each) into their four columns mod 4:
/// g[j] lane l = element 4l + j.
CK_AVX512 CK_INLINE void ck4_deinterleave4(__m512 a0, __m512 a1, __m512 a2, __m512 a3, __m512 g[4]) {
    const __m512i j01 = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 1, 5, 9, 13, 17, 21, 25, 29);
    const __m512i j23 = _mm512_setr_epi32(2, 6, 10, 14, 18, 22, 26, 30, 3, 7, 11, 15, 19, 23, 27, 31);
    __m512 p = _mm512_permutex2var_ps(a0, j01, a1), q = _mm512_permutex2var_ps(a2, j01, a3);
    g[0] = _mm512_shuffle_f32x4(p, q, 0x44);
    g[1] = _mm512_shuffle_f32x4(p, q, 0xEE);
    p = _mm512_permutex2var_ps(a0, j23, a1);
    q = _mm512_permutex2var_ps(a2, j23, a3);
    g[2] = _mm512_shuffle_f32x4(p, q, 0x44);
    g[3] = _mm512_shuffle_f32x4(p, q, 0xEE);
}

// Narrow rows. A vector holds 16 tiles as G = 16 / L groups of L lanes (L = 4, 8 or 16, the fewest
// lanes >= TW): group g is tile row ty + g, lane g*L + t its tile tx + t. With TW <= 8 this fills
// the vector from several tile rows (alexnet_c3: TW = 4, so 4 rows per vector instead of 4 useful
// lanes of 16). The transformed tiles of consecutive tile rows are contiguous (TW apart), so a
// vector's useful lanes are compacted (stores) or expanded (loads) with one permutation.

/// Lanes per tile row: the fewest of 4, 8, 16 that hold TW tiles (16 for wider rows).
static inline ptrdiff_t ck4_lanes(ptrdiff_t TW) { return TW <= 4 ? 4 : TW <= 8 ? 8 : 16; }

/// Lane m < G*TW of the result = lane (m / TW)*L + m % TW: the useful lanes, contiguous.
CK_AVX512 static inline __m512i ck4_compact_index(ptrdiff_t TW, ptrdiff_t L) {
    int idx[16];
    for (int m = 0; m < 16; m++) idx[m] = m < (16 / L) * TW ? (int)((m / TW) * L + m % TW) : 0;
    return _mm512_loadu_si512(idx);
}

/// The inverse of ck4_compact_index: lane g*L + t of the result = lane g*TW + t (t < TW).
CK_AVX512 static inline __m512i ck4_expand_index(ptrdiff_t TW, ptrdiff_t L) {
    int idx[16];
    for (int l = 0; l < 16; l++) idx[l] = l % L < TW ? (int)((l / L) * TW + l % L) : 0;
    return _mm512_loadu_si512(idx);
}

/// Input row offset r (0 ... 5) of 16 tiles (G groups of L lanes, tile rows ty ..< ty + rows,
/// first column x): d[j] lane g*L + t = column x + 4t + j of input row 4(ty + g) − P + r, zero
/// outside the plane or past the rows.
CK_AVX512 CK_INLINE void ck4_group_columns(const float *plane, ptrdiff_t H, ptrdiff_t W, ptrdiff_t P, ptrdiff_t ty,
                                           ptrdiff_t rows, ptrdiff_t r, ptrdiff_t x, ptrdiff_t L, __m512 d[6]) {
    const ptrdiff_t per = L / 4;   // 16-column loads per tile row
    __m512 a[4], b[4];
    for (int k = 0; k < 4; k++) {
        const ptrdiff_t g = k / per, col = x + 16 * (k % per), yy = 4 * (ty + g) - P + r;
        if (g < rows && yy >= 0 && yy < H) {
            const float *row = plane + yy * W;
            a[k] = ck_columns16(row, col, W);
            b[k] = ck_columns16(row, col + 4, W);
        } else {
            a[k] = b[k] = _mm512_setzero_ps();
        }
    }
    ck4_deinterleave4(a[0], a[1], a[2], a[3], d);
    __m512 shifted[4];
    ck4_deinterleave4(b[0], b[1], b[2], b[3], shifted);
    d[4] = shifted[0];
    d[5] = shifted[1];
}

/// Stores `v` (16 tiles as laid out by ck4_group_columns) to `q`: lanes tx ..< TW (L = 16) or
/// the compacted lanes of `rows` tile rows (L < 16).
CK_AVX512 CK_INLINE void ck4_store_tiles(float *q, __m512 v, ptrdiff_t L, __m512i compact, ptrdiff_t TW, ptrdiff_t tx,
                                         ptrdiff_t rows) {
    if (L == 16) _mm512_mask_storeu_ps(q, ck_first(TW - tx), v);
    else _mm512_mask_storeu_ps(q, ck_first(rows * TW), _mm512_permutexvar_ps(compact, v));
}

CK_AVX512
void ck_wino4_input_avx512(const float *in, ptrdiff_t in_plane_stride, ptrdiff_t planes,
                           ptrdiff_t H, ptrdiff_t W, ptrdiff_t P, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                           float *out, ptrdiff_t out_plane_stride, ptrdiff_t pos_stride) {
    const ptrdiff_t s = pos_stride, L = ck4_lanes(TW), G = 16 / L;
    const __m512i compact = ck4_compact_index(TW, L);
    for (ptrdiff_t p = 0; p < planes; p++) {
        const float *plane = in + p * in_plane_stride;
        float *o = out + p * out_plane_stride;
        for (ptrdiff_t ty = ty0; ty < ty1; ty += G) {
            const ptrdiff_t rows = ty1 - ty < G ? ty1 - ty : G;   // tile rows in this vector
            if (p + 1 < planes) {
                // Prefetch these tile rows' new input rows in the next plane (planes come from memory).
                for (ptrdiff_t r = ty == ty0 ? 0 : 2; r < 4 * rows + 2; r++) {
                    const ptrdiff_t yy = 4 * ty - P + r;
                    if (yy < 0 || yy >= H) continue;
                    const char *row = (const char *)(plane + in_plane_stride + yy * W);
                    for (ptrdiff_t b = 0; b < W * 4; b += 64) _mm_prefetch(row + b, _MM_HINT_T0);
                }
            }
            for (ptrdiff_t tx = 0; tx < TW; tx += L) {
                float *q = o + (ty - ty0) * TW + tx;
                // Rows first (t[r] = Bᵀ along the row r of the tiles), then columns: V = Bᵀ t.
                __m512 t[6][6], d[6];
                for (int r = 0; r < 6; r++) {
                    ck4_group_columns(plane, H, W, P, ty, rows, r, 4 * tx - P, L, d);
                    ck4_input_1d(d, t[r]);
                }
                for (int c = 0; c < 6; c++) {
                    __m512 column[6] = { t[0][c], t[1][c], t[2][c], t[3][c], t[4][c], t[5][c] }, v[6];
                    ck4_input_1d(column, v);
                    for (int r = 0; r < 6; r++) ck4_store_tiles(q + (6 * r + c) * s, v[r], L, compact, TW, tx, rows);
                }
            }
        }
    }
}

CK_AVX512
void ck_wino4_output_avx512(const float *m, ptrdiff_t m_plane_stride, ptrdiff_t pos_stride, ptrdiff_t planes,
                            ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                            const float *bias, int relu, float *y, ptrdiff_t y_plane_stride) {
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const __m512i q0 = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11);
    const __m512i q1 = _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15);
    const __m512 zero = _mm512_setzero_ps();
    const ptrdiff_t s = pos_stride, L = ck4_lanes(TW), G = 16 / L, per = L / 4;
    const __m512i expand = ck4_expand_index(TW, L);
    for (ptrdiff_t p = 0; p < planes; p++) {
        const float *mp = m + p * m_plane_stride;
        float *plane = y + p * y_plane_stride;
        const __m512 b = _mm512_set1_ps(bias ? bias[p] : 0.0f);
        for (ptrdiff_t ty = ty0; ty < ty1; ty += G) {
            const ptrdiff_t rows = ty1 - ty < G ? ty1 - ty : G;   // tile rows in this vector
            for (ptrdiff_t tx = 0; tx < TW; tx += L) {
                const __mmask16 k = L == 16 ? ck_first(TW - tx) : ck_first(rows * TW);
                const float *q = mp + (ty - ty0) * TW + tx;
                // Columns first (u = Aᵀ M along the 6 rows, per column), then each output row.
                __m512 u[4][6];
                for (int c = 0; c < 6; c++) {
                    __m512 column[6], v[4];
                    for (int r = 0; r < 6; r++) {
                        column[r] = _mm512_maskz_loadu_ps(k, q + (6 * r + c) * s);
                        if (L < 16) column[r] = _mm512_permutexvar_ps(expand, column[r]);
                    }
                    ck4_output_1d(column, v);
                    for (int i = 0; i < 4; i++) u[i][c] = v[i];
                }
                const ptrdiff_t x = 4 * tx;
                for (int i = 0; i < 4; i++) {
                    __m512 v[4];
                    ck4_output_1d(u[i], v);
                    for (int j = 0; j < 4; j++) {
                        v[j] = _mm512_add_ps(v[j], b);
                        // max(0, y) returns y (the second operand) when y is NaN: NaN propagates.
                        if (relu) v[j] = _mm512_max_ps(zero, v[j]);
                    }
                    // Interleave (lane l of v[j] is column 4l + j of its group): pairs, then pairs of pairs.
                    __m512d a0 = _mm512_castps_pd(_mm512_permutex2var_ps(v[0], lo, v[1]));
                    __m512d a1 = _mm512_castps_pd(_mm512_permutex2var_ps(v[0], hi, v[1]));
                    __m512d b0 = _mm512_castps_pd(_mm512_permutex2var_ps(v[2], lo, v[3]));
                    __m512d b1 = _mm512_castps_pd(_mm512_permutex2var_ps(v[2], hi, v[3]));
                    __m512 outs[4] = { _mm512_castpd_ps(_mm512_permutex2var_pd(a0, q0, b0)),
                                       _mm512_castpd_ps(_mm512_permutex2var_pd(a0, q1, b0)),
                                       _mm512_castpd_ps(_mm512_permutex2var_pd(a1, q0, b1)),
                                       _mm512_castpd_ps(_mm512_permutex2var_pd(a1, q1, b1)) };
                    // outs[n]: 16 output columns of tile row ty + n / per, from column x + 16 (n % per).
                    for (int n = 0; n < 4; n++) {
                        const ptrdiff_t g = n / per, col = x + 16 * (n % per), row = 4 * (ty + g) + i;
                        if (g >= rows || row >= OH || col >= OW) continue;
                        _mm512_mask_storeu_ps(plane + row * OW + col, ck_first(OW - col), outs[n]);
                    }
                }
            }
        }
    }
}

CK_AVX512
void ck_wino4_output_grad_avx512(const float *dy, ptrdiff_t dy_plane_stride, ptrdiff_t planes,
                                 ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                                 float *out, ptrdiff_t out_plane_stride, ptrdiff_t pos_stride) {
    const ptrdiff_t s = pos_stride, L = ck4_lanes(TW), G = 16 / L, per = L / 4;
    const __m512i compact = ck4_compact_index(TW, L);
    for (ptrdiff_t p = 0; p < planes; p++) {
        const float *plane = dy + p * dy_plane_stride;
        float *o = out + p * out_plane_stride;
        for (ptrdiff_t ty = ty0; ty < ty1; ty += G) {
            const ptrdiff_t rows = ty1 - ty < G ? ty1 - ty : G;   // tile rows in this vector
            if (p + 1 < planes) {
                // Prefetch the same rows of the next plane (planes come from memory).
                ptrdiff_t last = 4 * (ty + rows);
                if (last > OH) last = OH;
                const char *next = (const char *)(plane + dy_plane_stride + 4 * ty * OW);
                for (ptrdiff_t b = 0; b < (last - 4 * ty) * OW * 4; b += 64) _mm_prefetch(next + b, _MM_HINT_T0);
            }
            for (ptrdiff_t tx = 0; tx < TW; tx += L) {
                const ptrdiff_t x = 4 * tx;
                // Rows first (h[i] = A along gradient row i of the tiles), then columns: dM = A h.
                __m512 h[4][6];
                for (int i = 0; i < 4; i++) {
                    __m512 a[4], g4[4];
                    for (int n = 0; n < 4; n++) {
                        const ptrdiff_t g = n / per, col = x + 16 * (n % per), row = 4 * (ty + g) + i;
                        a[n] = g < rows && row < OH && col < OW
                            ? _mm512_maskz_loadu_ps(ck_first(OW - col), plane + row * OW + col) : _mm512_setzero_ps();
                    }
                    ck4_deinterleave4(a[0], a[1], a[2], a[3], g4);
                    ck4_output_grad_1d(g4, h[i]);
                }
                float *q = o + (ty - ty0) * TW + tx;
                for (int c = 0; c < 6; c++) {
                    __m512 column[4] = { h[0][c], h[1][c], h[2][c], h[3][c] }, e[6];
                    ck4_output_grad_1d(column, e);
                    for (int r = 0; r < 6; r++) ck4_store_tiles(q + (6 * r + c) * s, e[r], L, compact, TW, tx, rows);
                }
            }
        }
    }
}

CK_AVX512
void ck_wino4_filter_avx512(const float *filter, ptrdiff_t first, ptrdiff_t end, ptrdiff_t count, float *u) {
    const __m512i nine = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                            _mm512_set1_epi32(9));
    for (ptrdiff_t f = first; f < end; f += 16) {
        const __mmask16 k = ck_first(end - f);
        const float *g = filter + 9 * f;
        __m512 v[9];
        for (int j = 0; j < 9; j++)
            v[j] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), k, _mm512_add_epi32(nine, _mm512_set1_epi32(j)), g, 4);
        // Columns first (t[·][c] = G · column c of g), then each row of t times Gᵀ.
        __m512 t[3][6];
        for (int c = 0; c < 3; c++) {
            __m512 column[6];
            ck4_filter_1d(v[c], v[3 + c], v[6 + c], column);
            for (int r = 0; r < 6; r++) t[c][r] = column[r];
        }
        float *q = u + f;
        for (int r = 0; r < 6; r++) {
            __m512 row[6];
            ck4_filter_1d(t[0][r], t[1][r], t[2][r], row);
            for (int c = 0; c < 6; c++) _mm512_mask_storeu_ps(q + (6 * r + c) * count, k, row[c]);
        }
    }
}

CK_AVX512
void ck_wino4_filter_grad_avx512(const float *dU, ptrdiff_t part_stride, ptrdiff_t parts, ptrdiff_t first,
                                 ptrdiff_t end, ptrdiff_t count, float *dw, int accumulate) {
    const __m512i nine = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                            _mm512_set1_epi32(9));
    for (ptrdiff_t f = first; f < end; f += 16) {
        const __mmask16 k = ck_first(end - f);
        // Per column c of the 6x6 dU: t[·][c] = Gᵀ · column (3 values); then each row of t times G.
        __m512 t[3][6];
        for (int c = 0; c < 6; c++) {
            __m512 column[6], w[3];
            for (int r = 0; r < 6; r++) {
                const float *p = dU + (6 * r + c) * count + f;
                __m512 sum = _mm512_maskz_loadu_ps(k, p);
                for (ptrdiff_t part = 1; part < parts; part++)
                    sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(k, p + part * part_stride));
                column[r] = sum;
            }
            ck4_filter_grad_1d(column, w);
            for (int i = 0; i < 3; i++) t[i][c] = w[i];
        }
        float *out = dw + 9 * f;
        for (int i = 0; i < 3; i++) {
            __m512 w[3];
            ck4_filter_grad_1d(t[i], w);
            for (int j = 0; j < 3; j++) {
                const __m512i index = _mm512_add_epi32(nine, _mm512_set1_epi32(3 * i + j));
                __m512 value = w[j];
                if (accumulate)
                    value = _mm512_add_ps(_mm512_mask_i32gather_ps(_mm512_setzero_ps(), k, index, out, 4), value);
                _mm512_mask_i32scatter_ps(out, k, index, value, 4);
            }
        }
    }
}

#else  // not x86-64: never called (ck_cpu_level() is 0), defined so the module links everywhere.

void ck_wino4_input_avx512(const float *in, ptrdiff_t in_plane_stride, ptrdiff_t planes,
                           ptrdiff_t H, ptrdiff_t W, ptrdiff_t P, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                           float *out, ptrdiff_t out_plane_stride, ptrdiff_t pos_stride) {}
void ck_wino4_output_avx512(const float *m, ptrdiff_t m_plane_stride, ptrdiff_t pos_stride, ptrdiff_t planes,
                            ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                            const float *bias, int relu, float *y, ptrdiff_t y_plane_stride) {}
void ck_wino4_output_grad_avx512(const float *dy, ptrdiff_t dy_plane_stride, ptrdiff_t planes,
                                 ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                                 float *out, ptrdiff_t out_plane_stride, ptrdiff_t pos_stride) {}
void ck_wino4_filter_avx512(const float *filter, ptrdiff_t first, ptrdiff_t end, ptrdiff_t count, float *u) {}
void ck_wino4_filter_grad_avx512(const float *dU, ptrdiff_t part_stride, ptrdiff_t parts, ptrdiff_t first,
                                 ptrdiff_t end, ptrdiff_t count, float *dw, int accumulate) {}
#endif
