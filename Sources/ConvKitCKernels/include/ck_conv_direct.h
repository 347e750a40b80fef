#ifndef CONVKIT_CK_CONV_DIRECT_H
#define CONVKIT_CK_CONV_DIRECT_H

#include <stddef.h>
#include <stdint.h>

// Direct convolution for small-channel layers (LeNet-like): no im2col, no GEMM.
//
// Layouts: input x [N][C][H][W], filter w [O][C][KH][KW], output y [N][O][OH][OW] (NCHW / OIHW,
// row-major, groups == 1), cross-correlation with stride S, zero padding P and dilation D:
//
//     y[n,o,i,j] = f( b[o] + Σ_c Σ_u Σ_v w[o,c,u,v] · x[n, c, i·SH − PH + u·DH, j·SW − PW + v·DW] )
//     dw[o,c,u,v] = Σ_n Σ_i Σ_j dy[n,o,i,j] · x[n, c, i·SH − PH + u·DH, j·SW − PW + v·DW]
//
// How (both directions): each image's channel plane is viewed as SH·SW "phase" sub-planes of
// Hs × Ws floats (Hs = ceil((H + 2PH)/SH), Ws = ceil((W + 2PW)/SW)); sub-plane (a, b) holds the
// zero-padded pixel (r·SH + a, s·SW + b) at (r, s). Then every tap (u, v) of every output pixel
// (i, j) reads sub-plane element (i + ⌊u·DH/SH⌋, j + ⌊v·DW/SW⌋), i.e. flat index q + tap(u, v) with
// q = i·Ws + j: one output row of the "flat" index space q ∈ [0, Q), Q = (OH−1)·Ws + OW, is a
// contiguous run, and the whole plane is one long vector loop (the lanes with j ≥ OW are computed
// and discarded). With stride 1 and no padding the sub-plane is the input itself (no copy).
// Each direction has two AVX-512 kernels and uses the one that wastes fewer lanes:
// - over positions q (16 outputs per zmm; LeNet C1, O = 6): forward broadcasts a weight against
//   an input vector for a block of up to 8 channels × 3 vectors; backwardFilter forms dot products
//   over q of the gradient (re-laid at pitch Ws, zeros past each row) with shifted input vectors,
//   for up to 6 channels × 4 taps (or 5 × 5, 4 × 6), reduced once per worker;
// - over 16 output channels per zmm (LeNet C3, O = 16): forward broadcasts each input pixel
//   against the packed weight vectors of a tap for 32 channels × up to 14 pixels of one row (each
//   broadcast feeds two FMAs; a last odd block of 16 takes 12 pixels × 2 rows, unstrided rows
//   sharing each broadcast), and transposes the [pixel][16] results in 16×16 register blocks into NCHW;
//   backwardFilter (KW <= 11) transposes the gradient to [pixel][16] and adds gradient vector ×
//   broadcast input for two blocks of 16 channels × up to 12 taps at once (one block × up to 25
//   taps for the last block of an odd count).
//
// The functions are single-threaded over a range of images; the caller splits the batch and
// gives each worker its own workspace of the size the *_workspace functions return.

/// Sizes of one convolution (per image). All counts >= 1, groups == 1.
typedef struct ck_conv_shape {
    int64_t channels, height, width;               // C, H, W
    int64_t out_channels, out_height, out_width;   // O, OH, OW
    int64_t kernel_height, kernel_width;           // KH, KW
    int64_t stride_height, stride_width;           // SH, SW
    int64_t padding_height, padding_width;         // PH, PW
    int64_t dilation_height, dilation_width;       // DH, DW
} ck_conv_shape;

/// Floats of workspace one worker of ck_conv_direct_forward_avx512 needs.
size_t ck_conv_direct_forward_workspace(const ck_conv_shape *s);

/// Forward over `images` images: `y` (the first image's output) is **overwritten** with
/// f(bias + conv(x, w)), f = ReLU when `relu` != 0 (NaN stays NaN, −0 stays −0), identity otherwise.
/// `bias` may be NULL (no bias). `x` points at the first image's input. Requires AVX-512.
void ck_conv_direct_forward_avx512(const ck_conv_shape *s, const float *x, const float *w,
                                   const float *bias, int relu, float *y, int64_t images,
                                   float *workspace);

/// Floats of workspace one worker of ck_conv_direct_backward_filter_avx512 needs.
size_t ck_conv_direct_backward_filter_workspace(const ck_conv_shape *s);

/// Filter and bias gradients over `images` images: `dw` ([O][C][KH][KW]) and, unless NULL, `db`
/// ([O]) are **overwritten** with the sums over these images (images in order, each sum in a
/// fixed order: deterministic). `x` and `dy` point at the first image. Requires AVX-512.
void ck_conv_direct_backward_filter_avx512(const ck_conv_shape *s, const float *x, const float *dy,
                                           int64_t images, float *dw, float *db, float *workspace);

#endif /* CONVKIT_CK_CONV_DIRECT_H */
