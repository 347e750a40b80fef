// The depthwise kernels (include/ck_dwconv.h) written once over a small vector vocabulary that
// ck_dwconv_avx512.c (16 lanes) and ck_dwconv_avx2.c (8 lanes) define before including this
// file, each for its instruction set:
//
//   ck_vec, ck_mask, CK_VL                  vector of CK_VL floats, lane mask
//   CK_DW_INLINE, CK_DW_FN, CK_DW_NAME(f)   attributes (target ISA) and the per-ISA name f_<isa>
//   ck_v_zero() ck_v_set1(x) ck_v_load(p) ck_v_store(p, v) ck_v_fma(a, b, c) = a·b + c
//   ck_v_relu(v) = v < 0 ? 0 : v           ck_v_sum(v): sum of the lanes (fixed order)
//   ck_m_first(n): lanes < n               ck_v_load_m(p, m) (0 elsewhere), ck_v_store_m(p, m, v)
//   ck_v_load_range(src, start, W): lane j = src[start + j] if 0 <= start + j < W, else 0 (reads
//                                        only inside src[0 ..< W])
//   ck_v_even(lo, hi), ck_v_odd(lo, hi)     even / odd elements of the 2·CK_VL floats lo:hi
//   ck_v_zip_lo(a, b), ck_v_zip_hi(a, b)    a0 b0 a1 b1 ... (first and second CK_VL floats)
//
// Internal header: include only from those two files.
#include <stddef.h>
#include <string.h>

#include "ck_dwconv_internal.h"

/// `dst[q·phase + k] = padded[k·S + q]` for `q < S`, `k < phase`, where `padded[t] = src[t − pad]`
/// inside the row (`0 <= t − pad < W`) and 0 elsewhere. `line` holds `S·phase` floats (S > 1).
///
/// Strides 1 and 2 write only the row's own columns (straight loads, a masked load for the tail;
/// stride 2 splits each pair of vectors into its even and odd lanes): `dst` must have been
/// zeroed when its ring was set up and every later call on it must have the same `W`, `pad`, `S`
/// and `phase`, so the padding columns are still zero. Other shapes rewrite the whole row.
CK_DW_INLINE void ck_dw_prepare(const float *src, int64_t W, int64_t pad, int64_t S, int64_t phase, float *dst,
                                float *line) {
    if (S == 1 && pad >= 0 && pad + (W + CK_VL - 1) / CK_VL * CK_VL <= phase) {
        for (int64_t s = 0; s < W; s += CK_VL)
            ck_v_store(dst + pad + s, s + CK_VL <= W ? ck_v_load(src + s) : ck_v_load_m(src + s, ck_m_first(W - s)));
        return;
    }
    if (S == 2 && pad >= 0 && (pad + 1) / 2 + (W + 2 * CK_VL - 1) / (2 * CK_VL) * CK_VL <= phase) {
        // Column s lands at padded position s + pad: phase (s + pad) % 2, element (s + pad) / 2.
        float *even = dst + pad % 2 * phase + pad / 2, *odd = dst + (pad + 1) % 2 * phase + (pad + 1) / 2;
        for (int64_t s = 0; s < W; s += 2 * CK_VL) {
            ck_vec a = s + CK_VL <= W ? ck_v_load(src + s) : ck_v_load_m(src + s, ck_m_first(W - s));
            ck_vec b = s + 2 * CK_VL <= W ? ck_v_load(src + s + CK_VL)
                                          : ck_v_load_m(src + s + CK_VL, ck_m_first(W - s - CK_VL));
            ck_v_store(even + s / 2, ck_v_even(a, b));
            ck_v_store(odd + s / 2, ck_v_odd(a, b));
        }
        return;
    }
    int64_t n = S * phase;
    float *out = S == 1 ? dst : line;
    for (int64_t t = 0; t < n; t += CK_VL) ck_v_store(out + t, ck_v_load_range(src, t - pad, W));
    if (S == 2) {
        for (int64_t k = 0; k < phase; k += CK_VL) {
            ck_vec a = ck_v_load(line + 2 * k), b = ck_v_load(line + 2 * k + CK_VL);
            ck_v_store(dst + k, ck_v_even(a, b));
            ck_v_store(dst + phase + k, ck_v_odd(a, b));
        }
    } else if (S > 2) {
        for (int64_t q = 0; q < S; q++)
            for (int64_t k = 0; k < phase; k++) dst[q * phase + k] = line[k * S + q];
    }
}

/// The prepared row `r` of `plane` (`ring` slot `r % slots`, prepared on first use), or the zero row.
CK_DW_INLINE const float *ck_dw_row(int64_t r, const float *plane, const ck_dw_geometry *g, const ck_dw_ring_plan *p,
                                    float *ring, int64_t *tags, const float *zero, float *line) {
    if (r < 0 || r >= g->input_height) return zero;
    int64_t s = r % p->slots;
    float *slot = ring + s * p->row;
    if (tags[s] != r) {
        ck_dw_prepare(plane + r * g->input_width, g->input_width, g->padding_width, g->stride_width, p->phase, slot,
                      line);
        tags[s] = r;
    }
    return slot;
}

/// One output plane of the correlation `g` (kernel `w`, KH·KW floats): overwrites `out` with
/// `f(b + Σ taps)` (`accumulate == 0`) or adds the taps to it. The shape parameters repeat `g`'s
/// so that constant arguments unroll the tap loops.
CK_DW_INLINE void ck_dw_correlate(const ck_dw_geometry *g, const float *plane, const float *w, float b,
                                  int accumulate, int relu, float *out, float *scratch, const int64_t KH,
                                  const int64_t KW, const int64_t SH, const int64_t SW, const int64_t DH,
                                  const int64_t DW) {
    ck_dw_ring_plan p = ck_dw_ring(g);
    float *ring = scratch, *zero = scratch + p.slots * p.row, *line = zero + p.row;
    memset(ring, 0, (size_t)(p.slots + 1) * (size_t)p.row * sizeof(float));   // ring (see ck_dw_prepare) and zero row
    int64_t tags[CK_DW_MAX_SLOTS];
    for (int64_t s = 0; s < p.slots; s++) tags[s] = -1;
    const int64_t OH = g->output_height, OW = g->output_width, PH = g->padding_height;
    const int64_t full = OW / CK_VL * CK_VL;
    const ck_mask tail = ck_m_first(OW - full);
    const ck_vec bias = ck_v_set1(b);
    for (int64_t i = 0; i < OH; i++) {
        const float *rows[CK_DW_MAX_KERNEL];
        for (int64_t u = 0; u < KH; u++)
            rows[u] = ck_dw_row(i * SH - PH + u * DH, plane, g, &p, ring, tags, zero, line);
        float *o = out + i * OW;
        for (int64_t j = 0; j < full; j += CK_VL) {
            ck_vec acc = accumulate ? ck_v_load(o + j) : bias;
            for (int64_t u = 0; u < KH; u++)
                for (int64_t v = 0; v < KW; v++)
                    acc = ck_v_fma(ck_v_load(rows[u] + (v * DW) % SW * p.phase + (v * DW) / SW + j),
                                   ck_v_set1(w[u * KW + v]), acc);
            ck_v_store(o + j, relu ? ck_v_relu(acc) : acc);
        }
        if (full < OW) {
            ck_vec acc = accumulate ? ck_v_load_m(o + full, tail) : bias;
            for (int64_t u = 0; u < KH; u++)
                for (int64_t v = 0; v < KW; v++)
                    acc = ck_v_fma(ck_v_load(rows[u] + (v * DW) % SW * p.phase + (v * DW) / SW + full),
                                   ck_v_set1(w[u * KW + v]), acc);
            ck_v_store_m(o + full, tail, relu ? ck_v_relu(acc) : acc);
        }
    }
}

/// ck_dw_correlate for undilated kernels, `R` output rows per pass (ck_dw_rows_per_pass): each input
/// row vector is loaded once per pass and feeds every output row of the pass that reads it, so a
/// pass loads `((R − 1)·S + KH)·KW` vectors instead of `R·KH·KW`. Each output element still sums
/// its taps in the order (u, v) of ck_dw_correlate.
CK_DW_INLINE void ck_dw_correlate_rows(const ck_dw_geometry *g, const float *plane, const float *w, float b,
                                       int accumulate, int relu, float *out, float *scratch, const int64_t KH,
                                       const int64_t KW, const int64_t S, const int64_t R) {
    ck_dw_ring_plan p = ck_dw_ring(g);
    float *ring = scratch, *zero = scratch + p.slots * p.row, *line = zero + p.row;
    memset(ring, 0, (size_t)(p.slots + 1) * (size_t)p.row * sizeof(float));   // ring (see ck_dw_prepare) and zero row
    int64_t tags[CK_DW_MAX_SLOTS];
    for (int64_t s = 0; s < p.slots; s++) tags[s] = -1;
    const int64_t OH = g->output_height, OW = g->output_width, PH = g->padding_height;
    const int64_t span = (R - 1) * S + KH;
    const int64_t full = OW / CK_VL * CK_VL;
    const ck_mask tail = ck_m_first(OW - full);
    const ck_vec bias = ck_v_set1(b);
    ck_vec wv[CK_DW_MAX_KERNEL];
    for (int64_t t = 0; t < KH * KW; t++) wv[t] = ck_v_set1(w[t]);
    for (int64_t i = 0; i < OH; i += R) {
        const int64_t rr = OH - i < R ? OH - i : R;
        const float *rows[CK_DW_MAX_KERNEL];
        for (int64_t t = 0; t < span; t++) rows[t] = ck_dw_row(i * S - PH + t, plane, g, &p, ring, tags, zero, line);
        float *o = out + i * OW;
        for (int64_t j = 0; j < OW; j += CK_VL) {
            const int masked = j == full;
            const ck_mask m = ck_m_first(OW - j);
            // Constant trip counts, fully unrolled: the accumulators stay in registers.
            ck_vec acc[CK_DW_MAX_ROWS];
            _Pragma("clang loop unroll(full)") for (int64_t r = 0; r < R; r++) acc[r] = bias;
            if (accumulate) {
                _Pragma("clang loop unroll(full)") for (int64_t r = 0; r < R; r++)
                    if (r < rr) acc[r] = masked ? ck_v_load_m(o + r * OW + j, m) : ck_v_load(o + r * OW + j);
            }
            // Row t feeds output row r through kernel row u = t − r·S; per output row the taps
            // arrive in (u, v) order, as in ck_dw_correlate.
            _Pragma("clang loop unroll(full)") for (int64_t t = 0; t < span; t++)
                _Pragma("clang loop unroll(full)") for (int64_t v = 0; v < KW; v++) {
                    ck_vec x = ck_v_load(rows[t] + v % S * p.phase + v / S + j);
                    _Pragma("clang loop unroll(full)") for (int64_t r = 0; r < R; r++) {
                        const int64_t u = t - r * S;
                        if (u >= 0 && u < KH) acc[r] = ck_v_fma(x, wv[u * KW + v], acc[r]);
                    }
                }
            _Pragma("clang loop unroll(full)") for (int64_t r = 0; r < R; r++) {
                ck_vec y = relu ? ck_v_relu(acc[r]) : acc[r];
                if (r < rr) {
                    if (masked) ck_v_store_m(o + r * OW + j, m, y);
                    else ck_v_store(o + r * OW + j, y);
                }
            }
        }
    }
}

/// ck_dw_correlate with the common shapes unrolled.
static CK_DW_FN void CK_DW_NAME(ck_dw_correlate_any)(const ck_dw_geometry *g, const float *plane, const float *w,
                                                     float b, int accumulate, int relu, float *out, float *scratch) {
    if (g->kernel_height == g->kernel_width && g->stride_height == g->stride_width && g->dilation_height == 1
        && g->dilation_width == 1) {
        int64_t K = g->kernel_height, S = g->stride_height;
        if (K == 3 && S == 1) { ck_dw_correlate_rows(g, plane, w, b, accumulate, relu, out, scratch, 3, 3, 1, 4); return; }
        if (K == 3 && S == 2) { ck_dw_correlate_rows(g, plane, w, b, accumulate, relu, out, scratch, 3, 3, 2, 2); return; }
        if (K == 5 && S == 1) { ck_dw_correlate_rows(g, plane, w, b, accumulate, relu, out, scratch, 5, 5, 1, 2); return; }
        if (K == 5 && S == 2) { ck_dw_correlate_rows(g, plane, w, b, accumulate, relu, out, scratch, 5, 5, 2, 2); return; }
    }
    ck_dw_correlate(g, plane, w, b, accumulate, relu, out, scratch, g->kernel_height, g->kernel_width,
                    g->stride_height, g->stride_width, g->dilation_height, g->dilation_width);
}


/// Transposes the CK_VL x CK_VL tile r (r[i] = row i) in registers: afterwards r[j] holds old
/// column j. log2(CK_VL) rounds of zips (a perfect shuffle of the rows each round).
CK_DW_INLINE void ck_dw_transpose(ck_vec r[CK_VL]) {
    _Pragma("clang loop unroll(full)") for (int round = 1; round < CK_VL; round *= 2) {
        ck_vec t[CK_VL];
        _Pragma("clang loop unroll(full)") for (int i = 0; i < CK_VL / 2; i++) {
            t[2 * i] = ck_v_zip_lo(r[i], r[i + CK_VL / 2]);
            t[2 * i + 1] = ck_v_zip_hi(r[i], r[i + CK_VL / 2]);
        }
        _Pragma("clang loop unroll(full)") for (int i = 0; i < CK_VL; i++) r[i] = t[i];
    }
}

/// Puts `lanes` planes side by side: `block[((y + top)·columns + x + left)·CK_DW_LANES + l] =
/// src[l·stride + y·W + x]` for every y < H and x < W whose position lies inside the
/// `rows` x `columns` block (`top` and `left` may be negative: a flipped geometry crops), l <
/// CK_DW_LANES (0 for l >= lanes). Elements of `block` outside those positions are not written.
CK_DW_INLINE void ck_dw_to_lanes(const float *src, ptrdiff_t stride, int64_t lanes, int64_t H, int64_t W,
                                 int64_t top, int64_t left, int64_t rows, int64_t columns, float *block) {
    const int64_t L = CK_DW_LANES;
    const int64_t ys = top < 0 ? -top : 0, ye = H < rows - top ? H : rows - top;
    const int64_t xs = left < 0 ? -left : 0, xe = W < columns - left ? W : columns - left;
    for (int64_t y = ys; y < ye; y++) {
        float *row = block + ((y + top) * columns + left) * L;
        for (int64_t l0 = 0; l0 < L; l0 += CK_VL)
            for (int64_t x0 = xs; x0 < xe; x0 += CK_VL) {
                const int64_t n = xe - x0 < CK_VL ? xe - x0 : CK_VL;
                const ck_mask m = ck_m_first(n);
                ck_vec r[CK_VL];
                _Pragma("clang loop unroll(full)") for (int i = 0; i < CK_VL; i++)
                    r[i] = l0 + i < lanes ? ck_v_load_m(src + (l0 + i) * stride + y * W + x0, m) : ck_v_zero();
                ck_dw_transpose(r);
                for (int64_t j = 0; j < n; j++) ck_v_store(row + (x0 + j) * L + l0, r[j]);
            }
    }
}

/// The inverse for a `[count][CK_DW_LANES]` block: `dst[l·stride + q] = block[q·CK_DW_LANES + l]`
/// for q < count and l < lanes.
CK_DW_INLINE void ck_dw_from_lanes(const float *block, int64_t count, int64_t lanes, float *dst, ptrdiff_t stride) {
    const int64_t L = CK_DW_LANES;
    for (int64_t l0 = 0; l0 < lanes; l0 += CK_VL)
        for (int64_t q0 = 0; q0 < count; q0 += CK_VL) {
            const int64_t n = count - q0 < CK_VL ? count - q0 : CK_VL;
            const ck_mask m = ck_m_first(n);
            ck_vec r[CK_VL];
            _Pragma("clang loop unroll(full)") for (int j = 0; j < CK_VL; j++)
                r[j] = j < n ? ck_v_load(block + (q0 + j) * L + l0) : ck_v_zero();
            ck_dw_transpose(r);
            for (int64_t i = 0; i < CK_VL && l0 + i < lanes; i++) ck_v_store_m(dst + (l0 + i) * stride + q0, m, r[i]);
        }
}

/// Channel-blocked correlation (see ck_dw_block): `lanes` planes `in + l·in_stride` into
/// `out + l·out_stride`, weights `wt[t·CK_DW_LANES + l]`, bias `bias[l]`. Lane l's arithmetic
/// is that of plane l alone, whatever the other lanes hold.
CK_DW_INLINE void ck_dw_block_correlate(const ck_dw_geometry *g, const float *in, ptrdiff_t in_stride, int64_t lanes,
                                        const float *wt, const float *bias, int relu, float *out,
                                        ptrdiff_t out_stride, float *scratch, const int64_t KH, const int64_t KW,
                                        const int64_t SH, const int64_t SW, const int64_t DH, const int64_t DW) {
    ck_dw_block_plan p = ck_dw_block(g);
    const int64_t L = CK_DW_LANES, H = g->input_height, W = g->input_width, OH = g->output_height,
                  OW = g->output_width, PH = g->padding_height, PW = g->padding_width;
    float *xt = scratch, *yt = scratch + p.rows * p.columns * L;
    for (int64_t t = 0; t < p.rows * p.columns * L; t += CK_VL) ck_v_store(xt + t, ck_v_zero());
    ck_dw_to_lanes(in, in_stride, lanes, H, W, PH, PW, p.rows, p.columns, xt);
    for (int64_t h = 0; h < L; h += CK_VL) {
        for (int64_t i = 0; i < OH; i++)
            for (int64_t j = 0; j < OW; j++) {
                ck_vec acc = ck_v_load(bias + h);
                const float *x0 = xt + ((i * SH) * p.columns + j * SW) * L + h;
                for (int64_t u = 0; u < KH; u++)
                    for (int64_t v = 0; v < KW; v++)
                        acc = ck_v_fma(ck_v_load(x0 + (u * DH * p.columns + v * DW) * L), ck_v_load(wt + (u * KW + v) * L + h),
                                       acc);
                ck_v_store(yt + (i * OW + j) * L + h, relu ? ck_v_relu(acc) : acc);
            }
    }
    ck_dw_from_lanes(yt, OH * OW, lanes, out, out_stride);
}

static CK_DW_FN void CK_DW_NAME(ck_dw_block_correlate_any)(const ck_dw_geometry *g, const float *in, ptrdiff_t in_stride,
                                                           int64_t lanes, const float *wt, const float *bias, int relu,
                                                           float *out, ptrdiff_t out_stride, float *scratch) {
    if (g->kernel_height == g->kernel_width && g->stride_height == g->stride_width && g->dilation_height == 1
        && g->dilation_width == 1) {
        int64_t K = g->kernel_height, S = g->stride_height;
        if (K == 3 && S == 1) { ck_dw_block_correlate(g, in, in_stride, lanes, wt, bias, relu, out, out_stride, scratch, 3, 3, 1, 1, 1, 1); return; }
        if (K == 3 && S == 2) { ck_dw_block_correlate(g, in, in_stride, lanes, wt, bias, relu, out, out_stride, scratch, 3, 3, 2, 2, 1, 1); return; }
        if (K == 5 && S == 1) { ck_dw_block_correlate(g, in, in_stride, lanes, wt, bias, relu, out, out_stride, scratch, 5, 5, 1, 1, 1, 1); return; }
        if (K == 5 && S == 2) { ck_dw_block_correlate(g, in, in_stride, lanes, wt, bias, relu, out, out_stride, scratch, 5, 5, 2, 2, 1, 1); return; }
    }
    ck_dw_block_correlate(g, in, in_stride, lanes, wt, bias, relu, out, out_stride, scratch, g->kernel_height,
                          g->kernel_width, g->stride_height, g->stride_width, g->dilation_height, g->dilation_width);
}

/// Channel-blocked forward (or flipped backwardData) of planes p0 ..< p1, multiplier 1: plane p
/// reads input plane p and filter `(p % channels)`, reversed when `flip`.
static CK_DW_FN void CK_DW_NAME(ck_dw_block_planes)(const ck_dw_geometry *g, const float *input, const float *filter,
                                                    const float *bias, int relu, int flip, float *output,
                                                    int64_t channels, int64_t p0, int64_t p1, float *scratch) {
    const int64_t L = CK_DW_LANES, KK = g->kernel_height * g->kernel_width;
    const int64_t in_plane = g->input_height * g->input_width, out_plane = g->output_height * g->output_width;
    float wt[CK_DW_MAX_KERNEL * CK_DW_LANES] __attribute__((aligned(64)));
    float bt[CK_DW_LANES] __attribute__((aligned(64)));
    for (int64_t p = p0; p < p1; p += L) {
        int64_t lanes = p1 - p < L ? p1 - p : L;
        for (int64_t l = 0; l < L; l++) {
            int64_t o = (p + (l < lanes ? l : 0)) % channels;
            bt[l] = bias ? bias[o] : 0.0f;
            for (int64_t t = 0; t < KK; t++) wt[t * L + l] = filter[o * KK + (flip ? KK - 1 - t : t)];
        }
        CK_DW_NAME(ck_dw_block_correlate_any)(g, input + p * in_plane, in_plane, lanes, wt, bt, relu,
                                              output + p * out_plane, out_plane, scratch);
    }
}

CK_DW_FN void CK_DW_NAME(ck_dw_forward)(const ck_dw_geometry *g, const float *input, const float *filter,
                                        const float *bias, int relu, float *output, int64_t channels_out,
                                        int64_t multiplier, int64_t p0, int64_t p1) {
    float scratch[CK_DW_SCRATCH_FLOATS] __attribute__((aligned(64)));
    const int64_t C = channels_out / multiplier, KK = g->kernel_height * g->kernel_width;
    const int64_t in_plane = g->input_height * g->input_width, out_plane = g->output_height * g->output_width;
    if (ck_dw_blocked(g, multiplier)) {
        CK_DW_NAME(ck_dw_block_planes)(g, input, filter, bias, relu, 0, output, channels_out, p0, p1, scratch);
        return;
    }
    for (int64_t p = p0; p < p1; p++) {
        int64_t n = p / channels_out, o = p % channels_out, c = o / multiplier;
        CK_DW_NAME(ck_dw_correlate_any)(g, input + (n * C + c) * in_plane, filter + o * KK, bias ? bias[o] : 0.0f, 0,
                                        relu, output + p * out_plane, scratch);
    }
}

/// Strided backwardData of one input-gradient plane: per row y and column phase q (x = q + S·m),
/// the taps (u, v) with `y + P − u·D ≡ 0` and `q + P − v·D ≡ 0 (mod S)` of the `multiplier`
/// output channels `dy`, `dy + OH·OW`, ..., each a contiguous load from a padded dy row.
/// The shape parameters repeat `g`'s so that constant arguments turn the phase arithmetic (divisions
/// by the strides) into shifts.
CK_DW_INLINE void ck_dw_backward_phases_shape(const ck_dw_geometry *g, const float *dy, const float *w,
                                              int64_t multiplier, float *dx, float *scratch, const int64_t KH,
                                              const int64_t KW, const int64_t SH, const int64_t SW,
                                              const int64_t DH, const int64_t DW) {
    ck_dw_phase_plan p = ck_dw_phases(g, multiplier);
    float *ring = scratch, *zero = scratch + multiplier * p.slots * p.row, *temp = zero + p.row;
    (void)zero;
    memset(ring, 0, (size_t)(multiplier * p.slots) * (size_t)p.row * sizeof(float));   // see ck_dw_prepare
    int64_t tags[CK_DW_MAX_SLOTS];
    for (int64_t s = 0; s < multiplier * p.slots; s++) tags[s] = -1;
    const int64_t H = g->input_height, W = g->input_width, OH = g->output_height, OW = g->output_width;
    const int64_t PH = g->padding_height, PW = g->padding_width;
    for (int64_t y = 0; y < H; y++) {
        const float *rows[CK_DW_MAX_TAPS];
        const float *row_w[CK_DW_MAX_TAPS];
        int64_t nr = 0;
        for (int64_t k = 0; k < multiplier; k++) {
            for (int64_t u = 0; u < KH; u++) {
                int64_t a = y + PH - u * DH;
                if (a < 0 || a % SH != 0 || a / SH >= OH) continue;
                int64_t i = a / SH, s = k * p.slots + i % p.slots;
                float *slot = ring + s * p.row;
                if (tags[s] != i) {
                    ck_dw_prepare(dy + k * OH * OW + i * OW, OW, p.margin, 1, p.row, slot, NULL);
                    tags[s] = i;
                }
                rows[nr] = slot + p.margin;
                row_w[nr] = w + k * KH * KW + u * KW;
                nr++;
            }
        }
        float *out = dx + y * W;
        const int64_t phases = SW < W ? SW : W;   // phases q >= W hold no column
        const float *tp[2][CK_DW_MAX_TAPS];
        float tw[2][CK_DW_MAX_TAPS];
        int64_t nt[2] = {0, 0};
        for (int64_t q = 0; q < phases; q++) {
            int64_t slot = SW == 2 ? q : 0;
            nt[slot] = 0;
            for (int64_t r = 0; r < nr; r++) {
                for (int64_t v = 0; v < KW; v++) {
                    int64_t b = q + PW - v * DW;
                    if (ck_dw_floordiv(b, SW) * SW != b) continue;
                    tp[slot][nt[slot]] = rows[r] + ck_dw_floordiv(b, SW);
                    tw[slot][nt[slot]] = row_w[r][v];
                    nt[slot]++;
                }
            }
            if (SW == 2) continue;
            // One phase at a time: straight into the row (S = 1) or into `temp` (S > 2).
            int64_t count = (W - q + SW - 1) / SW;
            float *dst = SW == 1 ? out : temp + q * p.columns;
            for (int64_t m = 0; m < count; m += CK_VL) {
                ck_vec acc = ck_v_zero();
                for (int64_t t = 0; t < nt[0]; t++) acc = ck_v_fma(ck_v_load(tp[0][t] + m), ck_v_set1(tw[0][t]), acc);
                if (SW == 1 && m + CK_VL > count) ck_v_store_m(dst + m, ck_m_first(count - m), acc);
                else ck_v_store(dst + m, acc);
            }
        }
        if (SW == 2) {
            for (int64_t m = 0; 2 * m < W; m += CK_VL) {
                ck_vec a0 = ck_v_zero(), a1 = ck_v_zero();
                for (int64_t t = 0; t < nt[0]; t++) a0 = ck_v_fma(ck_v_load(tp[0][t] + m), ck_v_set1(tw[0][t]), a0);
                for (int64_t t = 0; t < nt[1]; t++) a1 = ck_v_fma(ck_v_load(tp[1][t] + m), ck_v_set1(tw[1][t]), a1);
                ck_vec lo = ck_v_zip_lo(a0, a1), hi = ck_v_zip_hi(a0, a1);
                int64_t left = W - 2 * m;
                if (left >= 2 * CK_VL) {
                    ck_v_store(out + 2 * m, lo);
                    ck_v_store(out + 2 * m + CK_VL, hi);
                } else {
                    ck_v_store_m(out + 2 * m, ck_m_first(left), lo);
                    if (left > CK_VL) ck_v_store_m(out + 2 * m + CK_VL, ck_m_first(left - CK_VL), hi);
                }
            }
        } else if (SW > 2) {
            for (int64_t q = 0; q < phases; q++)
                for (int64_t m = 0; q + m * SW < W; m++) out[q + m * SW] = temp[q * p.columns + m];
        }
    }
}

static CK_DW_FN void CK_DW_NAME(ck_dw_backward_phases)(const ck_dw_geometry *g, const float *dy, const float *w,
                                                       int64_t multiplier, float *dx, float *scratch) {
    if (g->kernel_height == g->kernel_width && g->stride_height == g->stride_width && g->dilation_height == 1
        && g->dilation_width == 1) {
        int64_t K = g->kernel_height, S = g->stride_height;
        if (K == 3 && S == 2) { ck_dw_backward_phases_shape(g, dy, w, multiplier, dx, scratch, 3, 3, 2, 2, 1, 1); return; }
        if (K == 5 && S == 2) { ck_dw_backward_phases_shape(g, dy, w, multiplier, dx, scratch, 5, 5, 2, 2, 1, 1); return; }
    }
    ck_dw_backward_phases_shape(g, dy, w, multiplier, dx, scratch, g->kernel_height, g->kernel_width,
                                g->stride_height, g->stride_width, g->dilation_height, g->dilation_width);
}

CK_DW_FN void CK_DW_NAME(ck_dw_backward_data)(const ck_dw_geometry *g, const float *output_gradient,
                                              const float *filter, float *input_gradient, int64_t channels_in,
                                              int64_t multiplier, int64_t p0, int64_t p1) {
    float scratch[CK_DW_SCRATCH_FLOATS] __attribute__((aligned(64)));
    const int64_t O = channels_in * multiplier, KK = g->kernel_height * g->kernel_width;
    const int64_t in_plane = g->input_height * g->input_width, out_plane = g->output_height * g->output_width;
    const int unit = g->stride_height == 1 && g->stride_width == 1;
    const ck_dw_geometry f = ck_dw_flipped(g);
    if (unit && ck_dw_blocked(&f, multiplier)) {
        CK_DW_NAME(ck_dw_block_planes)(&f, output_gradient, filter, NULL, 0, 1, input_gradient, channels_in, p0, p1,
                                       scratch);
        return;
    }
    for (int64_t p = p0; p < p1; p++) {
        int64_t n = p / channels_in, c = p % channels_in;
        const float *dy = output_gradient + (n * O + c * multiplier) * out_plane;
        const float *w = filter + c * multiplier * KK;
        if (!unit) {
            CK_DW_NAME(ck_dw_backward_phases)(g, dy, w, multiplier, input_gradient + p * in_plane, scratch);
            continue;
        }
        for (int64_t k = 0; k < multiplier; k++) {
            float flipped[CK_DW_MAX_KERNEL];
            for (int64_t t = 0; t < KK; t++) flipped[t] = w[k * KK + KK - 1 - t];
            CK_DW_NAME(ck_dw_correlate_any)(&f, dy + k * out_plane, flipped, 0.0f, k > 0, 0,
                                            input_gradient + p * in_plane, scratch);
        }
    }
}

/// Filter gradient of one output channel over all images: KH·KW vector accumulators.
// The generic shapes (runtime KH, KW) cannot unroll the tap loops; the constant ones do.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpass-failed"
/// `Rc` output rows i ..< i + Rc of one image into the KH·KW accumulators: each loaded input row
/// vector feeds every (row, tap) pair that reads it. Input row t of the pass is `i·SH − PH + t`
/// (`Rc` > 1 only without dilation) or, for one row, `i·SH − PH + u·DH`.
CK_DW_INLINE void ck_dw_filter_rows(const ck_dw_geometry *g, const float *plane, const float *grad, int64_t i,
                                    ck_vec *acc, const ck_dw_ring_plan *p, float *ring, int64_t *tags,
                                    const float *zero, float *line, const int64_t KH, const int64_t KW,
                                    const int64_t SH, const int64_t SW, const int64_t DH, const int64_t DW,
                                    const int64_t Rc) {
    const int64_t OW = g->output_width, PH = g->padding_height;
    const int64_t full = OW / CK_VL * CK_VL;
    const ck_mask tail = ck_m_first(OW - full);
    const int64_t span = Rc == 1 ? KH : (Rc - 1) * SH + KH;
    const float *rows[CK_DW_MAX_KERNEL];
    for (int64_t t = 0; t < span; t++)
        rows[t] = ck_dw_row(i * SH - PH + (Rc == 1 ? t * DH : t), plane, g, p, ring, tags, zero, line);
    const float *d = grad + i * OW;
    for (int64_t j = 0; j < OW; j += CK_VL) {
        // Masked on both sides in the tail: lanes past the row contribute exactly 0, even next to an infinity.
        const int masked = j == full;
        ck_vec dv[CK_DW_MAX_ROWS];
        _Pragma("clang loop unroll(full)") for (int64_t r = 0; r < Rc; r++)
            dv[r] = masked ? ck_v_load_m(d + r * OW + j, tail) : ck_v_load(d + r * OW + j);
        _Pragma("clang loop unroll(full)") for (int64_t t = 0; t < span; t++)
            _Pragma("clang loop unroll(full)") for (int64_t v = 0; v < KW; v++) {
                const float *src = rows[t] + (v * DW) % SW * p->phase + (v * DW) / SW + j;
                ck_vec xv = masked ? ck_v_load_m(src, tail) : ck_v_load(src);
                _Pragma("clang loop unroll(full)") for (int64_t r = 0; r < Rc; r++) {
                    const int64_t u = Rc == 1 ? t : t - r * SH;
                    if (u >= 0 && u < KH) acc[u * KW + v] = ck_v_fma(dv[r], xv, acc[u * KW + v]);
                }
            }
    }
}

#pragma clang diagnostic pop

/// Filter gradient of one output channel over all images: KH·KW vector accumulators, output rows
/// in passes of `R` (ck_dw_rows_per_pass; the last rows of a plane one at a time).
CK_DW_INLINE void ck_dw_filter_channel(const ck_dw_geometry *g, const float *x, ptrdiff_t x_image, const float *dy,
                                       ptrdiff_t dy_image, int64_t batch, float *dw, int accumulate, float *scratch,
                                       const int64_t KH, const int64_t KW, const int64_t SH, const int64_t SW,
                                       const int64_t DH, const int64_t DW, const int64_t R) {
    ck_dw_ring_plan p = ck_dw_ring(g);
    float *ring = scratch, *zero = scratch + p.slots * p.row, *line = zero + p.row;
    memset(ring, 0, (size_t)(p.slots + 1) * (size_t)p.row * sizeof(float));   // ring (see ck_dw_prepare) and zero row
    const int64_t OH = g->output_height;
    ck_vec acc[CK_DW_MAX_KERNEL];
    for (int64_t t = 0; t < KH * KW; t++) acc[t] = ck_v_zero();
    for (int64_t n = 0; n < batch; n++) {
        const float *plane = x + n * x_image, *grad = dy + n * dy_image;
        int64_t tags[CK_DW_MAX_SLOTS];
        for (int64_t s = 0; s < p.slots; s++) tags[s] = -1;
        int64_t i = 0;
        if (R > 1)
            for (; i + R <= OH; i += R)
                ck_dw_filter_rows(g, plane, grad, i, acc, &p, ring, tags, zero, line, KH, KW, SH, SW, DH, DW, R);
        for (; i < OH; i++)
            ck_dw_filter_rows(g, plane, grad, i, acc, &p, ring, tags, zero, line, KH, KW, SH, SW, DH, DW, 1);
    }
    for (int64_t t = 0; t < KH * KW; t++) {
        float s = ck_v_sum(acc[t]);
        dw[t] = accumulate ? dw[t] + s : s;
    }
}

static CK_DW_FN void CK_DW_NAME(ck_dw_filter_channel_any)(const ck_dw_geometry *g, const float *x, ptrdiff_t x_image,
                                                          const float *dy, ptrdiff_t dy_image, int64_t batch,
                                                          float *dw, int accumulate, float *scratch) {
    if (g->kernel_height == g->kernel_width && g->stride_height == g->stride_width && g->dilation_height == 1
        && g->dilation_width == 1) {
        int64_t K = g->kernel_height, S = g->stride_height;
        if (K == 3 && S == 1) { ck_dw_filter_channel(g, x, x_image, dy, dy_image, batch, dw, accumulate, scratch, 3, 3, 1, 1, 1, 1, 4); return; }
        if (K == 3 && S == 2) { ck_dw_filter_channel(g, x, x_image, dy, dy_image, batch, dw, accumulate, scratch, 3, 3, 2, 2, 1, 1, 2); return; }
        if (K == 5 && S == 1) { ck_dw_filter_channel(g, x, x_image, dy, dy_image, batch, dw, accumulate, scratch, 5, 5, 1, 1, 1, 1, 2); return; }
        if (K == 5 && S == 2) { ck_dw_filter_channel(g, x, x_image, dy, dy_image, batch, dw, accumulate, scratch, 5, 5, 2, 2, 1, 1, 2); return; }
    }
    ck_dw_filter_channel(g, x, x_image, dy, dy_image, batch, dw, accumulate, scratch, g->kernel_height,
                         g->kernel_width, g->stride_height, g->stride_width, g->dilation_height, g->dilation_width, 1);
}


/// Channel-blocked filter gradient of output channels o ..< o + lanes (multiplier 1): per image,
/// the padded input block and the dy block, then KH·KW vector accumulators over the positions.
CK_DW_INLINE void ck_dw_block_filter(const ck_dw_geometry *g, const float *x, const float *dy, int64_t batch,
                                     int64_t channels, int64_t o, int64_t lanes, float *dw, int accumulate,
                                     float *scratch, const int64_t KH, const int64_t KW, const int64_t SH,
                                     const int64_t SW, const int64_t DH, const int64_t DW) {
    ck_dw_block_plan p = ck_dw_block(g);
    const int64_t L = CK_DW_LANES, H = g->input_height, W = g->input_width, OH = g->output_height,
                  OW = g->output_width, PH = g->padding_height, PW = g->padding_width;
    const int64_t in_plane = H * W, out_plane = OH * OW;
    float *xt = scratch, *dt = scratch + p.rows * p.columns * L;
    ck_vec acc[CK_DW_MAX_KERNEL * CK_DW_LANES / CK_VL];
    const int64_t H_V = L / CK_VL;
    for (int64_t t = 0; t < KH * KW * H_V; t++) acc[t] = ck_v_zero();
    for (int64_t t = 0; t < p.rows * p.columns * L; t += CK_VL) ck_v_store(xt + t, ck_v_zero());
    for (int64_t t = 0; t < out_plane * L; t += CK_VL) ck_v_store(dt + t, ck_v_zero());
    for (int64_t n = 0; n < batch; n++) {
        const float *in = x + (n * channels + o) * in_plane, *grad = dy + (n * channels + o) * out_plane;
        ck_dw_to_lanes(in, in_plane, lanes, H, W, PH, PW, p.rows, p.columns, xt);
        ck_dw_to_lanes(grad, out_plane, lanes, 1, out_plane, 0, 0, 1, out_plane, dt);
        for (int64_t i = 0; i < OH; i++)
            for (int64_t j = 0; j < OW; j++)
                for (int64_t h = 0; h < H_V; h++) {
                    ck_vec dv = ck_v_load(dt + (i * OW + j) * L + h * CK_VL);
                    const float *x0 = xt + ((i * SH) * p.columns + j * SW) * L + h * CK_VL;
                    for (int64_t u = 0; u < KH; u++)
                        for (int64_t v = 0; v < KW; v++)
                            acc[(u * KW + v) * H_V + h] = ck_v_fma(dv, ck_v_load(x0 + (u * DH * p.columns + v * DW) * L),
                                                                   acc[(u * KW + v) * H_V + h]);
                }
    }
    float lanes_out[CK_DW_LANES] __attribute__((aligned(64)));
    for (int64_t t = 0; t < KH * KW; t++) {
        for (int64_t h = 0; h < H_V; h++) ck_v_store(lanes_out + h * CK_VL, acc[t * H_V + h]);
        for (int64_t l = 0; l < lanes; l++) {
            float s = lanes_out[l];
            float *d = dw + (o + l) * KH * KW + t;
            *d = accumulate ? *d + s : s;
        }
    }
}

static CK_DW_FN void CK_DW_NAME(ck_dw_block_filter_any)(const ck_dw_geometry *g, const float *x, const float *dy,
                                                        int64_t batch, int64_t channels, int64_t o, int64_t lanes,
                                                        float *dw, int accumulate, float *scratch) {
    if (g->kernel_height == g->kernel_width && g->stride_height == g->stride_width && g->dilation_height == 1
        && g->dilation_width == 1) {
        int64_t K = g->kernel_height, S = g->stride_height;
        if (K == 3 && S == 1) { ck_dw_block_filter(g, x, dy, batch, channels, o, lanes, dw, accumulate, scratch, 3, 3, 1, 1, 1, 1); return; }
        if (K == 3 && S == 2) { ck_dw_block_filter(g, x, dy, batch, channels, o, lanes, dw, accumulate, scratch, 3, 3, 2, 2, 1, 1); return; }
        if (K == 5 && S == 1) { ck_dw_block_filter(g, x, dy, batch, channels, o, lanes, dw, accumulate, scratch, 5, 5, 1, 1, 1, 1); return; }
        if (K == 5 && S == 2) { ck_dw_block_filter(g, x, dy, batch, channels, o, lanes, dw, accumulate, scratch, 5, 5, 2, 2, 1, 1); return; }
    }
    ck_dw_block_filter(g, x, dy, batch, channels, o, lanes, dw, accumulate, scratch, g->kernel_height, g->kernel_width,
                       g->stride_height, g->stride_width, g->dilation_height, g->dilation_width);
}

CK_DW_FN void CK_DW_NAME(ck_dw_backward_filter)(const ck_dw_geometry *g, const float *input,
                                                const float *output_gradient, float *filter_gradient, int64_t batch,
                                                int64_t channels_out, int64_t multiplier, int accumulate, int64_t o0,
                                                int64_t o1) {
    float scratch[CK_DW_SCRATCH_FLOATS] __attribute__((aligned(64)));
    const int64_t C = channels_out / multiplier, KK = g->kernel_height * g->kernel_width;
    const int64_t in_plane = g->input_height * g->input_width, out_plane = g->output_height * g->output_width;
    if (ck_dw_blocked(g, multiplier)) {
        for (int64_t o = o0; o < o1; o += CK_DW_LANES) {
            int64_t lanes = o1 - o < CK_DW_LANES ? o1 - o : CK_DW_LANES;
            CK_DW_NAME(ck_dw_block_filter_any)(g, input, output_gradient, batch, channels_out, o, lanes,
                                               filter_gradient, accumulate, scratch);
        }
        return;
    }
    for (int64_t o = o0; o < o1; o++) {
        int64_t c = o / multiplier;
        CK_DW_NAME(ck_dw_filter_channel_any)(g, input + c * in_plane, C * in_plane, output_gradient + o * out_plane,
                                             channels_out * out_plane, batch, filter_gradient + o * KK, accumulate,
                                             scratch);
    }
}
