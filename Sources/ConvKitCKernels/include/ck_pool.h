#ifndef CONVKIT_CK_POOL_H
#define CONVKIT_CK_POOL_H

// 2-D pooling forward kernels (max with or without winner indices, average) for AVX-512, and
// max pooling for AVX2, on NCHW float planes.
// Single-threaded over a range of planes: the caller (Swift, `parallelFor` over the `[n, c]`
// planes) splits the work.
//
// Layout: `input` is `[planes][input_height][input_width]`, `output` (and `indices`) are
// `[planes][output_height][output_width]`, all dense; the functions work on planes
// `plane_begin ..< plane_end` and **overwrite** those planes of `output` (and `indices`).
// The geometry must be valid as checked by Swift's `Pool2DGeometry` (padding < window, every
// window holds at least one input element, `input_height · input_width <= INT32_MAX`).
//
// Max pooling (same rules, bit for bit, as ConvKit's naive Swift reference):
//
//     output[p,i,j]  = max over the valid taps (u, v) of input[p, i·SH − PH + u, j·SW − PW + v]
//     indices[p,i,j] = (i·SH − PH + u*)·input_width + (j·SW − PW + v*)     (flat within the plane)
//
// - padded positions never win (they are skipped, not treated as a value);
// - ties: the first maximum in row-major window order (u, then v) wins;
// - NaN: the first NaN in row-major window order wins (value NaN, its index), i.e. a tap
//   replaces the running best when `!(value <= best) && best == best`.
// Computed separably, per block of 16 output columns walking down the plane: per input row,
// the maximum of each window's columns with its column (the first one on ties); then, per output
// row, the maximum of those row results over the window's rows (the first row on ties). With
// the rule above this selects exactly the first maximum (or first NaN) in row-major order. The
// last row of a window is reused by the next output row (3x3 stride 2 computes each input row
// once). Planes whose taps hold no NaN use `vmaxps` plus an equality search for the index;
// the others are redone tap by tap with the rule above.
//
// Average pooling: the sum of the valid taps in row-major order starting from +0.0f, then one
// IEEE division by d (d = window_height · window_width when count_padding, else the number of
// valid taps), as the naive reference does, so the results are bit-identical to it.

#include <stddef.h>
#include <stdint.h>

/// The shape of one pooling layer (per plane). All values as in Swift's `Pool2DGeometry`.
typedef struct ck_pool2d_geometry {
    int64_t input_height, input_width;
    int64_t output_height, output_width;
    int64_t window_height, window_width;
    int64_t stride_height, stride_width;
    int64_t padding_height, padding_width;
} ck_pool2d_geometry;

/// Max pooling forward over planes `plane_begin ..< plane_end`, AVX-512 (F/BW/DQ/VL).
/// `indices` may be NULL: then only the maxima are written (inference). No workspace.
/// Call only when `ck_cpu_level() >= 2`.
void ck_maxpool2d_forward_avx512(const ck_pool2d_geometry *g, const float *input, float *output,
                                 int32_t *indices, int64_t plane_begin, int64_t plane_end);

/// The same with AVX2 (8 lanes; the general loop only, no 3x3/2 straight-line path). Call only
/// when `ck_cpu_level() >= 1`.
void ck_maxpool2d_forward_avx2(const ck_pool2d_geometry *g, const float *input, float *output,
                               int32_t *indices, int64_t plane_begin, int64_t plane_end);

/// Average pooling forward over planes `plane_begin ..< plane_end`, AVX-512; `count_padding`
/// nonzero counts padded taps in the divisor. No workspace. Call only when `ck_cpu_level() >= 2`.
void ck_avgpool2d_forward_avx512(const ck_pool2d_geometry *g, int count_padding, const float *input,
                                 float *output, int64_t plane_begin, int64_t plane_end);

#endif /* CONVKIT_CK_POOL_H */
