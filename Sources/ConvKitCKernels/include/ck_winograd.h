#ifndef CONVKIT_CK_WINOGRAD_H
#define CONVKIT_CK_WINOGRAD_H

#include <stddef.h>
#include <stdint.h>

// Winograd F(2x2, 3x3) tile transforms (Lavin & Gray 2016), vectorised over 16 (AVX-512) or
// 8 (AVX2) horizontally adjacent tiles of one plane. Same math, layout and results as
// ConvKitKernels' `Winograd2x2` (WinogradTransforms.swift), which documents the matrices:
//
//     V = Bᵀ d B   (input tile d, 4x4)        Y = Aᵀ M A   (2x2 output from 4x4 M)
//     dM = A dY Aᵀ (adjoint of the output transform, 4x4 from a 2x2 output-gradient tile)
//
// Shapes and layout (all counts in floats):
// - A plane is `[H, W]` (input) or `[OH, OW]` (output), row-major, one channel of one NCHW image.
// - Tiles of a plane: `TH = ceil(OH/2)` rows of `TW = ceil(OW/2)` tiles; tile (ty, tx) reads input
//   rows 2ty-P .. 2ty-P+3 and columns 2tx-P .. 2tx-P+3 (zero outside the plane) and produces
//   output rows 2ty, 2ty+1 and columns 2tx, 2tx+1 (the halves past an odd OH/OW are dropped).
// - Transformed tiles are position-major: position xi = 4*row + column of the 4x4 tile lives at
//   `out[xi * pos_stride + (ty - ty0) * TW + tx]` for the tile rows ty0 ..< ty1 a call covers.
// - `planes` planes are handled per call: plane p reads `in + p * in_plane_stride` and writes
//   transformed tiles at `out + p * out_plane_stride` (e.g. one channel per plane, with
//   out_plane_stride = the tile count of a channel's row in the GEMM's matrix).
//
// The filter transforms (last two functions) have AVX-512 versions only.
//
// Every function OVERWRITES its destination (the tiles or output rows it covers) and reads only
// inside the given planes (masked loads for edges and tails). Single-threaded; callers split work.
// Call the _avx512 functions only when ck_cpu_level() >= 2 and the _avx2 ones when >= 1.

/// Input transform V = Bᵀ d B of tile rows ty0 ..< ty1 of `planes` input planes `[H, W]` with
/// padding `P` (0...2).
void ck_wino_input_avx512(const float *in, ptrdiff_t in_plane_stride, ptrdiff_t planes,
                          ptrdiff_t H, ptrdiff_t W, ptrdiff_t P, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                          float *out, ptrdiff_t out_plane_stride, ptrdiff_t pos_stride);
void ck_wino_input_avx2(const float *in, ptrdiff_t in_plane_stride, ptrdiff_t planes,
                        ptrdiff_t H, ptrdiff_t W, ptrdiff_t P, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                        float *out, ptrdiff_t out_plane_stride, ptrdiff_t pos_stride);

/// Output transform of tile rows ty0 ..< ty1 for `planes` output planes `[OH, OW]`:
/// `y = act(Aᵀ M A + bias[p])`, reading `m + p * m_plane_stride` (position-major as above) and
/// OVERWRITING output rows 2ty0 ..< min(2ty1, OH) of `y + p * y_plane_stride`. `bias` may be NULL
/// (no bias); `relu` != 0 applies max(0, ·) keeping NaN.
void ck_wino_output_avx512(const float *m, ptrdiff_t m_plane_stride, ptrdiff_t pos_stride, ptrdiff_t planes,
                           ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                           const float *bias, int relu, float *y, ptrdiff_t y_plane_stride);
void ck_wino_output_avx2(const float *m, ptrdiff_t m_plane_stride, ptrdiff_t pos_stride, ptrdiff_t planes,
                         ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                         const float *bias, int relu, float *y, ptrdiff_t y_plane_stride);

/// Adjoint output transform dM = A dY Aᵀ of tile rows ty0 ..< ty1 for `planes` output-gradient
/// planes `[OH, OW]` (positions outside the plane count as 0); OVERWRITES the tiles at `out`.
void ck_wino_output_grad_avx512(const float *dy, ptrdiff_t dy_plane_stride, ptrdiff_t planes,
                                ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                                float *out, ptrdiff_t out_plane_stride, ptrdiff_t pos_stride);
void ck_wino_output_grad_avx2(const float *dy, ptrdiff_t dy_plane_stride, ptrdiff_t planes,
                              ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t TW, ptrdiff_t ty0, ptrdiff_t ty1,
                              float *out, ptrdiff_t out_plane_stride, ptrdiff_t pos_stride);

/// Filter transform U = G g Gᵀ of the 3x3 filters first ..< end of `filter` (`[count][3][3]`):
/// OVERWRITES `u[xi * count + f]` (u is `[16][count]`). The 16 filters of a vector are gathered.
void ck_wino_filter_avx512(const float *filter, ptrdiff_t first, ptrdiff_t end, ptrdiff_t count, float *u);

/// Filter-gradient transform dw = Gᵀ dU G of the filters first ..< end, where dU is the sum of
/// `parts` partial `[16][count]` arrays `part_stride` floats apart (summed in part order):
/// OVERWRITES `dw[f][3][3]`, or adds to it when `accumulate` != 0.
void ck_wino_filter_grad_avx512(const float *dU, ptrdiff_t part_stride, ptrdiff_t parts, ptrdiff_t first,
                                ptrdiff_t end, ptrdiff_t count, float *dw, int accumulate);

#endif /* CONVKIT_CK_WINOGRAD_H */
