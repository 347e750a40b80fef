#ifndef CONVKIT_CK_DWCONV_H
#define CONVKIT_CK_DWCONV_H

#include <stdint.h>

// Depthwise convolution (NCHW, one input channel per output channel group: output channel o
// reads input channel o / multiplier) on float planes, AVX-512 and AVX2. Row-strip kernels in the
// style of XNNPACK's dwconv2d-chw: each output row is computed in registers from the KH input
// rows it reads (every tap accumulated in a register, each output written once). Input rows are
// first copied, zero-padded, into a small ring of row buffers split into `stride_width` column
// phases (element k of phase q is padded column k·S + q), so every tap is a contiguous,
// unmasked vector load at any stride, padding and dilation. Output rows narrower than 32
// (multiplier 1, e.g. 7x7 and 14x14 planes) instead run 16 planes side by side, one per lane,
// from a zero-padded `[row][column][16]` copy. 3x3 and 5x5 kernels of stride 1 and 2 without
// dilation run fully unrolled code; other shapes run the same loops with runtime bounds.
//
//     forward:         y[n,o,i,j] = f(b[o] + Σ_u Σ_v w[o,u,v] · x[n,c,i·S − P + u·D, j·S − P + v·D])
//     backwardData:    stride 1: the forward correlation of dy with the flipped filter and padding
//                      (K − 1)·D − P; stride > 1: per dx row and column phase, the taps that hit it
//                      (phase decomposition), phases interleaved on store.
//     backwardFilter:  dw[o,u,v] (+)= Σ_n Σ_i Σ_j dy[n,o,i,j] · x[...]: K_h·K_w vector accumulators
//                      per output channel over all its images and rows (in order), reduced at the end.
//
// Work is split by the caller (Swift `parallelFor`) over planes (forward: `n·O + o`;
// backwardData: `n·C + c`) or output channels (backwardFilter); the functions are
// single-threaded, and each output element is computed by one fixed sequence of operations, so
// results do not depend on how the work is split. Scratch lives on the stack:
// `ck_dw_scratch_floats` must be at most `CK_DW_SCRATCH_FLOATS` (else use the portable path).
// Call the _avx512 functions only when ck_cpu_level() >= 2 and the _avx2 ones when >= 1.

/// Stack scratch of one call, in floats (48 KiB).
#define CK_DW_SCRATCH_FLOATS 12288

/// The forward geometry of one plane pair (all values as in Swift's `Conv2DGeometry`).
typedef struct ck_dw_geometry {
    int64_t input_height, input_width, output_height, output_width;
    int64_t kernel_height, kernel_width, stride_height, stride_width;
    int64_t padding_height, padding_width, dilation_height, dilation_width;
} ck_dw_geometry;

/// Floats of stack scratch a call in `direction` (0 forward, 1 backwardData, 2 backwardFilter)
/// needs with channel multiplier `multiplier`; -1 when the shape is outside the kernels' limits.
int64_t ck_dw_scratch_floats(const ck_dw_geometry *g, int direction, int64_t multiplier);

/// Forward over output planes `p0 ..< p1` (`p = n·channels_out + o`); **overwrites** them.
/// `bias` may be NULL; `relu` nonzero applies `z < 0 ? 0 : z` (NaN stays NaN).
void ck_dw_forward_avx512(const ck_dw_geometry *g, const float *input, const float *filter, const float *bias,
                          int relu, float *output, int64_t channels_out, int64_t multiplier, int64_t p0, int64_t p1);
void ck_dw_forward_avx2(const ck_dw_geometry *g, const float *input, const float *filter, const float *bias,
                        int relu, float *output, int64_t channels_out, int64_t multiplier, int64_t p0, int64_t p1);

/// backwardData over input-gradient planes `p0 ..< p1` (`p = n·channels_in + c`); **overwrites** them.
void ck_dw_backward_data_avx512(const ck_dw_geometry *g, const float *output_gradient, const float *filter,
                                float *input_gradient, int64_t channels_in, int64_t multiplier, int64_t p0, int64_t p1);
void ck_dw_backward_data_avx2(const ck_dw_geometry *g, const float *output_gradient, const float *filter,
                              float *input_gradient, int64_t channels_in, int64_t multiplier, int64_t p0, int64_t p1);

/// backwardFilter of output channels `o0 ..< o1` over `batch` images; **overwrites** or, when
/// `accumulate` is nonzero, adds to `filter_gradient[o, :, :]`.
void ck_dw_backward_filter_avx512(const ck_dw_geometry *g, const float *input, const float *output_gradient,
                                  float *filter_gradient, int64_t batch, int64_t channels_out, int64_t multiplier,
                                  int accumulate, int64_t o0, int64_t o1);
void ck_dw_backward_filter_avx2(const ck_dw_geometry *g, const float *input, const float *output_gradient,
                                float *filter_gradient, int64_t batch, int64_t channels_out, int64_t multiplier,
                                int accumulate, int64_t o0, int64_t o1);

#endif /* CONVKIT_CK_DWCONV_H */
