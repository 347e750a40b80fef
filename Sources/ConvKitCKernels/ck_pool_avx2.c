// AVX2 max pooling forward (see include/ck_pool.h for the math, layout and rules): the AVX-512
// kernel's general path (ck_pool_avx512.c) with 8 lanes per `ymm`, vector masks and
// `vblendvps` instead of mask registers, `vmaskmovps` for the masked loads and stores.
// Stride 2 is de-interleaved with `vshufps` + `vpermpd` from two masked loads of 16 floats.
#include "ck_isa.h"
#include "ck_pool_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define CK_AVX2 __attribute__((target(CK_TARGET_AVX2)))
#define CK_AVX2_INLINE static inline __attribute__((always_inline, target(CK_TARGET_AVX2)))

/// The masks of a column block of `n` <= 8 outputs, as vectors (lane all-ones = active).
typedef struct ck256_block {
    __m256i lanes;             // the n active outputs
    __m256i low, high;         // mode 2, one tap: elements 0 ..< 2n − 1 of the 16 loaded
    __m256i low_w, high_w;     // mode 2, a whole window of kw <= 3: elements 0 ..< min(2n + kw − 2, 16)
    int full;                  // n == 8
} ck256_block;

CK_AVX2_INLINE __m256i ck256_first(int64_t n) {
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)n), iota);
}

CK_AVX2_INLINE ck256_block ck256_block_of(int64_t n, int64_t kw) {
    ck256_block b;
    b.lanes = ck256_first(n);
    b.full = n == 8;
    int64_t need = 2 * n - 1;
    b.low = ck256_first(need < 8 ? need : 8);
    b.high = ck256_first(need > 8 ? need - 8 : 0);
    int64_t need_w = 2 * n + kw - 2;
    if (need_w > 16) need_w = 16;
    b.low_w = ck256_first(need_w < 8 ? need_w : 8);
    b.high_w = ck256_first(need_w > 8 ? need_w - 8 : 0);
    return b;
}

/// Even and odd elements of the 16 floats `lo:hi`.
CK_AVX2_INLINE __m256 ck256_even(__m256 lo, __m256 hi) {
    __m256 s = _mm256_shuffle_ps(lo, hi, 0x88);   // lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), 0xD8));
}
CK_AVX2_INLINE __m256 ck256_odd(__m256 lo, __m256 hi) {
    __m256 s = _mm256_shuffle_ps(lo, hi, 0xDD);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), 0xD8));
}

/// One tap: `row[S·lane]` for the active lanes (0 elsewhere).
CK_AVX2_INLINE __m256 ck256_tap(const float *row, int mode, const ck256_block *b, __m256i lane_s) {
    if (mode == 1) return _mm256_maskload_ps(row, b->lanes);
    if (mode == 2) return ck256_even(_mm256_maskload_ps(row, b->low), _mm256_maskload_ps(row + 8, b->high));
    return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), row, lane_s, _mm256_castsi256_ps(b->lanes), 4);
}

/// The rule `!(value <= best) && best == best`, as a lane mask.
CK_AVX2_INLINE __m256 ck256_takes(__m256 value, __m256 best) {
    return _mm256_and_ps(_mm256_cmp_ps(best, best, _CMP_ORD_Q), _mm256_cmp_ps(value, best, _CMP_NLE_UQ));
}

CK_AVX2_INLINE __m256i ck256_select(__m256i a, __m256i b, __m256 mask) {
    return _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), mask));
}

/// Horizontal step for one input row and one column block (see ck512_max_row): `*best_out`,
/// `*index_out` (the column); fast rule (`exact == 0`: `vmaxps`, then the first tap equal to
/// it; `*dirty` turns nonzero when a tap was NaN) or the exact rule.
CK_AVX2_INLINE void ck256_max_row(const float *r, int mode, int64_t kw, const ck256_block *b, __m256i lane_s,
                                  __m256i first, int with_index, int exact, __m256 *best_out, __m256i *index_out,
                                  __m256 *dirty) {
    __m256 t[3];
    int taps_ready = 0;
    if (mode == 2 && (kw == 2 || kw == 3)) {
        __m256 lo = _mm256_maskload_ps(r, b->low_w), hi = _mm256_maskload_ps(r + 8, b->high_w);
        t[0] = ck256_even(lo, hi);
        t[1] = ck256_odd(lo, hi);
        __m256 nan = _mm256_cmp_ps(lo, hi, _CMP_UNORD_Q);
        if (kw == 3) {
            // t2 = t0 moved down one lane, element 16 (needed by lane 7 only) on top.
            __m256 top = b->full ? _mm256_set1_ps(r[16]) : _mm256_setzero_ps();
            __m256 down = _mm256_permutevar8x32_ps(t[0], _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 7));
            t[2] = _mm256_blend_ps(down, top, 0x80);
            nan = _mm256_or_ps(nan, _mm256_cmp_ps(top, top, _CMP_UNORD_Q));
        }
        if (!exact) *dirty = _mm256_or_ps(*dirty, nan);
        taps_ready = 1;
    }
    __m256 best = taps_ready ? t[0] : ck256_tap(r, mode, b, lane_s);
    __m256i index = first;
    if (exact) {
        for (int64_t v = 1; v < kw; v++) {
            __m256 value = taps_ready ? t[v] : ck256_tap(r + v, mode, b, lane_s);
            __m256 take = ck256_takes(value, best);
            best = _mm256_blendv_ps(best, value, take);
            if (with_index) index = ck256_select(index, _mm256_add_epi32(first, _mm256_set1_epi32((int32_t)v)), take);
        }
    } else {
        __m256 nan = _mm256_cmp_ps(best, best, _CMP_UNORD_Q);
        for (int64_t v = 1; v < kw; v++) {
            __m256 value = taps_ready ? t[v] : ck256_tap(r + v, mode, b, lane_s);
            if (!taps_ready) nan = _mm256_or_ps(nan, _mm256_cmp_ps(value, value, _CMP_UNORD_Q));
            best = _mm256_max_ps(value, best);
        }
        if (!taps_ready) *dirty = _mm256_or_ps(*dirty, nan);
        if (with_index) {
            index = _mm256_add_epi32(first, _mm256_set1_epi32((int32_t)(kw - 1)));
            for (int64_t v = kw - 2; v >= 0; v--) {
                __m256 value = taps_ready ? t[v] : ck256_tap(r + v, mode, b, lane_s);
                __m256 equal = _mm256_cmp_ps(value, best, _CMP_EQ_OQ);
                index = ck256_select(index, _mm256_add_epi32(first, _mm256_set1_epi32((int32_t)v)), equal);
            }
        }
    }
    *best_out = best;
    *index_out = index;
}

/// The border columns of a plane, by the scalar rule.
static inline void ck256_max_borders(const ck_pool2d_geometry *g, const float *x, float *out, int32_t *out_index,
                                     int64_t interior_lower, int64_t interior_upper) {
    const int64_t H = g->input_height, W = g->input_width, OH = g->output_height, OW = g->output_width;
    if (interior_lower == 0 && interior_upper == OW) return;
    for (int64_t i = 0; i < OH; i++) {
        ck_pool_window rows = ck_pool_window_at(i, g->stride_height, g->padding_height, g->window_height, H);
        for (int64_t j = 0; j < OW; j++) {
            if (j == interior_lower) j = interior_upper;
            if (j >= OW) break;
            ck_pool_window cols = ck_pool_window_at(j, g->stride_width, g->padding_width, g->window_width, W);
            int64_t best_at = (rows.start + rows.lower) * W + cols.start + cols.lower;
            float best = x[best_at];
            for (int64_t u = rows.lower; u < rows.upper; u++) {
                for (int64_t v = cols.lower; v < cols.upper; v++) {
                    int64_t at = (rows.start + u) * W + cols.start + v;
                    if (ck_pool_takes(x[at], best)) { best = x[at]; best_at = at; }
                }
            }
            out[i * OW + j] = best;
            if (out_index) out_index[i * OW + j] = (int32_t)best_at;
        }
    }
}

/// One pass over a plane's interior columns (8 per block, walking down the plane, the window's
/// last row carried to the next output row). Returns 0 when the fast rule met a NaN.
CK_AVX2_INLINE int ck256_max_interior(const ck_pool2d_geometry *g, const float *x, float *out, int32_t *out_index,
                                      int64_t interior_lower, int64_t interior_upper, int mode, int64_t kw,
                                      int with_index, int exact, const float *next_plane) {
    const int64_t H = g->input_height, W = g->input_width, OH = g->output_height, OW = g->output_width;
    const int64_t KH = g->window_height, SH = g->stride_height, PH = g->padding_height;
    const int64_t S = g->stride_width, P = g->padding_width;
    const __m256i lane_s = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int32_t)S));
    __m256 dirty = _mm256_setzero_ps();
    // The next plane is prefetched during the first column block, one output row's share per row.
    const int64_t prefetch_step = ((H * W * 4 + OH - 1) / OH + 63) & ~(int64_t)63;
    for (int64_t j0 = interior_lower; j0 < interior_upper; j0 += 8) {
        const int64_t n = interior_upper - j0 < 8 ? interior_upper - j0 : 8;
        const ck256_block b = ck256_block_of(n, kw);
        const float *column = x + (j0 * S - P);
        const __m256i column_first = _mm256_add_epi32(_mm256_set1_epi32((int32_t)(j0 * S - P)), lane_s);
        int64_t carried = -1;
        __m256 carried_best = _mm256_setzero_ps();
        __m256i carried_index = _mm256_setzero_si256();
        for (int64_t i = 0; i < OH; i++) {
            ck_pool_window rows = ck_pool_window_at(i, SH, PH, KH, H);
            const int64_t first_row = rows.start + rows.lower, end_row = rows.start + rows.upper;
            __m256 best, value;
            __m256i index, value_index;
            if (first_row == carried) {
                best = carried_best;
                index = carried_index;
            } else {
                ck256_max_row(column + first_row * W, mode, kw, &b, lane_s, column_first, with_index, exact, &best,
                              &index, &dirty);
            }
            __m256i row_offset = _mm256_set1_epi32((int32_t)(first_row * W));
            value = best;
            value_index = index;
            for (int64_t y = first_row + 1; y < end_row; y++) {
                if (y == carried) {
                    value = carried_best;
                    value_index = carried_index;
                } else {
                    ck256_max_row(column + y * W, mode, kw, &b, lane_s, column_first, with_index, exact, &value,
                                  &value_index, &dirty);
                }
                __m256 take = exact ? ck256_takes(value, best) : _mm256_cmp_ps(value, best, _CMP_GT_OQ);
                best = _mm256_blendv_ps(best, value, take);
                if (with_index) {
                    index = ck256_select(index, value_index, take);
                    row_offset = ck256_select(row_offset, _mm256_set1_epi32((int32_t)(y * W)), take);
                }
            }
            carried = end_row - 1;
            carried_best = value;
            carried_index = value_index;
            if (next_plane && j0 == interior_lower) {
                const char *base = (const char *)next_plane;
                int64_t to = (i + 1) * prefetch_step < H * W * 4 ? (i + 1) * prefetch_step : H * W * 4;
                for (int64_t at = i * prefetch_step; at < to; at += 64) _mm_prefetch(base + at, _MM_HINT_T0);
            }
            float *y_row = out + i * OW + j0;
            if (with_index) index = _mm256_add_epi32(index, row_offset);
            if (b.full) {
                _mm256_storeu_ps(y_row, best);
                if (with_index) _mm256_storeu_si256((__m256i *)(out_index + i * OW + j0), index);
            } else {
                _mm256_maskstore_ps(y_row, b.lanes, best);
                if (with_index) _mm256_maskstore_epi32((int *)(out_index + i * OW + j0), b.lanes, index);
            }
        }
    }
    if (exact) return 1;
    return _mm256_movemask_ps(dirty) == 0;
}

CK_AVX2_INLINE void ck256_max_planes(const ck_pool2d_geometry *g, const float *input, float *output, int32_t *indices,
                                     int64_t plane_begin, int64_t plane_end, int mode, int64_t kw, int with_index) {
    const int64_t in_plane = g->input_height * g->input_width, out_plane = g->output_height * g->output_width;
    int64_t interior_lower, interior_upper;
    ck_pool_interior_columns(g, &interior_lower, &interior_upper);
    for (int64_t p = plane_begin; p < plane_end; p++) {
        const float *x = input + p * in_plane;
        float *y = output + p * out_plane;
        int32_t *k = with_index ? indices + p * out_plane : 0;
        ck256_max_borders(g, x, y, k, interior_lower, interior_upper);
        const float *next = p + 1 < plane_end ? x + in_plane : 0;
        if (!ck256_max_interior(g, x, y, k, interior_lower, interior_upper, mode, kw, with_index, 0, next)) {
            ck256_max_interior(g, x, y, k, interior_lower, interior_upper, mode, kw, with_index, 1, 0);
        }
    }
}

static CK_AVX2 void ck256_max_s2_k3_i(const ck_pool2d_geometry *g, const float *x, float *y, int32_t *k, int64_t b, int64_t e) {
    ck256_max_planes(g, x, y, k, b, e, 2, 3, 1);
}
static CK_AVX2 void ck256_max_s2_k3_v(const ck_pool2d_geometry *g, const float *x, float *y, int32_t *k, int64_t b, int64_t e) {
    ck256_max_planes(g, x, y, k, b, e, 2, 3, 0);
}
static CK_AVX2 void ck256_max_s2_k2_i(const ck_pool2d_geometry *g, const float *x, float *y, int32_t *k, int64_t b, int64_t e) {
    ck256_max_planes(g, x, y, k, b, e, 2, 2, 1);
}
static CK_AVX2 void ck256_max_s2_k2_v(const ck_pool2d_geometry *g, const float *x, float *y, int32_t *k, int64_t b, int64_t e) {
    ck256_max_planes(g, x, y, k, b, e, 2, 2, 0);
}
static CK_AVX2 void ck256_max_s2_i(const ck_pool2d_geometry *g, const float *x, float *y, int32_t *k, int64_t b, int64_t e) {
    ck256_max_planes(g, x, y, k, b, e, 2, g->window_width, 1);
}
static CK_AVX2 void ck256_max_s2_v(const ck_pool2d_geometry *g, const float *x, float *y, int32_t *k, int64_t b, int64_t e) {
    ck256_max_planes(g, x, y, k, b, e, 2, g->window_width, 0);
}
static CK_AVX2 void ck256_max_s1_i(const ck_pool2d_geometry *g, const float *x, float *y, int32_t *k, int64_t b, int64_t e) {
    ck256_max_planes(g, x, y, k, b, e, 1, g->window_width, 1);
}
static CK_AVX2 void ck256_max_s1_v(const ck_pool2d_geometry *g, const float *x, float *y, int32_t *k, int64_t b, int64_t e) {
    ck256_max_planes(g, x, y, k, b, e, 1, g->window_width, 0);
}
static CK_AVX2 void ck256_max_sn_i(const ck_pool2d_geometry *g, const float *x, float *y, int32_t *k, int64_t b, int64_t e) {
    ck256_max_planes(g, x, y, k, b, e, 0, g->window_width, 1);
}
static CK_AVX2 void ck256_max_sn_v(const ck_pool2d_geometry *g, const float *x, float *y, int32_t *k, int64_t b, int64_t e) {
    ck256_max_planes(g, x, y, k, b, e, 0, g->window_width, 0);
}

CK_AVX2 void ck_maxpool2d_forward_avx2(const ck_pool2d_geometry *g, const float *input, float *output,
                                       int32_t *indices, int64_t plane_begin, int64_t plane_end) {
    const int i = indices != 0;
    const int64_t S = g->stride_width, KW = g->window_width;
    if (S == 2 && KW == 3) (i ? ck256_max_s2_k3_i : ck256_max_s2_k3_v)(g, input, output, indices, plane_begin, plane_end);
    else if (S == 2 && KW == 2) (i ? ck256_max_s2_k2_i : ck256_max_s2_k2_v)(g, input, output, indices, plane_begin, plane_end);
    else if (S == 2) (i ? ck256_max_s2_i : ck256_max_s2_v)(g, input, output, indices, plane_begin, plane_end);
    else if (S == 1) (i ? ck256_max_s1_i : ck256_max_s1_v)(g, input, output, indices, plane_begin, plane_end);
    else (i ? ck256_max_sn_i : ck256_max_sn_v)(g, input, output, indices, plane_begin, plane_end);
}

#else
// Not x86: ck_cpu_level() is 0, so this is never called; it exists for the linker.
void ck_maxpool2d_forward_avx2(const ck_pool2d_geometry *g, const float *input, float *output,
                               int32_t *indices, int64_t plane_begin, int64_t plane_end) {
    (void)g; (void)input; (void)output; (void)indices; (void)plane_begin; (void)plane_end;
    __builtin_trap();
}
#endif
