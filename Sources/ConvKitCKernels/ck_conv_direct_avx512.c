// Direct convolution, AVX-512 version (see include/ck_conv_direct.h for the math and layout).
//
// Forward over positions: per image, per block of OB <= 8 output channels, per 48 flat outputs q
// (3 zmm): acc[j][v] = b[o0+j]; for c, tap t: acc[j][v] += w[o0+j, c, t] · x'[c][q + tap(t)]
// (the input vector is loaded once and reused by the OB channels; weights are broadcast from a
// per-worker copy packed as [block][c][t][j]), then ReLU, into a tile [OB][qpad] whose rows are
// copied out at pitch OW.
// Forward over channels: see ck_forward_channels. backwardFilter over positions: per chunk of
// images (as many as keep one pass in L1, at most 8), per block of OB output channels, channel c
// and chunk of T taps (OB x T = 6x4, 5x5 or 4x6, whichever loads least): acc[j][t] += dy'[j][q] ·
// x'[c][q + tap(t)] over the images' flat outputs (dy' = dy re-laid at pitch ws, zeros at
// j >= OW), added to per-worker vector sums [O][C][KH·KW][16] once per chunk and reduced
// horizontally at the end. backwardFilter over channels: see ck_filter_channels.
#include "ck_isa.h"
#include "ck_conv_direct_layout.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define CK_AVX512 __attribute__((target(CK_TARGET_AVX512)))
#define CK_INLINE static inline __attribute__((always_inline))
/// Fully unrolls a register-block loop (constant trip count after inlining). Without it clang -O2
/// (SwiftPM's release level) keeps blocks above about 20 accumulators in memory, at about a third
/// of the speed (figures: docs/decisions/Decisions.md, "Unrolled register blocks").
#define CK_UNROLL _Pragma("clang loop unroll(full)")

CK_AVX512 CK_INLINE __mmask16 ck_tail_mask(int64_t remaining) {
    if (remaining >= 16) return (__mmask16)0xFFFF;
    if (remaining <= 0) return 0;
    return (__mmask16)((1u << remaining) - 1u);
}

/// Copies `count` floats with 16-lane (masked at the tail) loads and stores.
CK_AVX512 CK_INLINE void ck_copy(float *dst, const float *src, int64_t count) {
    int64_t k = 0;
    for (; k + 16 <= count; k += 16) _mm512_storeu_ps(dst + k, _mm512_loadu_ps(src + k));
    if (k < count) {
        __mmask16 m = ck_tail_mask(count - k);
        _mm512_mask_storeu_ps(dst + k, m, _mm512_maskz_loadu_ps(m, src + k));
    }
}

// MARK: - Forward

/// One block of OB output channels over all flat outputs of one image, into tile [OB][qpad].
/// `wp`: this block's packed weights [C][taps][OB]; `bias`: at o0 or NULL.
CK_AVX512 CK_INLINE void ck_fwd_block(const ck_direct_layout *l, int64_t C, const float *xin, const float *wp,
                                      const int64_t *taps, const float *bias, int relu, float *tile, const int OB) {
    const int64_t KK = l->taps;
    for (int64_t q0 = 0; q0 < l->qpad; q0 += CK_DIRECT_BLOCK) {
        const __mmask16 m0 = ck_tail_mask(l->q - q0), m1 = ck_tail_mask(l->q - q0 - 16),
                        m2 = ck_tail_mask(l->q - q0 - 32);
        __m512 acc[CK_DIRECT_FWD_OB][3];
        CK_UNROLL for (int j = 0; j < OB; j++) {
            __m512 b = bias ? _mm512_set1_ps(bias[j]) : _mm512_setzero_ps();
            acc[j][0] = b; acc[j][1] = b; acc[j][2] = b;
        }
        const float *w = wp;
        for (int64_t c = 0; c < C; c++) {
            const float *xc = xin + c * l->plane + q0;
            for (int64_t t = 0; t < KK; t++) {
                const float *p = xc + taps[t];
                __m512 x0 = _mm512_maskz_loadu_ps(m0, p);
                __m512 x1 = _mm512_maskz_loadu_ps(m1, p + 16);
                __m512 x2 = _mm512_maskz_loadu_ps(m2, p + 32);
                CK_UNROLL for (int j = 0; j < OB; j++) {
                    __m512 wb = _mm512_set1_ps(w[j]);
                    acc[j][0] = _mm512_fmadd_ps(x0, wb, acc[j][0]);
                    acc[j][1] = _mm512_fmadd_ps(x1, wb, acc[j][1]);
                    acc[j][2] = _mm512_fmadd_ps(x2, wb, acc[j][2]);
                }
                w += OB;
            }
        }
        const __m512 zero = _mm512_setzero_ps();
        CK_UNROLL for (int j = 0; j < OB; j++) {
            CK_UNROLL for (int v = 0; v < 3; v++) {
                // max(0, z) returns z when z is NaN (the second operand), and −0 for −0: as `z < 0 ? 0 : z`.
                __m512 z = relu ? _mm512_max_ps(zero, acc[j][v]) : acc[j][v];
                _mm512_storeu_ps(tile + j * l->qpad + q0 + 16 * v, z);
            }
        }
    }
}

/// Forward vectorised over the flat output positions q (see the file comment).
CK_AVX512 static void ck_forward_positions(const ck_conv_shape *s, const ck_direct_layout *lp, const int64_t *taps,
                                           const float *x, const float *w, const float *bias, int relu, float *y,
                                           int64_t images, float *workspace) {
    const ck_direct_layout l = *lp;
    const int64_t C = s->channels, O = s->out_channels, KK = l.taps;
    const int64_t OH = s->out_height, OW = s->out_width;
    const int64_t ob = ck_direct_block(O, CK_DIRECT_FWD_OB);

    // Workspace: packed weights | prepared image (when copying) | output tile.
    float *packed = workspace;
    float *prepared = packed + (O * C * KK + 15) / 16 * 16;
    float *tile = prepared + (l.copy ? (C * l.plane + 15) / 16 * 16 : 0);

    // packed[block o0][c][t][j] = w[o0 + j][c][t]
    for (int64_t o0 = 0; o0 < O; o0 += ob) {
        int64_t count = O - o0 < ob ? O - o0 : ob;
        float *dst = packed + o0 * C * KK;
        for (int64_t c = 0; c < C; c++)
            for (int64_t t = 0; t < KK; t++)
                for (int64_t j = 0; j < count; j++)
                    dst[(c * KK + t) * count + j] = w[((o0 + j) * C + c) * KK + t];
    }

    for (int64_t n = 0; n < images; n++) {
        const float *xn = x + n * C * s->height * s->width;
        float *yn = y + n * O * OH * OW;
        const float *xin = xn;
        if (l.copy) {
            ck_direct_prepare(s, &l, xn, prepared);
            xin = prepared;
        }
        for (int64_t o0 = 0; o0 < O; o0 += ob) {
            const int count = (int)(O - o0 < ob ? O - o0 : ob);
            const float *wp = packed + o0 * C * KK;
            const float *b = bias ? bias + o0 : 0;
            switch (count) {
            case 1: ck_fwd_block(&l, C, xin, wp, taps, b, relu, tile, 1); break;
            case 2: ck_fwd_block(&l, C, xin, wp, taps, b, relu, tile, 2); break;
            case 3: ck_fwd_block(&l, C, xin, wp, taps, b, relu, tile, 3); break;
            case 4: ck_fwd_block(&l, C, xin, wp, taps, b, relu, tile, 4); break;
            case 5: ck_fwd_block(&l, C, xin, wp, taps, b, relu, tile, 5); break;
            case 6: ck_fwd_block(&l, C, xin, wp, taps, b, relu, tile, 6); break;
            case 7: ck_fwd_block(&l, C, xin, wp, taps, b, relu, tile, 7); break;
            default: ck_fwd_block(&l, C, xin, wp, taps, b, relu, tile, 8); break;
            }
            for (int64_t j = 0; j < count; j++)
                for (int64_t i = 0; i < OH; i++)
                    ck_copy(yn + (o0 + j) * OH * OW + i * OW, tile + j * l.qpad + i * l.ws, OW);
        }
    }
}

// MARK: - Forward, vectorised over output channels

/// Pixels per register block of the channel-vectorised forward kernel.
#define CK_DIRECT_ROW_BLOCK 12

/// Transposes the 16x16 block r (row i = r[i]) in registers: afterwards r[j] holds old column j.
CK_AVX512 CK_INLINE void ck_transpose16(__m512 r[16]) {
    __m512 t[16];
    CK_UNROLL for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    // r[4i + m], 128-bit lane k: column 4k + m of rows 4i..4i+3.
    CK_UNROLL for (int i = 0; i < 4; i++) {
        r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
        r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
    }
    CK_UNROLL for (int m = 0; m < 4; m++) {
        __m512 ve = _mm512_shuffle_f32x4(r[m], r[4 + m], 0x88), vo = _mm512_shuffle_f32x4(r[m], r[4 + m], 0xDD);
        __m512 we = _mm512_shuffle_f32x4(r[8 + m], r[12 + m], 0x88), wo = _mm512_shuffle_f32x4(r[8 + m], r[12 + m], 0xDD);
        t[m] = _mm512_shuffle_f32x4(ve, we, 0x88);
        t[8 + m] = _mm512_shuffle_f32x4(ve, we, 0xDD);
        t[4 + m] = _mm512_shuffle_f32x4(vo, wo, 0x88);
        t[12 + m] = _mm512_shuffle_f32x4(vo, wo, 0xDD);
    }
    CK_UNROLL for (int i = 0; i < 16; i++) r[i] = t[i];
}

/// R pixels of ROWS (1 or 2) output rows, 16 output channels: tile[p][0..16) for p = (i + k)·OW + j0 ..< +R.
/// `x0`: the prepared input at flat position i·ws + j0 of channel 0; `wq`: [C][taps][16].
CK_AVX512 CK_INLINE void ck_fwd_pixels(const ck_direct_layout *l, int64_t C, int64_t OW, const float *x0,
                                       const float *wq, const int64_t *taps, __m512 b, int relu, float *tile,
                                       const int ROWS, const int R) {
    __m512 acc[2][CK_DIRECT_ROW_BLOCK];
    CK_UNROLL for (int k = 0; k < ROWS; k++)
        CK_UNROLL for (int r = 0; r < R; r++) acc[k][r] = b;
    const int64_t KK = l->taps;
    for (int64_t c = 0; c < C; c++) {
        const float *xc = x0 + c * l->plane;
        const float *w = wq + c * KK * 16;
        for (int64_t t = 0; t < KK; t++) {
            const __m512 wv = _mm512_loadu_ps(w + 16 * t);
            const float *p = xc + taps[t];
            CK_UNROLL for (int k = 0; k < ROWS; k++)
                CK_UNROLL for (int r = 0; r < R; r++)
                    acc[k][r] = _mm512_fmadd_ps(_mm512_set1_ps(p[k * l->ws + r]), wv, acc[k][r]);
        }
    }
    const __m512 zero = _mm512_setzero_ps();
    CK_UNROLL for (int k = 0; k < ROWS; k++)
        CK_UNROLL for (int r = 0; r < R; r++)
            _mm512_storeu_ps(tile + 16 * (k * OW + r), relu ? _mm512_max_ps(zero, acc[k][r]) : acc[k][r]);
}

/// As ck_fwd_pixels for two rows when the rows are not strided or dilated (SH = DH = 1): input row
/// e of the window serves tap row e of output row i and tap row e − 1 of row i + 1, so each
/// broadcast input feeds two FMAs. `cols[v]`: offset of tap (0, v).
CK_AVX512 CK_INLINE void ck_fwd_pixels_shared(const ck_direct_layout *l, int64_t C, int64_t OW, int64_t KH, int64_t KW,
                                              const float *x0, const float *wq, const int64_t *cols, __m512 b,
                                              int relu, float *tile, const int R) {
    __m512 acc[2][CK_DIRECT_ROW_BLOCK];
    CK_UNROLL for (int k = 0; k < 2; k++)
        CK_UNROLL for (int r = 0; r < R; r++) acc[k][r] = b;
    const int64_t KK = l->taps;
    for (int64_t c = 0; c < C; c++) {
        const float *xc = x0 + c * l->plane;
        const float *w = wq + c * KK * 16;
        for (int64_t v = 0; v < KW; v++) {   // e = 0: row i only
            const __m512 wa = _mm512_loadu_ps(w + 16 * v);
            const float *p = xc + cols[v];
            CK_UNROLL for (int r = 0; r < R; r++) acc[0][r] = _mm512_fmadd_ps(_mm512_set1_ps(p[r]), wa, acc[0][r]);
        }
        for (int64_t e = 1; e < KH; e++) {
            for (int64_t v = 0; v < KW; v++) {
                const __m512 wa = _mm512_loadu_ps(w + 16 * (e * KW + v));
                const __m512 wb = _mm512_loadu_ps(w + 16 * ((e - 1) * KW + v));
                const float *p = xc + e * l->ws + cols[v];
                CK_UNROLL for (int r = 0; r < R; r++) {
                    const __m512 xb = _mm512_set1_ps(p[r]);
                    acc[0][r] = _mm512_fmadd_ps(xb, wa, acc[0][r]);
                    acc[1][r] = _mm512_fmadd_ps(xb, wb, acc[1][r]);
                }
            }
        }
        for (int64_t v = 0; v < KW; v++) {   // e = KH: row i + 1 only
            const __m512 wb = _mm512_loadu_ps(w + 16 * ((KH - 1) * KW + v));
            const float *p = xc + KH * l->ws + cols[v];
            CK_UNROLL for (int r = 0; r < R; r++) acc[1][r] = _mm512_fmadd_ps(_mm512_set1_ps(p[r]), wb, acc[1][r]);
        }
    }
    const __m512 zero = _mm512_setzero_ps();
    CK_UNROLL for (int k = 0; k < 2; k++)
        CK_UNROLL for (int r = 0; r < R; r++)
            _mm512_storeu_ps(tile + 16 * (k * OW + r), relu ? _mm512_max_ps(zero, acc[k][r]) : acc[k][r]);
}

/// Pixels per register block of the two-block (32 output channels) forward kernel.
#define CK_DIRECT_PAIR_BLOCK 14

/// R pixels of one output row, 32 output channels (two packed blocks `wq0`, `wq1`, each
/// [C][taps][16]): tile0/tile1[p][0..16) for p = the R pixels. Each broadcast input feeds two
/// FMAs (one per block), which keeps strided rows (no shared-row reuse) FMA-bound: per tap 2
/// weight loads + R broadcasts for 2R FMAs, against 1 + R for R with one block.
CK_AVX512 CK_INLINE void ck_fwd_pixels_pair(const ck_direct_layout *l, int64_t C, const float *x0, const float *wq0,
                                            const float *wq1, const int64_t *taps, __m512 b0, __m512 b1, int relu,
                                            float *tile0, float *tile1, const int R) {
    __m512 acc0[CK_DIRECT_PAIR_BLOCK], acc1[CK_DIRECT_PAIR_BLOCK];
    CK_UNROLL for (int r = 0; r < R; r++) { acc0[r] = b0; acc1[r] = b1; }
    const int64_t KK = l->taps;
    for (int64_t c = 0; c < C; c++) {
        const float *xc = x0 + c * l->plane;
        const float *w0 = wq0 + c * KK * 16, *w1 = wq1 + c * KK * 16;
        for (int64_t t = 0; t < KK; t++) {
            const __m512 wa = _mm512_loadu_ps(w0 + 16 * t), wb = _mm512_loadu_ps(w1 + 16 * t);
            const float *p = xc + taps[t];
            CK_UNROLL for (int r = 0; r < R; r++) {
                const __m512 xb = _mm512_set1_ps(p[r]);
                acc0[r] = _mm512_fmadd_ps(xb, wa, acc0[r]);
                acc1[r] = _mm512_fmadd_ps(xb, wb, acc1[r]);
            }
        }
    }
    const __m512 zero = _mm512_setzero_ps();
    CK_UNROLL for (int r = 0; r < R; r++) {
        _mm512_storeu_ps(tile0 + 16 * r, relu ? _mm512_max_ps(zero, acc0[r]) : acc0[r]);
        _mm512_storeu_ps(tile1 + 16 * r, relu ? _mm512_max_ps(zero, acc1[r]) : acc1[r]);
    }
}

#define CK_PAIR_CASE(R) \
    case R: ck_fwd_pixels_pair(l, C, x0, wq, wq + C * KK * 16, taps, bv, bv1, relu, tp, tp + ppad * 16, R); break;

#define CK_PIXELS_CASE(R) \
    case R: if (rowsHere == 2 && shared) ck_fwd_pixels_shared(l, C, OW, KH, KW, x0, wq, taps, bv, relu, tp, R); \
            else if (rowsHere == 2) ck_fwd_pixels(l, C, OW, x0, wq, taps, bv, relu, tp, 2, R); \
            else ck_fwd_pixels(l, C, OW, x0, wq, taps, bv, relu, tp, 1, R); break;

/// tile [P][16] (rows past P zero) -> yb[o][p] for the first `oc` channels, 16 pixels at a time.
CK_AVX512 CK_INLINE void ck_tile_to_nchw(const float *tile, int64_t P, int64_t oc, float *yb) {
    for (int64_t p0 = 0; p0 < P; p0 += 16) {
        __m512 r[16];
        CK_UNROLL for (int k = 0; k < 16; k++) r[k] = _mm512_loadu_ps(tile + (p0 + k) * 16);
        ck_transpose16(r);
        const __mmask16 pm = ck_tail_mask(P - p0);
        for (int64_t o = 0; o < oc; o++) _mm512_mask_storeu_ps(yb + o * P + p0, pm, r[o]);
    }
}

/// Forward vectorised over output channels (16 per zmm, weights packed [O/16][C][taps][16]): one
/// FMA per pixel and tap with the input broadcast; the [pixel][16] tile of an image is transposed
/// in 16x16 register blocks into the NCHW output. Wastes no lanes when O is a multiple of 16.
/// Channel blocks go in pairs, one output row at a time (ck_fwd_pixels_pair, each broadcast feeds
/// two FMAs); the last block of an odd count goes alone, two unstrided rows at a time
/// (ck_fwd_pixels_shared, each broadcast feeds the two rows) or one strided row. Pairs of blocks
/// beat single blocks and two rows sharing broadcasts on every layer tried (figures:
/// docs/decisions/Decisions.md, "Unrolled register blocks").
CK_AVX512 static void ck_forward_channels(const ck_conv_shape *s, const ck_direct_layout *l, const int64_t *taps,
                                          const float *x, const float *w, const float *bias, int relu, float *y,
                                          int64_t images, float *workspace) {
    const int64_t C = s->channels, O = s->out_channels, KK = l->taps, OH = s->out_height, OW = s->out_width;
    const int64_t P = OH * OW, ppad = (P + 15) / 16 * 16, oblocks = (O + 15) / 16;
    const int64_t KH = s->kernel_height, KW = s->kernel_width;
    // Unstrided, undilated rows: tap (u, v) sits at u·ws + taps[v], which the shared two-row block uses.
    const int shared = s->stride_height == 1 && s->dilation_height == 1;
    float *packed = workspace;
    float *prepared = packed + oblocks * 16 * C * KK;
    float *tile = prepared + (l->copy ? (C * l->plane + 15) / 16 * 16 : 0);
    for (int64_t b = 0; b < oblocks; b++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t t = 0; t < KK; t++)
                for (int64_t j = 0; j < 16; j++) {
                    int64_t o = 16 * b + j;
                    packed[((b * C + c) * KK + t) * 16 + j] = o < O ? w[(o * C + c) * KK + t] : 0.0f;
                }
    for (int64_t i = P * 16; i < ppad * 16; i++) tile[i] = tile[ppad * 16 + i] = 0;   // rows past P: transposed, never stored
    int pair = 0;
    const int64_t rowBlocks = (OW + CK_DIRECT_ROW_BLOCK - 1) / CK_DIRECT_ROW_BLOCK;
    for (int64_t n = 0; n < images; n++) {
        const float *xn = x + n * C * s->height * s->width;
        const float *xin = xn;
        if (l->copy) {
            ck_direct_prepare(s, l, xn, prepared);
            xin = prepared;
        }
        for (int64_t b = 0; b < oblocks; b += pair ? 2 : 1) {
            pair = b + 1 < oblocks;
            const int64_t oc = O - 16 * b < 16 ? O - 16 * b : 16;
            const __mmask16 om = ck_tail_mask(oc);
            const __m512 bv = bias ? _mm512_maskz_loadu_ps(om, bias + 16 * b) : _mm512_setzero_ps();
            const float *wq = packed + b * C * KK * 16;
            if (pair) {
                // Blocks b and b + 1 together, one output row at a time (tiles [P][16] at tile and tile + ppad·16).
                const int64_t oc1 = O - 16 * (b + 1) < 16 ? O - 16 * (b + 1) : 16;
                const __m512 bv1 = bias ? _mm512_maskz_loadu_ps(ck_tail_mask(oc1), bias + 16 * (b + 1))
                                        : _mm512_setzero_ps();
                const int64_t pairBlocks = (OW + CK_DIRECT_PAIR_BLOCK - 1) / CK_DIRECT_PAIR_BLOCK;
                for (int64_t i = 0; i < OH; i++) {
                    for (int64_t h = 0, j0 = 0; h < pairBlocks; h++) {
                        const int R = (int)(OW / pairBlocks + (h < OW % pairBlocks ? 1 : 0));
                        const float *x0 = xin + i * l->ws + j0;
                        float *tp = tile + (i * OW + j0) * 16;
                        switch (R) {
                        CK_PAIR_CASE(1) CK_PAIR_CASE(2) CK_PAIR_CASE(3) CK_PAIR_CASE(4) CK_PAIR_CASE(5)
                        CK_PAIR_CASE(6) CK_PAIR_CASE(7) CK_PAIR_CASE(8) CK_PAIR_CASE(9) CK_PAIR_CASE(10)
                        CK_PAIR_CASE(11) CK_PAIR_CASE(12) CK_PAIR_CASE(13) CK_PAIR_CASE(14)
                        default: CK_UNREACHABLE();  // not reached: R <= CK_DIRECT_PAIR_BLOCK
                        }
                        j0 += R;
                    }
                }
                ck_tile_to_nchw(tile, P, oc, y + (n * O + 16 * b) * P);
                ck_tile_to_nchw(tile + ppad * 16, P, oc1, y + (n * O + 16 * (b + 1)) * P);
                continue;
            }
            for (int64_t i = 0; i < OH; i += 2) {
                const int rowsHere = i + 1 < OH ? 2 : 1;
                for (int64_t h = 0, j0 = 0; h < rowBlocks; h++) {
                    const int R = (int)(OW / rowBlocks + (h < OW % rowBlocks ? 1 : 0));
                    const float *x0 = xin + i * l->ws + j0;
                    float *tp = tile + (i * OW + j0) * 16;
                    switch (R) {
                    CK_PIXELS_CASE(1) CK_PIXELS_CASE(2) CK_PIXELS_CASE(3) CK_PIXELS_CASE(4) CK_PIXELS_CASE(5)
                    CK_PIXELS_CASE(6) CK_PIXELS_CASE(7) CK_PIXELS_CASE(8) CK_PIXELS_CASE(9) CK_PIXELS_CASE(10)
                    CK_PIXELS_CASE(11) CK_PIXELS_CASE(12)
                    default: CK_UNREACHABLE();  // not reached: R <= CK_DIRECT_ROW_BLOCK
                    }
                    j0 += R;
                }
            }
            ck_tile_to_nchw(tile, P, oc, y + (n * O + 16 * b) * P);
        }
    }
}

CK_AVX512 void ck_conv_direct_forward_avx512(const ck_conv_shape *s, const float *x, const float *w,
                                             const float *bias, int relu, float *y, int64_t images,
                                             float *workspace) {
    const ck_direct_layout l = ck_direct_layout_of(s);
    int64_t taps[l.taps];
    ck_direct_tap_offsets(s, &l, taps);
    if (ck_direct_forward_by_channels(s, &l))
        ck_forward_channels(s, &l, taps, x, w, bias, relu, y, images, workspace);
    else
        ck_forward_positions(s, &l, taps, x, w, bias, relu, y, images, workspace);
}

// MARK: - Backward filter

#define CK_BWD_OB 6
#define CK_BWD_T 6

/// sums[j·ostride + t·16 .. +16] += Σ_images Σ_q dy'[j][q] · x'[q + taps[t]] for OB channels, T taps
/// (OB·T <= 25: accumulators + OB gradient vectors + one input vector fit the 32 zmm registers).
/// `xs[i]`: image i's prepared channel; `dys[i]`: image i's dy' at the block's first channel.
/// `lanes[k]`: the lanes of vector k that are real outputs (q < Q and j = q mod ws < OW); the other
/// lanes load no input, so a non-finite input pixel outside a tap's window cannot reach its sum.
CK_AVX512 CK_INLINE void ck_bwd_block(const ck_direct_layout *l, const float *const *xs, const float *const *dys,
                                      int64_t images, const int64_t *taps, const __mmask16 *lanes, float *sums,
                                      int64_t ostride, const int OB, const int T) {
    __m512 acc[CK_BWD_OB][CK_BWD_T];
    CK_UNROLL for (int j = 0; j < OB; j++)
        CK_UNROLL for (int t = 0; t < T; t++) acc[j][t] = _mm512_setzero_ps();
    const int64_t vectors = (l->q + 15) / 16;
    for (int64_t n = 0; n < images; n++) {
        const float *x = xs[n], *d = dys[n];
        const float *xt[CK_BWD_T];
        CK_UNROLL for (int t = 0; t < T; t++) xt[t] = x + taps[t];
        for (int64_t k = 0; k < vectors; k++) {
            const int64_t q0 = 16 * k;
            const __mmask16 m = lanes[k];
            __m512 dv[CK_BWD_OB];
            CK_UNROLL for (int j = 0; j < OB; j++) dv[j] = _mm512_loadu_ps(d + j * l->qpad + q0);
            CK_UNROLL for (int t = 0; t < T; t++) {
                __m512 xv = _mm512_maskz_loadu_ps(m, xt[t] + q0);
                CK_UNROLL for (int j = 0; j < OB; j++) acc[j][t] = _mm512_fmadd_ps(dv[j], xv, acc[j][t]);
            }
        }
    }
    CK_UNROLL for (int j = 0; j < OB; j++)
        CK_UNROLL for (int t = 0; t < T; t++) {
            float *p = sums + j * ostride + 16 * t;
            _mm512_storeu_ps(p, _mm512_add_ps(_mm512_loadu_ps(p), acc[j][t]));
        }
}

/// Size of part `i` when `count` is split into `parts` parts as evenly as possible.
static inline int64_t ck_part(int64_t count, int64_t parts, int64_t i) {
    return count / parts + (i < count % parts ? 1 : 0);
}

/// Vector loads per output vector when O channels are split into blocks of <= ob and the taps into
/// chunks of <= t (each block × chunk loads its ob gradients and t inputs).
static inline int64_t ck_bwd_loads(int64_t O, int64_t KK, int64_t ob, int64_t t) {
    int64_t blocks = (O + ob - 1) / ob, chunks = (KK + t - 1) / t;
    return chunks * O + blocks * KK;
}

#define CK_BWD_CASE(OB, T) \
    case (OB) * 8 + (T): ck_bwd_block(&l, xs, dys, nb, taps + t0, lanes, sums + ((o0 * C + c) * KK + t0) * 16, C * KK * 16, OB, T); break;

/// backwardFilter vectorised over the flat output positions q (see the file comment).
CK_AVX512 static void ck_filter_positions(const ck_conv_shape *s, const ck_direct_layout *lp, const int64_t *taps,
                                          const float *x, const float *dy, int64_t images, float *dw, float *db,
                                          float *workspace) {
    const ck_direct_layout l = *lp;
    const int64_t C = s->channels, O = s->out_channels, KK = l.taps;
    const int64_t OH = s->out_height, OW = s->out_width, HW = s->height * s->width;
    const int64_t vectors = (l.q + 15) / 16;

    // Register block: the (channels, taps) shape with the fewest loads per FMA, among those whose
    // accumulators fit (6x4, 5x5, 4x6); ties keep the first.
    static const int64_t shapes[3][2] = {{6, 4}, {5, 5}, {4, 6}};
    int64_t obMax = 6, tMax = 4, best = -1;
    CK_UNROLL for (int i = 0; i < 3; i++) {
        int64_t loads = ck_bwd_loads(O, KK, shapes[i][0], shapes[i][1]);
        if (best < 0 || loads < best) { best = loads; obMax = shapes[i][0]; tMax = shapes[i][1]; }
    }
    const int64_t blocks = (O + obMax - 1) / obMax, chunks = (KK + tMax - 1) / tMax;
    int64_t obSize = 0;
    for (int64_t b = 0; b < blocks; b++) { int64_t p = ck_part(O, blocks, b); if (p > obSize) obSize = p; }

    // Images per chunk: what one pass (one channel block's dy' and one input channel per image)
    // keeps in a 32 KiB share of L1, at most CK_DIRECT_BWD_IMAGES.
    const int64_t passFloats = obSize * l.qpad + (l.copy ? l.plane : HW);
    int64_t imagesPerChunk = (32 * 1024 / 4) / passFloats;
    if (imagesPerChunk < 1) imagesPerChunk = 1;

    // Workspace: vector sums [O][C][KK][16] + [O][16] | per chunk image: prepared input (when
    // copying) | dy' | lane masks.
    float *sums = workspace;
    const int64_t preparedCount = l.copy ? (C * l.plane + 15) / 16 * 16 : 0;
    const int64_t perImage = preparedCount + O * l.qpad;
    if (imagesPerChunk > ck_direct_bwd_images(perImage)) imagesPerChunk = ck_direct_bwd_images(perImage);
    float *biasSums = sums + O * C * KK * 16;   // [O][16]
    float *chunk = biasSums + O * 16;
    for (int64_t i = 0; i < (O * C * KK + O) * 16; i++) sums[i] = 0;
    // Then the lane masks, one 16-bit mask per vector (a worker thread's stack could not hold
    // them for large planes).
    __mmask16 *lanes = (__mmask16 *)(chunk + ck_direct_bwd_images(perImage) * perImage);
    for (int64_t k = 0; k < vectors; k++) {
        unsigned m = 0;
        for (int64_t b = 0; b < 16; b++) {
            int64_t q = 16 * k + b;
            if (q < l.q && q % l.ws < OW) m |= 1u << b;
        }
        lanes[k] = (__mmask16)m;
    }

    const float *images_x[CK_DIRECT_BWD_IMAGES], *images_dy[CK_DIRECT_BWD_IMAGES];
    const float *xs[CK_DIRECT_BWD_IMAGES], *dys[CK_DIRECT_BWD_IMAGES];
    for (int64_t n0 = 0; n0 < images; n0 += imagesPerChunk) {
        const int64_t nb = images - n0 < imagesPerChunk ? images - n0 : imagesPerChunk;
        for (int64_t i = 0; i < nb; i++) {
            float *slot = chunk + i * perImage;
            const float *xn = x + (n0 + i) * C * HW;
            if (l.copy) {
                ck_direct_prepare(s, &l, xn, slot);
                images_x[i] = slot;
            } else {
                images_x[i] = xn;
            }
            // dy'[o][r·ws + j] = dy[o][r][j] for j < OW, 0 elsewhere up to qpad.
            float *d = slot + preparedCount;
            const float *dyn = dy + (n0 + i) * O * OH * OW;
            // The bias gradient sums the same rows: 16 lanes per channel, images in order.
            for (int64_t o = 0; o < O; o++) {
                float *row = d + o * l.qpad;
                for (int64_t k = 0; k < l.qpad; k++) row[k] = 0;
                for (int64_t r = 0; r < OH; r++) ck_copy(row + r * l.ws, dyn + (o * OH + r) * OW, OW);
                if (db) {
                    __m512 sum = _mm512_loadu_ps(biasSums + 16 * o);
                    for (int64_t k = 0; k < l.qpad; k += 16) sum = _mm512_add_ps(sum, _mm512_loadu_ps(row + k));
                    _mm512_storeu_ps(biasSums + 16 * o, sum);
                }
            }
            images_dy[i] = d;
        }
        for (int64_t b = 0, o0 = 0; b < blocks; o0 += ck_part(O, blocks, b), b++) {
            const int64_t oc = ck_part(O, blocks, b);
            for (int64_t i = 0; i < nb; i++) dys[i] = images_dy[i] + o0 * l.qpad;
            for (int64_t c = 0; c < C; c++) {
                for (int64_t i = 0; i < nb; i++) xs[i] = images_x[i] + c * l.plane;
                for (int64_t h = 0, t0 = 0; h < chunks; t0 += ck_part(KK, chunks, h), h++) {
                    const int64_t tc = ck_part(KK, chunks, h);
                    switch (oc * 8 + tc) {
                    CK_BWD_CASE(1, 1) CK_BWD_CASE(1, 2) CK_BWD_CASE(1, 3) CK_BWD_CASE(1, 4) CK_BWD_CASE(1, 5) CK_BWD_CASE(1, 6)
                    CK_BWD_CASE(2, 1) CK_BWD_CASE(2, 2) CK_BWD_CASE(2, 3) CK_BWD_CASE(2, 4) CK_BWD_CASE(2, 5) CK_BWD_CASE(2, 6)
                    CK_BWD_CASE(3, 1) CK_BWD_CASE(3, 2) CK_BWD_CASE(3, 3) CK_BWD_CASE(3, 4) CK_BWD_CASE(3, 5) CK_BWD_CASE(3, 6)
                    CK_BWD_CASE(4, 1) CK_BWD_CASE(4, 2) CK_BWD_CASE(4, 3) CK_BWD_CASE(4, 4) CK_BWD_CASE(4, 5) CK_BWD_CASE(4, 6)
                    CK_BWD_CASE(5, 1) CK_BWD_CASE(5, 2) CK_BWD_CASE(5, 3) CK_BWD_CASE(5, 4) CK_BWD_CASE(5, 5)
                    CK_BWD_CASE(6, 1) CK_BWD_CASE(6, 2) CK_BWD_CASE(6, 3) CK_BWD_CASE(6, 4)
                    default: CK_UNREACHABLE();  // not reached: oc <= obMax and tc <= tMax with obMax·tMax <= 25
                    }
                }
            }
        }
    }
    for (int64_t i = 0; i < O * C * KK; i++) dw[i] = _mm512_reduce_add_ps(_mm512_loadu_ps(sums + 16 * i));
    if (db)
        for (int64_t o = 0; o < O; o++) db[o] = _mm512_reduce_add_ps(_mm512_loadu_ps(biasSums + 16 * o));
}

// MARK: - Backward filter, vectorised over output channels

/// sums[(u·KW + v)·16 ..] += Σ_images Σ_(i,j) dyT[i·OW + j][0..16) · x'[i·ws + j + rows[u] + col(v)] for
/// U kernel rows of KW taps (U·KW <= 25 accumulators over 16 output channels), where col(v) = v
/// when ADJACENT (stride 1, no dilation along the width) and cols[v] otherwise (the tap's phase
/// plane and shift, see ck_direct_tap_offsets: a tap's offset is rows[u] + cols[v]).
/// `xs[n]`: image n's prepared channel; `dts[n]`: image n's transposed gradient [P16][16].
CK_AVX512 CK_INLINE void ck_filter_rows(const ck_direct_layout *l, const float *const *xs, const float *const *dts,
                                        int64_t images, int64_t OH, int64_t OW, const int64_t *rows,
                                        const int64_t *cols, float *sums, const int U, const int KW,
                                        const int ADJACENT) {
    __m512 acc[CK_DIRECT_BWD_ROWS][CK_DIRECT_BWD_KW];
    CK_UNROLL for (int u = 0; u < U; u++)
        CK_UNROLL for (int v = 0; v < KW; v++) acc[u][v] = _mm512_setzero_ps();
    for (int64_t n = 0; n < images; n++) {
        const float *xr[CK_DIRECT_BWD_ROWS];
        CK_UNROLL for (int u = 0; u < U; u++) xr[u] = xs[n] + rows[u];
        const float *d = dts[n];
        for (int64_t i = 0; i < OH; i++) {
            const int64_t q = i * l->ws;
            for (int64_t j = 0; j < OW; j++) {
                const __m512 dv = _mm512_loadu_ps(d + 16 * (i * OW + j));
                CK_UNROLL for (int u = 0; u < U; u++) {
                    const float *p = xr[u] + q + j;
                    CK_UNROLL for (int v = 0; v < KW; v++)
                        acc[u][v] = _mm512_fmadd_ps(dv, _mm512_set1_ps(p[ADJACENT ? v : cols[v]]), acc[u][v]);
                }
            }
        }
    }
    CK_UNROLL for (int u = 0; u < U; u++)
        CK_UNROLL for (int v = 0; v < KW; v++) {
            float *p = sums + 16 * (u * KW + v);
            _mm512_storeu_ps(p, _mm512_add_ps(_mm512_loadu_ps(p), acc[u][v]));
        }
}

/// As ck_filter_rows for two blocks of 16 output channels at once (dts0/dts1, sums0/sums1): each
/// broadcast input feeds two FMAs, so a pixel costs 2 gradient loads + U·KW broadcasts for 2·U·KW
/// FMAs (U·KW <= 12). Two blocks beat one on every layer tried (figures:
/// docs/decisions/Decisions.md, "Unrolled register blocks").
CK_AVX512 CK_INLINE void ck_filter_rows_pair(const ck_direct_layout *l, const float *const *xs,
                                             const float *const *dts, int64_t dtOffset, int64_t images, int64_t OH,
                                             int64_t OW, const int64_t *rows, const int64_t *cols, float *sums0,
                                             float *sums1, const int U, const int KW, const int ADJACENT) {
    __m512 acc0[CK_DIRECT_BWD_ROWS][CK_DIRECT_BWD_KW], acc1[CK_DIRECT_BWD_ROWS][CK_DIRECT_BWD_KW];
    CK_UNROLL for (int u = 0; u < U; u++)
        CK_UNROLL for (int v = 0; v < KW; v++) { acc0[u][v] = _mm512_setzero_ps(); acc1[u][v] = acc0[u][v]; }
    for (int64_t n = 0; n < images; n++) {
        const float *xr[CK_DIRECT_BWD_ROWS];
        CK_UNROLL for (int u = 0; u < U; u++) xr[u] = xs[n] + rows[u];
        const float *d0 = dts[n], *d1 = dts[n] + dtOffset;
        for (int64_t i = 0; i < OH; i++) {
            const int64_t q = i * l->ws;
            for (int64_t j = 0; j < OW; j++) {
                const __m512 dv0 = _mm512_loadu_ps(d0 + 16 * (i * OW + j)), dv1 = _mm512_loadu_ps(d1 + 16 * (i * OW + j));
                CK_UNROLL for (int u = 0; u < U; u++) {
                    const float *p = xr[u] + q + j;
                    CK_UNROLL for (int v = 0; v < KW; v++) {
                        const __m512 xb = _mm512_set1_ps(p[ADJACENT ? v : cols[v]]);
                        acc0[u][v] = _mm512_fmadd_ps(dv0, xb, acc0[u][v]);
                        acc1[u][v] = _mm512_fmadd_ps(dv1, xb, acc1[u][v]);
                    }
                }
            }
        }
    }
    CK_UNROLL for (int u = 0; u < U; u++)
        CK_UNROLL for (int v = 0; v < KW; v++) {
            float *p0 = sums0 + 16 * (u * KW + v), *p1 = sums1 + 16 * (u * KW + v);
            _mm512_storeu_ps(p0, _mm512_add_ps(_mm512_loadu_ps(p0), acc0[u][v]));
            _mm512_storeu_ps(p1, _mm512_add_ps(_mm512_loadu_ps(p1), acc1[u][v]));
        }
}

#define CK_PAIR_ROWS_CASE(U, KW) \
    case (KW) * 16 + (U): \
        if (adjacent) ck_filter_rows_pair(l, xs, dts, p16 * 16, nb, OH, OW, rows + u0, cols, \
                                          sums + ((b * C + c) * KK + u0 * (KW)) * 16, \
                                          sums + (((b + 1) * C + c) * KK + u0 * (KW)) * 16, U, KW, 1); \
        else ck_filter_rows_pair(l, xs, dts, p16 * 16, nb, OH, OW, rows + u0, cols, \
                                 sums + ((b * C + c) * KK + u0 * (KW)) * 16, \
                                 sums + (((b + 1) * C + c) * KK + u0 * (KW)) * 16, U, KW, 0); \
        break;

#define CK_ROWS_CASE(U, KW) \
    case (KW) * 16 + (U): \
        if (adjacent) ck_filter_rows(l, xs, dts, nb, OH, OW, rows + u0, cols, sums + ((b * C + c) * KK + u0 * (KW)) * 16, U, KW, 1); \
        else ck_filter_rows(l, xs, dts, nb, OH, OW, rows + u0, cols, sums + ((b * C + c) * KK + u0 * (KW)) * 16, U, KW, 0); \
        break;

/// backwardFilter vectorised over output channels (16 per zmm): dy is transposed per image into
/// [pixel][16] (16x16 register blocks), then each tap's gradient over 16 channels is an FMA of the
/// pixel's gradient vector with the broadcast input, summed over the pixels of a chunk of images.
CK_AVX512 static void ck_filter_channels(const ck_conv_shape *s, const ck_direct_layout *l, const int64_t *taps,
                                         const float *x, const float *dy, int64_t images, float *dw, float *db,
                                         float *workspace) {
    const int64_t C = s->channels, O = s->out_channels, KK = l->taps, KH = s->kernel_height, KW = s->kernel_width;
    const int64_t OH = s->out_height, OW = s->out_width, HW = s->height * s->width, P = OH * OW;
    const int64_t oblocks = (O + 15) / 16, p16 = (P + 15) / 16 * 16;
    // Kernel rows per chunk: as many as fit 25 accumulators (12 per block for two blocks), split evenly.
    int64_t most = 25 / KW, pairMost = CK_DIRECT_BWD_PAIR_ACC / KW;
    if (most > CK_DIRECT_BWD_ROWS) most = CK_DIRECT_BWD_ROWS;
    if (pairMost > CK_DIRECT_BWD_ROWS) pairMost = CK_DIRECT_BWD_ROWS;
    const int64_t chunks = (KH + most - 1) / most, pairChunks = (KH + pairMost - 1) / pairMost;
    // Tap (u, v) is at rows[u] + cols[v] (cols[v] = v when adjacent).
    int64_t rows[KH], cols[KW];
    for (int64_t u = 0; u < KH; u++) rows[u] = taps[u * KW];
    for (int64_t v = 0; v < KW; v++) cols[v] = taps[v] - taps[0];
    const int adjacent = s->stride_width == 1 && s->dilation_width == 1;

    float *sums = workspace;                        // [O/16][C][KK][16]
    float *biasSums = sums + oblocks * C * KK * 16; // [O/16][16]
    const int64_t preparedCount = l->copy ? (C * l->plane + 15) / 16 * 16 : 0;
    const int64_t perImage = preparedCount + oblocks * p16 * 16;
    float *chunk = biasSums + oblocks * 16;
    for (int64_t i = 0; i < oblocks * 16 * (C * KK + 1); i++) sums[i] = 0;

    const float *images_x[CK_DIRECT_BWD_IMAGES], *images_dt[CK_DIRECT_BWD_IMAGES];
    const float *xs[CK_DIRECT_BWD_IMAGES], *dts[CK_DIRECT_BWD_IMAGES];
    const int64_t imagesPerChunk = ck_direct_bwd_images(perImage);
    for (int64_t n0 = 0; n0 < images; n0 += imagesPerChunk) {
        const int64_t nb = images - n0 < imagesPerChunk ? images - n0 : imagesPerChunk;
        for (int64_t i = 0; i < nb; i++) {
            float *slot = chunk + i * perImage;
            const float *xn = x + (n0 + i) * C * HW;
            if (l->copy) {
                ck_direct_prepare(s, l, xn, slot);
                images_x[i] = slot;
            } else {
                images_x[i] = xn;
            }
            // dT[b][p][o] = dy[16b + o][p] (zeros for o >= O and p >= P); bias sums over p alike.
            float *dt = slot + preparedCount;
            const float *dyn = dy + (n0 + i) * O * P;
            for (int64_t b = 0; b < oblocks; b++) {
                __m512 bias = _mm512_loadu_ps(biasSums + 16 * b);
                for (int64_t p0 = 0; p0 < p16; p0 += 16) {
                    const __mmask16 pm = ck_tail_mask(P - p0);
                    __m512 r[16];
                    CK_UNROLL for (int k = 0; k < 16; k++)
                        r[k] = 16 * b + k < O ? _mm512_maskz_loadu_ps(pm, dyn + (16 * b + k) * P + p0) : _mm512_setzero_ps();
                    ck_transpose16(r);
                    CK_UNROLL for (int k = 0; k < 16; k++) {
                        _mm512_storeu_ps(dt + (b * p16 + p0 + k) * 16, r[k]);
                        bias = _mm512_add_ps(bias, r[k]);
                    }
                }
                _mm512_storeu_ps(biasSums + 16 * b, bias);
            }
            images_dt[i] = dt;
        }
        for (int64_t b = 0; b < oblocks; b++) {
            for (int64_t i = 0; i < nb; i++) dts[i] = images_dt[i] + b * p16 * 16;
            if (b + 1 < oblocks) {
                // Blocks b and b + 1 together, in chunks of kernel rows.
                for (int64_t c = 0; c < C; c++) {
                    for (int64_t i = 0; i < nb; i++) xs[i] = images_x[i] + c * l->plane;
                    for (int64_t h = 0, u0 = 0; h < pairChunks; u0 += ck_part(KH, pairChunks, h), h++) {
                        const int64_t U = ck_part(KH, pairChunks, h);
                        switch (KW * 16 + U) {
                        CK_PAIR_ROWS_CASE(1, 1) CK_PAIR_ROWS_CASE(2, 1) CK_PAIR_ROWS_CASE(3, 1) CK_PAIR_ROWS_CASE(4, 1)
                        CK_PAIR_ROWS_CASE(5, 1) CK_PAIR_ROWS_CASE(6, 1) CK_PAIR_ROWS_CASE(7, 1) CK_PAIR_ROWS_CASE(8, 1)
                        CK_PAIR_ROWS_CASE(1, 2) CK_PAIR_ROWS_CASE(2, 2) CK_PAIR_ROWS_CASE(3, 2) CK_PAIR_ROWS_CASE(4, 2)
                        CK_PAIR_ROWS_CASE(5, 2) CK_PAIR_ROWS_CASE(6, 2)
                        CK_PAIR_ROWS_CASE(1, 3) CK_PAIR_ROWS_CASE(2, 3) CK_PAIR_ROWS_CASE(3, 3) CK_PAIR_ROWS_CASE(4, 3)
                        CK_PAIR_ROWS_CASE(1, 4) CK_PAIR_ROWS_CASE(2, 4) CK_PAIR_ROWS_CASE(3, 4)
                        CK_PAIR_ROWS_CASE(1, 5) CK_PAIR_ROWS_CASE(2, 5) CK_PAIR_ROWS_CASE(1, 6) CK_PAIR_ROWS_CASE(2, 6)
                        CK_PAIR_ROWS_CASE(1, 7) CK_PAIR_ROWS_CASE(1, 8) CK_PAIR_ROWS_CASE(1, 9) CK_PAIR_ROWS_CASE(1, 10)
                        CK_PAIR_ROWS_CASE(1, 11)
                        default: CK_UNREACHABLE();  // not reached: U·KW <= 12, U <= 8, KW <= 11
                        }
                    }
                }
                b++;
                continue;
            }
            for (int64_t c = 0; c < C; c++) {
                for (int64_t i = 0; i < nb; i++) xs[i] = images_x[i] + c * l->plane;
                for (int64_t h = 0, u0 = 0; h < chunks; u0 += ck_part(KH, chunks, h), h++) {
                    const int64_t U = ck_part(KH, chunks, h);
                    switch (KW * 16 + U) {
                    CK_ROWS_CASE(1, 1) CK_ROWS_CASE(2, 1) CK_ROWS_CASE(3, 1) CK_ROWS_CASE(4, 1)
                    CK_ROWS_CASE(5, 1) CK_ROWS_CASE(6, 1) CK_ROWS_CASE(7, 1) CK_ROWS_CASE(8, 1)
                    CK_ROWS_CASE(1, 2) CK_ROWS_CASE(2, 2) CK_ROWS_CASE(3, 2) CK_ROWS_CASE(4, 2)
                    CK_ROWS_CASE(5, 2) CK_ROWS_CASE(6, 2) CK_ROWS_CASE(7, 2) CK_ROWS_CASE(8, 2)
                    CK_ROWS_CASE(1, 3) CK_ROWS_CASE(2, 3) CK_ROWS_CASE(3, 3) CK_ROWS_CASE(4, 3)
                    CK_ROWS_CASE(5, 3) CK_ROWS_CASE(6, 3) CK_ROWS_CASE(7, 3) CK_ROWS_CASE(8, 3)
                    CK_ROWS_CASE(1, 4) CK_ROWS_CASE(2, 4) CK_ROWS_CASE(3, 4) CK_ROWS_CASE(4, 4)
                    CK_ROWS_CASE(5, 4) CK_ROWS_CASE(6, 4)
                    CK_ROWS_CASE(1, 5) CK_ROWS_CASE(2, 5) CK_ROWS_CASE(3, 5) CK_ROWS_CASE(4, 5) CK_ROWS_CASE(5, 5)
                    CK_ROWS_CASE(1, 6) CK_ROWS_CASE(2, 6) CK_ROWS_CASE(3, 6) CK_ROWS_CASE(4, 6)
                    CK_ROWS_CASE(1, 7) CK_ROWS_CASE(2, 7) CK_ROWS_CASE(3, 7)
                    CK_ROWS_CASE(1, 8) CK_ROWS_CASE(2, 8) CK_ROWS_CASE(3, 8) CK_ROWS_CASE(1, 9) CK_ROWS_CASE(2, 9)
                    CK_ROWS_CASE(1, 10) CK_ROWS_CASE(2, 10) CK_ROWS_CASE(1, 11) CK_ROWS_CASE(2, 11)
                    default: CK_UNREACHABLE();  // not reached: U·KW <= 25, U <= 8, KW <= 11
                    }
                }
            }
        }
    }
    for (int64_t o = 0; o < O; o++) {
        const int64_t b = o / 16, lane = o % 16;
        for (int64_t c = 0; c < C; c++)
            for (int64_t t = 0; t < KK; t++) dw[(o * C + c) * KK + t] = sums[((b * C + c) * KK + t) * 16 + lane];
        if (db) db[o] = biasSums[16 * b + lane];
    }
}

CK_AVX512 void ck_conv_direct_backward_filter_avx512(const ck_conv_shape *s, const float *x, const float *dy,
                                                     int64_t images, float *dw, float *db, float *workspace) {
    const ck_direct_layout l = ck_direct_layout_of(s);
    int64_t taps[l.taps];
    ck_direct_tap_offsets(s, &l, taps);
    if (ck_direct_filter_by_channels(s, &l))
        ck_filter_channels(s, &l, taps, x, dy, images, dw, db, workspace);
    else
        ck_filter_positions(s, &l, taps, x, dy, images, dw, db, workspace);
}

#else
// Not x86-64: never called (ck_cpu_level() is 0, so Conv2DDirect resolves to im2col).
void ck_conv_direct_forward_avx512(const ck_conv_shape *s, const float *x, const float *w,
                                   const float *bias, int relu, float *y, int64_t images,
                                   float *workspace) {
    (void)s; (void)x; (void)w; (void)bias; (void)relu; (void)y; (void)images; (void)workspace;
    __builtin_trap();
}

void ck_conv_direct_backward_filter_avx512(const ck_conv_shape *s, const float *x, const float *dy,
                                           int64_t images, float *dw, float *db, float *workspace) {
    (void)s; (void)x; (void)dy; (void)images; (void)dw; (void)db; (void)workspace;
    __builtin_trap();
}
#endif
