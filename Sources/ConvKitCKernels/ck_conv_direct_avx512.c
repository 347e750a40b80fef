// Direct convolution, AVX-512 version (see include/ck_conv_direct.h for the math and layout).
//
// Forward: per image, per block of OB <= 8 output channels, per 48 flat outputs q (3 zmm):
//     acc[j][v] = b[o0+j];  for c, tap t: acc[j][v] += w[o0+j, c, t] · x'[c][q + tap(t)]
// (the input vector is loaded once and reused by the OB channels; weights are broadcast from a
// per-worker copy packed as [block][c][t][j]), then ReLU, into a tile [OB][qpad] whose rows are
// copied out at pitch OW.
// backwardFilter: per chunk of <= 8 images, per block of OB <= 4 output channels, channel c and
// chunk of T <= 6 taps: acc[j][t] += dy'[j][q] · x'[c][q + tap(t)] over the images' flat
// outputs (dy' = dy re-laid at pitch ws, zeros at j >= OW), added to per-worker vector sums
// [O][C][KH·KW][16] once per chunk; the sums are reduced horizontally at the end.
#include <immintrin.h>
#include "ck_conv_direct_layout.h"

#define CK_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma,avx2")))
#define CK_INLINE static inline __attribute__((always_inline))

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
        for (int j = 0; j < OB; j++) {
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
                for (int j = 0; j < OB; j++) {
                    __m512 wb = _mm512_set1_ps(w[j]);
                    acc[j][0] = _mm512_fmadd_ps(x0, wb, acc[j][0]);
                    acc[j][1] = _mm512_fmadd_ps(x1, wb, acc[j][1]);
                    acc[j][2] = _mm512_fmadd_ps(x2, wb, acc[j][2]);
                }
                w += OB;
            }
        }
        const __m512 zero = _mm512_setzero_ps();
        for (int j = 0; j < OB; j++) {
            for (int v = 0; v < 3; v++) {
                // max(0, z) returns z when z is NaN (the second operand), and −0 for −0: as `z < 0 ? 0 : z`.
                __m512 z = relu ? _mm512_max_ps(zero, acc[j][v]) : acc[j][v];
                _mm512_storeu_ps(tile + j * l->qpad + q0 + 16 * v, z);
            }
        }
    }
}

CK_AVX512 void ck_conv_direct_forward_avx512(const ck_conv_shape *s, const float *x, const float *w,
                                             const float *bias, int relu, float *y, int64_t images,
                                             float *workspace) {
    const ck_direct_layout l = ck_direct_layout_of(s);
    const int64_t C = s->channels, O = s->out_channels, KK = l.taps;
    const int64_t OH = s->out_height, OW = s->out_width;
    const int64_t ob = ck_direct_block(O, CK_DIRECT_FWD_OB);
    int64_t taps[KK];
    ck_direct_tap_offsets(s, &l, taps);

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

// MARK: - Backward filter

#define CK_BWD_OB 4
#define CK_BWD_T 6

/// sums[j·ostride + t·16 .. +16] += Σ_images Σ_q dy'[j][q] · x'[q + taps[t]] for OB channels, T taps.
/// `xs[i]`: image i's prepared channel; `dys[i]`: image i's dy' at the block's first channel.
CK_AVX512 CK_INLINE void ck_bwd_block(const ck_direct_layout *l, const float *const *xs, const float *const *dys,
                                      int64_t images, const int64_t *taps, float *sums, int64_t ostride,
                                      const int OB, const int T) {
    __m512 acc[CK_BWD_OB][CK_BWD_T];
    for (int j = 0; j < OB; j++)
        for (int t = 0; t < T; t++) acc[j][t] = _mm512_setzero_ps();
    const int64_t vectors = (l->q + 15) / 16;
    for (int64_t n = 0; n < images; n++) {
        const float *x = xs[n], *d = dys[n];
        const float *xt[CK_BWD_T];
        for (int t = 0; t < T; t++) xt[t] = x + taps[t];
        for (int64_t k = 0; k < vectors; k++) {
            const int64_t q0 = 16 * k;
            const __mmask16 m = ck_tail_mask(l->q - q0);
            __m512 xv[CK_BWD_T];
            for (int t = 0; t < T; t++) xv[t] = _mm512_maskz_loadu_ps(m, xt[t] + q0);
            for (int j = 0; j < OB; j++) {
                __m512 dv = _mm512_loadu_ps(d + j * l->qpad + q0);
                for (int t = 0; t < T; t++) acc[j][t] = _mm512_fmadd_ps(dv, xv[t], acc[j][t]);
            }
        }
    }
    for (int j = 0; j < OB; j++)
        for (int t = 0; t < T; t++) {
            float *p = sums + j * ostride + 16 * t;
            _mm512_storeu_ps(p, _mm512_add_ps(_mm512_loadu_ps(p), acc[j][t]));
        }
}

#define CK_BWD_CASE(OB, T) \
    case (OB) * 8 + (T): ck_bwd_block(&l, xs, dys, nb, taps + t0, sums + ((o0 * C + c) * KK + t0) * 16, C * KK * 16, OB, T); break;

CK_AVX512 void ck_conv_direct_backward_filter_avx512(const ck_conv_shape *s, const float *x, const float *dy,
                                                     int64_t images, float *dw, float *workspace) {
    const ck_direct_layout l = ck_direct_layout_of(s);
    const int64_t C = s->channels, O = s->out_channels, KK = l.taps;
    const int64_t OH = s->out_height, OW = s->out_width, HW = s->height * s->width;
    const int64_t ob = ck_direct_block(O, CK_BWD_OB), tb = ck_direct_block(KK, CK_BWD_T);
    int64_t taps[KK];
    ck_direct_tap_offsets(s, &l, taps);

    // Workspace: vector sums [O][C][KK][16] | per chunk image: prepared input (when copying) | dy'.
    float *sums = workspace;
    const int64_t preparedCount = l.copy ? (C * l.plane + 15) / 16 * 16 : 0;
    const int64_t perImage = preparedCount + O * l.qpad;
    float *chunk = sums + O * C * KK * 16;
    for (int64_t i = 0; i < O * C * KK * 16; i++) sums[i] = 0;

    const float *images_x[CK_DIRECT_BWD_IMAGES], *images_dy[CK_DIRECT_BWD_IMAGES];
    const float *xs[CK_DIRECT_BWD_IMAGES], *dys[CK_DIRECT_BWD_IMAGES];
    for (int64_t n0 = 0; n0 < images; n0 += CK_DIRECT_BWD_IMAGES) {
        const int64_t nb = images - n0 < CK_DIRECT_BWD_IMAGES ? images - n0 : CK_DIRECT_BWD_IMAGES;
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
            for (int64_t o = 0; o < O; o++) {
                float *row = d + o * l.qpad;
                for (int64_t k = 0; k < l.qpad; k++) row[k] = 0;
                for (int64_t r = 0; r < OH; r++) ck_copy(row + r * l.ws, dyn + (o * OH + r) * OW, OW);
            }
            images_dy[i] = d;
        }
        for (int64_t o0 = 0; o0 < O; o0 += ob) {
            const int64_t oc = O - o0 < ob ? O - o0 : ob;
            for (int64_t i = 0; i < nb; i++) dys[i] = images_dy[i] + o0 * l.qpad;
            for (int64_t c = 0; c < C; c++) {
                for (int64_t i = 0; i < nb; i++) xs[i] = images_x[i] + c * l.plane;
                for (int64_t t0 = 0; t0 < KK; t0 += tb) {
                    const int64_t tc = KK - t0 < tb ? KK - t0 : tb;
                    switch (oc * 8 + tc) {
                    CK_BWD_CASE(1, 1) CK_BWD_CASE(1, 2) CK_BWD_CASE(1, 3) CK_BWD_CASE(1, 4) CK_BWD_CASE(1, 5) CK_BWD_CASE(1, 6)
                    CK_BWD_CASE(2, 1) CK_BWD_CASE(2, 2) CK_BWD_CASE(2, 3) CK_BWD_CASE(2, 4) CK_BWD_CASE(2, 5) CK_BWD_CASE(2, 6)
                    CK_BWD_CASE(3, 1) CK_BWD_CASE(3, 2) CK_BWD_CASE(3, 3) CK_BWD_CASE(3, 4) CK_BWD_CASE(3, 5) CK_BWD_CASE(3, 6)
                    CK_BWD_CASE(4, 1) CK_BWD_CASE(4, 2) CK_BWD_CASE(4, 3) CK_BWD_CASE(4, 4) CK_BWD_CASE(4, 5) CK_BWD_CASE(4, 6)
                    default: break;
                    }
                }
            }
        }
    }
    for (int64_t i = 0; i < O * C * KK; i++) dw[i] = _mm512_reduce_add_ps(_mm512_loadu_ps(sums + 16 * i));
}
