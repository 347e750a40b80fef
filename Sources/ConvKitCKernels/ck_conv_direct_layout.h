// Internal to ck_conv_direct_*.c: the phase-plane layout shared by the ISA versions (see
// include/ck_conv_direct.h for the math). Portable C, no intrinsics.
#ifndef CONVKIT_CK_CONV_DIRECT_LAYOUT_H
#define CONVKIT_CK_CONV_DIRECT_LAYOUT_H

#include "ck_conv_direct.h"

/// Outputs of a flat block in the forward kernel (3 vectors of 16); Qpad is a multiple of it.
#define CK_DIRECT_BLOCK 48
/// Largest output-channel block of the forward kernel (accumulators: 8 x 3 zmm).
#define CK_DIRECT_FWD_OB 8
/// Images whose prepared planes backwardFilter keeps at once (accumulators stay in registers).
#define CK_DIRECT_BWD_IMAGES 8

typedef struct ck_direct_layout {
    int64_t copy;       // 1: the input is rearranged into phase planes (padding or stride > 1)
    int64_t hs, ws;     // sub-plane height and width (row pitch of the flat index q)
    int64_t plane;      // floats per channel of the (prepared) input
    int64_t q;          // flat outputs: (OH - 1)·ws + OW
    int64_t qpad;       // q rounded up to CK_DIRECT_BLOCK
    int64_t taps;       // KH·KW
} ck_direct_layout;

static inline ck_direct_layout ck_direct_layout_of(const ck_conv_shape *s) {
    ck_direct_layout l;
    l.copy = s->padding_height != 0 || s->padding_width != 0 || s->stride_height != 1 || s->stride_width != 1;
    if (l.copy) {
        int64_t hp = s->height + 2 * s->padding_height, wp = s->width + 2 * s->padding_width;
        l.hs = (hp + s->stride_height - 1) / s->stride_height;
        l.ws = (wp + s->stride_width - 1) / s->stride_width;
        l.plane = s->stride_height * s->stride_width * l.hs * l.ws;
    } else {
        l.hs = s->height;
        l.ws = s->width;
        l.plane = s->height * s->width;
    }
    l.q = (s->out_height - 1) * l.ws + s->out_width;
    l.qpad = (l.q + CK_DIRECT_BLOCK - 1) / CK_DIRECT_BLOCK * CK_DIRECT_BLOCK;
    l.taps = s->kernel_height * s->kernel_width;
    return l;
}

/// offsets[u·KW + v] = flat offset of tap (u, v) within a channel of the prepared input.
static inline void ck_direct_tap_offsets(const ck_conv_shape *s, const ck_direct_layout *l, int64_t *offsets) {
    for (int64_t u = 0; u < s->kernel_height; u++) {
        int64_t dy = u * s->dilation_height;
        for (int64_t v = 0; v < s->kernel_width; v++) {
            int64_t dx = v * s->dilation_width;
            int64_t sub = (dy % s->stride_height) * s->stride_width + dx % s->stride_width;
            offsets[u * s->kernel_width + v] = sub * l->hs * l->ws + (dy / s->stride_height) * l->ws
                + dx / s->stride_width;
        }
    }
}

/// Rearranges one image [C][H][W] into C channels of SH·SW zero-padded phase planes (`l->plane` floats each).
static inline void ck_direct_prepare(const ck_conv_shape *s, const ck_direct_layout *l, const float *x, float *out) {
    const int64_t H = s->height, W = s->width, SH = s->stride_height, SW = s->stride_width;
    for (int64_t c = 0; c < s->channels; c++) {
        const float *xc = x + c * H * W;
        for (int64_t a = 0; a < SH; a++) {
            for (int64_t b = 0; b < SW; b++) {
                float *sub = out + c * l->plane + (a * SW + b) * l->hs * l->ws;
                for (int64_t r = 0; r < l->hs; r++) {
                    int64_t row = r * SH + a - s->padding_height;
                    float *dst = sub + r * l->ws;
                    if (row < 0 || row >= H) {
                        for (int64_t t = 0; t < l->ws; t++) dst[t] = 0;
                        continue;
                    }
                    for (int64_t t = 0; t < l->ws; t++) {
                        int64_t col = t * SW + b - s->padding_width;
                        dst[t] = (col >= 0 && col < W) ? xc[row * W + col] : 0.0f;
                    }
                }
            }
        }
    }
}

/// 1 when the forward kernel vectorises over output channels, 0 when over flat positions q:
/// whichever wastes fewer lanes (O / (16·⌈O/16⌉) against OH·OW / (16·⌈Q/16⌉)); ties go to channels.
static inline int ck_direct_forward_by_channels(const ck_conv_shape *s, const ck_direct_layout *l) {
    int64_t oblocks = (s->out_channels + 15) / 16, vectors = (l->q + 15) / 16;
    return s->out_channels * vectors >= s->out_height * s->out_width * oblocks;
}

/// Largest kernel width / rows per chunk of the channel-vectorised backwardFilter kernel.
#define CK_DIRECT_BWD_KW 11
#define CK_DIRECT_BWD_ROWS 8
/// Accumulators per channel block when the channel-vectorised backwardFilter kernel takes two blocks at once.
#define CK_DIRECT_BWD_PAIR_ACC 12

/// 1 when backwardFilter vectorises over output channels: KW <= 11 and fewer wasted lanes than
/// the flat-position kernel (as for the forward choice).
static inline int ck_direct_filter_by_channels(const ck_conv_shape *s, const ck_direct_layout *l) {
    return s->kernel_width <= CK_DIRECT_BWD_KW && ck_direct_forward_by_channels(s, l);
}

/// Images whose prepared planes backwardFilter keeps at once, given the floats per image: up to
/// CK_DIRECT_BWD_IMAGES, within 1 MiB (at least one image).
static inline int64_t ck_direct_bwd_images(int64_t perImage) {
    int64_t n = (1 << 18) / (perImage > 0 ? perImage : 1);
    return n < 1 ? 1 : (n > CK_DIRECT_BWD_IMAGES ? CK_DIRECT_BWD_IMAGES : n);
}

/// Output channels per block so that `count` channels split into equal blocks of at most `most`.
static inline int64_t ck_direct_block(int64_t count, int64_t most) {
    int64_t blocks = (count + most - 1) / most;
    return (count + blocks - 1) / blocks;
}

#endif /* CONVKIT_CK_CONV_DIRECT_LAYOUT_H */
