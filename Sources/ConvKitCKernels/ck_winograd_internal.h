// Shared AVX-512 helpers of the Winograd tile transforms (ck_winograd_avx512.c, F(2x2);
// ck_winograd4_avx512.c, F(4x4)). Internal header: include only inside `#if defined(__x86_64__)`
// after <immintrin.h>.
#ifndef CONVKIT_CK_WINOGRAD_INTERNAL_H
#define CONVKIT_CK_WINOGRAD_INTERNAL_H

#include "ck_isa.h"
#include <stddef.h>
#include <immintrin.h>

#define CK_AVX512 __attribute__((target(CK_TARGET_AVX512)))

/// Lanes j of a 16-float load at column `start` that fall inside 0 ..< width.
CK_AVX512 static inline __mmask16 ck_columns(ptrdiff_t start, ptrdiff_t width) {
    ptrdiff_t lo = start < 0 ? -start : 0;
    ptrdiff_t hi = width - start;
    if (hi > 16) hi = 16;
    if (hi <= lo) return 0;
    unsigned bits = (hi >= 16 ? 0xFFFFu : ((1u << hi) - 1u)) & ~((1u << lo) - 1u);
    return (__mmask16)bits;
}

/// The first `n` lanes (0 ... 16).
CK_AVX512 static inline __mmask16 ck_first(ptrdiff_t n) {
    if (n <= 0) return 0;
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

/// Columns start ... start + 15 of `row`, zero outside 0 ..< width (masked: nothing outside is read).
CK_AVX512 static inline __m512 ck_load_columns(const float *row, ptrdiff_t start, ptrdiff_t width) {
    __mmask16 k = ck_columns(start, width);
    if (k == 0) return _mm512_setzero_ps();
    // Address the first valid lane so the base pointer stays inside the row.
    ptrdiff_t first = start < 0 ? -start : 0;
    return _mm512_maskz_loadu_ps((__mmask16)(k >> first), row + start + first);
}

CK_AVX512 static inline __m512 ck_shift_in(__m512 v, ptrdiff_t first) {
    // Undo the base-pointer adjustment of ck_load_columns: lane j of the result = lane j - first of v.
    if (first == 0) return v;
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m512i idx = _mm512_sub_epi32(iota, _mm512_set1_epi32((int)first));
    __mmask16 keep = (__mmask16)(0xFFFFu << first);
    return _mm512_maskz_permutexvar_ps(keep, idx, v);
}

/// ck_load_columns, with the lanes in place (lane j = column start + j).
CK_AVX512 static inline __m512 ck_columns16(const float *row, ptrdiff_t start, ptrdiff_t width) {
    if (start >= 0 && start + 16 <= width) return _mm512_loadu_ps(row + start);
    ptrdiff_t first = start < 0 ? -start : 0;
    return ck_shift_in(ck_load_columns(row, start, width), first);
}

#endif /* CONVKIT_CK_WINOGRAD_INTERNAL_H */
