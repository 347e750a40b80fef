// Shared, ISA-independent pieces of the depthwise kernels (ck_dwconv*.c): scratch layout.
// Internal header.
#ifndef CONVKIT_CK_DWCONV_INTERNAL_H
#define CONVKIT_CK_DWCONV_INTERNAL_H

#include "include/ck_dwconv.h"

/// Lanes of the widest vector (row buffers are sized for it at every level).
#define CK_DW_LANES 16
/// Most ring slots, taps per (row, phase) and filter taps the kernels handle.
#define CK_DW_MAX_SLOTS 64
#define CK_DW_MAX_TAPS 256
#define CK_DW_MAX_KERNEL 64
#define CK_DW_MAX_STEP 16
/// Most output rows per pass (ck_dw_rows_per_pass).
#define CK_DW_MAX_ROWS 4

static inline int64_t ck_dw_round(int64_t n) { return (n + CK_DW_LANES - 1) / CK_DW_LANES * CK_DW_LANES; }

/// Floor division (b > 0).
static inline int64_t ck_dw_floordiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/// Row ring of a correlation (forward, backwardFilter, stride-1 backwardData): `slots` padded rows
/// of `stride_width` phases of `phase` floats, then one zero row, then (stride > 1) one padded line.
typedef struct ck_dw_ring_plan {
    int64_t phase, row, slots, total;
} ck_dw_ring_plan;

/// Output rows per pass of the unrolled correlations (ck_dw_correlate_rows): 3×3 and 5×5 kernels,
/// equal strides 1 or 2, no dilation: 4 rows for 3×3 stride 1, 2 otherwise (enough reuse of each
/// loaded input row; more rows run out of vector registers); 1 for every other shape.
static inline int64_t ck_dw_rows_per_pass(const ck_dw_geometry *g) {
    if (g->kernel_height != g->kernel_width || g->stride_height != g->stride_width || g->dilation_height != 1
        || g->dilation_width != 1 || (g->kernel_height != 3 && g->kernel_height != 5)
        || (g->stride_height != 1 && g->stride_height != 2))
        return 1;
    return g->kernel_height == 3 && g->stride_height == 1 ? 4 : 2;
}

static inline ck_dw_ring_plan ck_dw_ring(const ck_dw_geometry *g) {
    ck_dw_ring_plan p;
    p.phase = ck_dw_round(ck_dw_round(g->output_width) + (g->kernel_width - 1) * g->dilation_width / g->stride_width
                          + CK_DW_LANES);
    p.row = g->stride_width * p.phase;
    // The input rows of one pass of ck_dw_rows_per_pass output rows.
    p.slots = (ck_dw_rows_per_pass(g) - 1) * g->stride_height + (g->kernel_height - 1) * g->dilation_height + 1;
    p.total = (p.slots + 1) * p.row + (g->stride_width > 1 ? p.row : 0);
    return p;
}

/// The stride-1 backwardData as a forward correlation: dy with the flipped filter.
static inline ck_dw_geometry ck_dw_flipped(const ck_dw_geometry *g) {
    ck_dw_geometry f = *g;
    f.input_height = g->output_height;
    f.input_width = g->output_width;
    f.output_height = g->input_height;
    f.output_width = g->input_width;
    f.padding_height = (g->kernel_height - 1) * g->dilation_height - g->padding_height;
    f.padding_width = (g->kernel_width - 1) * g->dilation_width - g->padding_width;
    return f;
}

/// Strided backwardData: rings of padded dy rows (`margin` zeros on the left), one per output
/// channel of the group, a zero row, and (stride > 2) the phase rows before interleaving.
typedef struct ck_dw_phase_plan {
    int64_t margin, row, columns, slots, total;
} ck_dw_phase_plan;

static inline ck_dw_phase_plan ck_dw_phases(const ck_dw_geometry *g, int64_t multiplier) {
    ck_dw_phase_plan p;
    int64_t S = g->stride_width;
    int64_t min_offset = ck_dw_floordiv(g->padding_width - (g->kernel_width - 1) * g->dilation_width, S);
    int64_t max_offset = ck_dw_floordiv(S - 1 + g->padding_width, S);
    p.margin = min_offset < 0 ? -min_offset : 0;
    p.columns = ck_dw_round((g->input_width + S - 1) / S);
    p.row = ck_dw_round(p.margin + p.columns + (max_offset > 0 ? max_offset : 0) + CK_DW_LANES);
    p.slots = (g->kernel_height - 1) * g->dilation_height / g->stride_height + 2;
    p.total = (multiplier * p.slots + 1) * p.row + (S > 2 ? S * p.columns : 0);
    return p;
}

/// Channel-blocked path for small planes (multiplier 1): CK_DW_LANES planes side by side, one per
/// lane (`[rows][columns][lanes]`), the read extent of the input zero-padded, then one output
/// position per vector. Scratch: the padded input block and the output (or dy) block.
typedef struct ck_dw_block_plan {
    int64_t rows, columns, total;
} ck_dw_block_plan;

static inline ck_dw_block_plan ck_dw_block(const ck_dw_geometry *g) {
    ck_dw_block_plan p;
    p.rows = (g->output_height - 1) * g->stride_height + (g->kernel_height - 1) * g->dilation_height + 1;
    p.columns = (g->output_width - 1) * g->stride_width + (g->kernel_width - 1) * g->dilation_width + 1;
    p.total = (p.rows * p.columns + g->output_height * g->output_width) * CK_DW_LANES;
    return p;
}

/// `true` when the channel-blocked path runs: multiplier 1, output rows narrower than two
/// vectors (where row strips waste lanes and pay per-row overhead), and the block fits.
static inline int ck_dw_blocked(const ck_dw_geometry *g, int64_t multiplier) {
    return multiplier == 1 && g->output_width < 2 * CK_DW_LANES && ck_dw_block(g).total <= CK_DW_SCRATCH_FLOATS;
}

#endif /* CONVKIT_CK_DWCONV_INTERNAL_H */
