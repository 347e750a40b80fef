#ifndef CONVKIT_CK_WINOGRAD4_H
#define CONVKIT_CK_WINOGRAD4_H

#include <stddef.h>
#include <stdint.h>

// Winograd F(4x4, 3x3) transforms (Lavin & Gray 2016; points 0, ±1, ±2, ∞), vectorised over 16
// (AVX-512) or 8 (AVX2) horizontally adjacent tiles of one plane (AVX-512: rows of <= 8 tiles put
// 2 or 4 tile rows in a vector). Same math and layout as ConvKitKernels'
// `Winograd4x4` (Winograd4x4Transforms.swift), which documents the matrices:
//
//     V = Bᵀ d B   (input tile d, 6x6)          Y = Aᵀ M A   (4x4 output from 6x6 M)
//     dM = A dY Aᵀ (adjoint of the output transform, 6x6 from a 4x4 output-gradient tile)
//     U = G g Gᵀ   (6x6 from a 3x3 filter)      dw = Gᵀ dU G (3x3 from 6x6)
//
// The C kernels use fused multiply-adds where the Swift code multiplies then adds, so the two
// differ by rounding (within the tests' tolerance), not in the operations' meaning.
//
// Shapes and layout (all counts in floats), as in ck_winograd.h with 4 for 2 and 36 for 16:
// - A plane is `[H, W]` (input) or `[OH, OW]` (output), row-major, one channel of one NCHW image.
// - Tiles of a plane: `TH = ceil(OH/4)` rows of `TW = ceil(OW/4)` tiles; tile (ty, tx) reads input
//   rows 4ty-P .. 4ty-P+5 and columns 4tx-P .. 4tx-P+5 (zero outside the plane) and produces
//   output rows 4ty .. 4ty+3 and columns 4tx .. 4tx+3 (those past OH/OW are dropped).
// - Transformed tiles are position-major: position xi = 6*row + column of the 6x6 tile lives at
//   `out[xi * pos_stride + (ty - ty0) * TW + tx]` for the tile rows ty0 ..< ty1 a call covers.
// - `planes` planes per call: plane p reads `in + p * in_plane_stride` and writes its tiles at
//   `out + p * out_plane_stride`.
//
// Every function OVERWRITES its destination (the tiles or output rows it covers), except
// ck_wino4_filter_grad_avx512 with `accumulate` != 0, which adds; all read only inside the given
// planes (masked loads for edges and tails). Single-threaded; callers split the work.
// Call the _avx512 functions only when ck_cpu_level() >= 2 and the _avx2 ones when >= 1.

/// Input transform V = Bᵀ d B of tile rows ty0 ..< ty1 of `planes` input planes `[H, W]` with
/// padding `P` (0...2).
void ck_wino4_input_avx512(const float *in, ptrdiff_t in_plane_stride, ptrdiff_t planes,
                           ptrdiff_t H, ptrdiff_t W, ptrdiff_t P, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                           float *out, ptrdiff_t out_plane_stride, ptrdiff_t pos_stride);
void ck_wino4_input_avx2(const float *in, ptrdiff_t in_plane_stride, ptrdiff_t planes,
                         ptrdiff_t H, ptrdiff_t W, ptrdiff_t P, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                         float *out, ptrdiff_t out_plane_stride, ptrdiff_t pos_stride);

/// Output transform of tile rows ty0 ..< ty1 for `planes` output planes `[OH, OW]`:
/// `y = act(Aᵀ M A + bias[p])`, reading `m + p * m_plane_stride` (position-major as above) and
/// OVERWRITING output rows 4ty0 ..< min(4ty1, OH) of `y + p * y_plane_stride`. `bias` may be NULL
/// (no bias); `relu` != 0 applies max(0, ·) keeping NaN.
void ck_wino4_output_avx512(const float *m, ptrdiff_t m_plane_stride, ptrdiff_t pos_stride, ptrdiff_t planes,
                            ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                            const float *bias, int relu, float *y, ptrdiff_t y_plane_stride);
void ck_wino4_output_avx2(const float *m, ptrdiff_t m_plane_stride, ptrdiff_t pos_stride, ptrdiff_t planes,
                          ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                          const float *bias, int relu, float *y, ptrdiff_t y_plane_stride);

/// Adjoint output transform dM = A dY Aᵀ of tile rows ty0 ..< ty1 for `planes` output-gradient
/// planes `[OH, OW]` (positions outside the plane count as 0); OVERWRITES the tiles at `out`.
void ck_wino4_output_grad_avx512(const float *dy, ptrdiff_t dy_plane_stride, ptrdiff_t planes,
                                 ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                                 float *out, ptrdiff_t out_plane_stride, ptrdiff_t pos_stride);
void ck_wino4_output_grad_avx2(const float *dy, ptrdiff_t dy_plane_stride, ptrdiff_t planes,
                               ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                               float *out, ptrdiff_t out_plane_stride, ptrdiff_t pos_stride);

/// Filter transform U = G g Gᵀ of the 3x3 filters first ..< end of `filter` (`[count][3][3]`):
/// OVERWRITES `u[xi * count + f]` (u is `[36][count]`). The 16 (8) filters of a vector are gathered.
void ck_wino4_filter_avx512(const float *filter, ptrdiff_t first, ptrdiff_t end, ptrdiff_t count, float *u);
void ck_wino4_filter_avx2(const float *filter, ptrdiff_t first, ptrdiff_t end, ptrdiff_t count, float *u);

/// Filter-gradient transform dw = Gᵀ dU G of the filters first ..< end, where dU is the sum of
/// `parts` partial `[36][count]` arrays `part_stride` floats apart (summed in part order):
/// OVERWRITES `dw[f][3][3]`, or adds to it when `accumulate` != 0.
void ck_wino4_filter_grad_avx512(const float *dU, ptrdiff_t part_stride, ptrdiff_t parts, ptrdiff_t first,
                                 ptrdiff_t end, ptrdiff_t count, float *dw, int accumulate);
void ck_wino4_filter_grad_avx2(const float *dU, ptrdiff_t part_stride, ptrdiff_t parts, ptrdiff_t first,
                               ptrdiff_t end, ptrdiff_t count, float *dw, int accumulate);

#endif /* CONVKIT_CK_WINOGRAD4_H */
