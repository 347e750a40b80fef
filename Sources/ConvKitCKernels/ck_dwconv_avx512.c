// Depthwise convolution, AVX-512: the vocabulary of ck_dwconv_body.h with 16 lanes per `zmm`
// and mask registers. See include/ck_dwconv.h for the math, layout and rules.
#include "ck_isa.h"
#include "include/ck_dwconv.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define CK_DW_TARGET CK_TARGET_AVX512
#define CK_DW_FN __attribute__((target(CK_DW_TARGET)))
#define CK_DW_INLINE static inline __attribute__((always_inline, target(CK_DW_TARGET)))
#define CK_DW_NAME(f) f##_avx512
#define CK_VL 16
typedef __m512 ck_vec;
typedef __mmask16 ck_mask;

CK_DW_INLINE ck_vec ck_v_zero(void) { return _mm512_setzero_ps(); }
CK_DW_INLINE ck_vec ck_v_set1(float x) { return _mm512_set1_ps(x); }
CK_DW_INLINE ck_vec ck_v_load(const float *p) { return _mm512_loadu_ps(p); }
CK_DW_INLINE void ck_v_store(float *p, ck_vec v) { _mm512_storeu_ps(p, v); }
CK_DW_INLINE ck_vec ck_v_fma(ck_vec a, ck_vec b, ck_vec c) { return _mm512_fmadd_ps(a, b, c); }
// vmaxps returns its second operand when either is NaN: max(0, v) is `0 > v ? 0 : v`.
CK_DW_INLINE ck_vec ck_v_relu(ck_vec v) { return _mm512_max_ps(_mm512_setzero_ps(), v); }
CK_DW_INLINE float ck_v_sum(ck_vec v) {
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    q = _mm_add_ss(q, _mm_movehdup_ps(q));
    return _mm_cvtss_f32(q);
}
CK_DW_INLINE ck_mask ck_m_first(int64_t n) {
    return n <= 0 ? (ck_mask)0 : n >= 16 ? (ck_mask)0xFFFF : (ck_mask)((1u << n) - 1u);
}
CK_DW_INLINE ck_vec ck_v_load_m(const float *p, ck_mask m) { return _mm512_maskz_loadu_ps(m, p); }
CK_DW_INLINE void ck_v_store_m(float *p, ck_mask m, ck_vec v) { _mm512_mask_storeu_ps(p, m, v); }
CK_DW_INLINE ck_vec ck_v_load_range(const float *src, int64_t start, int64_t W) {
    if (start >= 0 && start + 16 <= W) return _mm512_loadu_ps(src + start);
    int64_t lo = start < 0 ? -start : 0, hi = W - start < 16 ? W - start : 16;
    if (hi <= lo) return _mm512_setzero_ps();
    // Load the hi − lo valid floats into the low lanes, then move them up to lanes lo ..< hi (register
    // vexpandps; its memory form is slow on some cores): nothing outside the row is addressed.
    __m512 v = _mm512_maskz_loadu_ps(ck_m_first(hi - lo), src + start + lo);
    return _mm512_maskz_expand_ps((__mmask16)(ck_m_first(hi) & ~ck_m_first(lo)), v);
}
CK_DW_INLINE ck_vec ck_v_even(ck_vec lo, ck_vec hi) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(lo, even, hi);
}
CK_DW_INLINE ck_vec ck_v_odd(ck_vec lo, ck_vec hi) {
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    return _mm512_permutex2var_ps(lo, odd, hi);
}
CK_DW_INLINE ck_vec ck_v_zip_lo(ck_vec a, ck_vec b) {
    const __m512i i = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    return _mm512_permutex2var_ps(a, i, b);
}
CK_DW_INLINE ck_vec ck_v_zip_hi(ck_vec a, ck_vec b) {
    const __m512i i = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    return _mm512_permutex2var_ps(a, i, b);
}

#include "ck_dwconv_body.h"

#endif /* __x86_64__ */
