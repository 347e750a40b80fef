// Shared, ISA-independent pieces of the pooling kernels (ck_pool_*.c). Internal header.
#ifndef CONVKIT_CK_POOL_INTERNAL_H
#define CONVKIT_CK_POOL_INTERNAL_H

#include "include/ck_pool.h"

/// Valid window offsets `lower ..< upper` of output position `o` along one axis, and the input
/// position `start` of offset 0 (negative in the padding).
typedef struct ck_pool_window {
    int64_t start, lower, upper;
} ck_pool_window;

static inline ck_pool_window ck_pool_window_at(int64_t o, int64_t stride, int64_t padding, int64_t window,
                                               int64_t size) {
    ck_pool_window w;
    w.start = o * stride - padding;
    w.lower = w.start < 0 ? -w.start : 0;
    w.upper = size - w.start < window ? size - w.start : window;
    return w;
}

/// The output columns whose whole window lies inside the row: `*lower ..< *upper` (empty when
/// `*lower == *upper`).
static inline void ck_pool_interior_columns(const ck_pool2d_geometry *g, int64_t *lower, int64_t *upper) {
    int64_t S = g->stride_width, P = g->padding_width, OW = g->output_width;
    int64_t lo = P / S + (P % S != 0);  /* ceil(P / S) without overflow for strides near INT64_MAX */
    if (lo > OW) lo = OW;
    int64_t last = g->input_width + P - g->window_width;
    int64_t up = last < 0 ? 0 : last / S + 1;
    if (up > OW) up = OW;
    *lower = lo;
    *upper = lo < up ? up : lo;
}

/// The max-pooling selection rule: a tap replaces the running best when it is larger, or a NaN
/// arriving while the best is a number (ties and later NaNs keep the first).
static inline int ck_pool_takes(float value, float best) {
    return !(value <= best) && best == best;
}

#endif /* CONVKIT_CK_POOL_INTERNAL_H */
