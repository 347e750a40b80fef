// Workspace sizes of the direct convolution kernels (ISA-independent; see ck_conv_direct.h).
#include "ck_conv_direct_layout.h"

static size_t ck_round16(int64_t floats) { return (size_t)((floats + 15) / 16 * 16); }

size_t ck_conv_direct_forward_workspace(const ck_conv_shape *s) {
    ck_direct_layout l = ck_direct_layout_of(s);
    size_t prepared = l.copy ? ck_round16(s->channels * l.plane) : 0;
    if (ck_direct_forward_by_channels(s, &l)) {
        // packed weights [O/16][C][taps][16] | prepared image | tiles [2][OH·OW rounded to 16][16]
        int64_t oblocks = (s->out_channels + 15) / 16, pixels = s->out_height * s->out_width;
        return (size_t)(oblocks * 16 * s->channels * l.taps) + prepared + (size_t)(2 * ((pixels + 15) / 16 * 16 * 16));
    }
    // packed weights [blocks][C][taps][block] | prepared image | tile [8][qpad]
    size_t packed = ck_round16(s->out_channels * s->channels * l.taps);
    return packed + prepared + (size_t)(CK_DIRECT_FWD_OB * l.qpad);
}

size_t ck_conv_direct_backward_filter_workspace(const ck_conv_shape *s) {
    ck_direct_layout l = ck_direct_layout_of(s);
    size_t prepared = l.copy ? ck_round16(s->channels * l.plane) : 0;
    if (ck_direct_filter_by_channels(s, &l)) {
        // sums [O/16][C][taps][16] + [O/16][16] | per image: prepared input, dy transposed [O/16][P16][16]
        int64_t oblocks = (s->out_channels + 15) / 16, p16 = (s->out_height * s->out_width + 15) / 16 * 16;
        size_t sums = (size_t)(oblocks * 16 * (s->channels * l.taps + 1));
        size_t perImage = prepared + (size_t)(oblocks * p16 * 16);
        return sums + (size_t)ck_direct_bwd_images((int64_t)perImage) * perImage;
    }
    // sums [O][C][taps][16] + [O][16] | per image: prepared input, dy' [O][qpad] | lane masks (16 bits per vector)
    size_t sums = (size_t)((s->out_channels * s->channels * l.taps + s->out_channels) * 16);
    size_t perImage = prepared + (size_t)(s->out_channels * l.qpad);
    size_t masks = (size_t)(((l.q + 15) / 16 + 1) / 2);
    return sums + (size_t)ck_direct_bwd_images((int64_t)perImage) * perImage + masks;
}
