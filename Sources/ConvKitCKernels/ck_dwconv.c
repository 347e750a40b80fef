// Scratch sizing of the depthwise kernels (see include/ck_dwconv.h).
#include "ck_dwconv_internal.h"

int64_t ck_dw_scratch_floats(const ck_dw_geometry *g, int direction, int64_t multiplier) {
    // Modest strides, dilations and paddings only (scratch products stay small; others run portable).
    if (g->kernel_height * g->kernel_width > CK_DW_MAX_KERNEL || multiplier < 1 || g->stride_height > CK_DW_MAX_STEP
        || g->stride_width > CK_DW_MAX_STEP || g->dilation_height > CK_DW_MAX_STEP || g->dilation_width > CK_DW_MAX_STEP
        || g->padding_height > CK_DW_SCRATCH_FLOATS || g->padding_width > CK_DW_SCRATCH_FLOATS
        || g->input_width > CK_DW_SCRATCH_FLOATS || g->output_width > CK_DW_SCRATCH_FLOATS)
        return -1;
    if (direction == 1 && (g->stride_height > 1 || g->stride_width > 1)) {
        ck_dw_phase_plan p = ck_dw_phases(g, multiplier);
        if (multiplier * p.slots > CK_DW_MAX_SLOTS || multiplier * g->kernel_height * g->kernel_width > CK_DW_MAX_TAPS)
            return -1;
        return p.total;
    }
    ck_dw_geometry f = direction == 1 ? ck_dw_flipped(g) : *g;
    ck_dw_ring_plan p = ck_dw_ring(&f);
    if (p.slots > CK_DW_MAX_SLOTS) return -1;
    return p.total;
}
