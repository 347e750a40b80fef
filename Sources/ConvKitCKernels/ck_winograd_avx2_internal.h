// Shared AVX2 helpers of the Winograd tile transforms (ck_winograd_avx2.c, F(2x2);
// ck_winograd4_avx2.c, F(4x4)): 8-lane edge loads and tail stores that touch nothing outside
// the given range. Internal header: include only inside `#if defined(__x86_64__)`.
#ifndef CONVKIT_CK_WINOGRAD_AVX2_INTERNAL_H
#define CONVKIT_CK_WINOGRAD_AVX2_INTERNAL_H

#include "ck_isa.h"
#include <stddef.h>
#include <immintrin.h>

#define CK_AVX2 __attribute__((target(CK_TARGET_AVX2)))

/// Lanes 0 ..< n (n may be <= 0 or >= 8) as a maskload/maskstore mask.
CK_AVX2 static inline __m256i ck_mask8(ptrdiff_t n) {
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    int k = n < 0 ? 0 : n > 8 ? 8 : (int)n;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), iota);
}

/// Columns start ... start + 7 of `row`, zero outside 0 ..< width: a masked load at the right
/// edge (lanes past the row are neither read nor faulted), a small buffer at the left edge of a
/// padded row.
CK_AVX2 static inline __m256 ck_columns8(const float *row, ptrdiff_t start, ptrdiff_t width) {
    if (start >= 0 && start + 8 <= width) return _mm256_loadu_ps(row + start);
    if (start >= 0) {
        if (start >= width) return _mm256_setzero_ps();
        return _mm256_maskload_ps(row + start, ck_mask8(width - start));
    }
    float buffer[8];
    for (int j = 0; j < 8; j++) {
        ptrdiff_t x = start + j;
        buffer[j] = (x >= 0 && x < width) ? row[x] : 0.0f;
    }
    return _mm256_loadu_ps(buffer);
}

/// The first n floats at p, zero beyond; nothing past them is read.
CK_AVX2 static inline __m256 ck_load8(const float *p, ptrdiff_t n) {
    if (n >= 8) return _mm256_loadu_ps(p);
    if (n <= 0) return _mm256_setzero_ps();
    return _mm256_maskload_ps(p, ck_mask8(n));
}

/// Stores the first n lanes of v (nothing when n <= 0).
CK_AVX2 static inline void ck_store8(float *p, __m256 v, ptrdiff_t n) {
    if (n >= 8) _mm256_storeu_ps(p, v);
    else if (n > 0) _mm256_maskstore_ps(p, ck_mask8(n), v);
}

#endif /* CONVKIT_CK_WINOGRAD_AVX2_INTERNAL_H */
