// Workspace sizes of the direct convolution kernels (ISA-independent; see ck_conv_direct.h).
#include "ck_conv_direct_layout.h"

static size_t ck_round16(int64_t floats) { return (size_t)((floats + 15) / 16 * 16); }

size_t ck_conv_direct_forward_workspace(const ck_conv_shape *s) {
    ck_direct_layout l = ck_direct_layout_of(s);
    size_t packed = ck_round16(s->out_channels * s->channels * l.taps);
    size_t prepared = l.copy ? ck_round16(s->channels * l.plane) : 0;
    return packed + prepared + (size_t)(CK_DIRECT_FWD_OB * l.qpad);
}

size_t ck_conv_direct_backward_filter_workspace(const ck_conv_shape *s) {
    ck_direct_layout l = ck_direct_layout_of(s);
    size_t sums = (size_t)(s->out_channels * s->channels * l.taps * 16);
    size_t prepared = l.copy ? ck_round16(s->channels * l.plane) : 0;
    return sums + (size_t)CK_DIRECT_BWD_IMAGES * (prepared + (size_t)(s->out_channels * l.qpad));
}
