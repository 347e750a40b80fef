// Depthwise convolution, AVX2 + FMA: the vocabulary of ck_dwconv_body.h with 8 lanes per `ymm`,
// vector masks and `vmaskmovps`. See include/ck_dwconv.h for the math, layout and rules.
#include "ck_isa.h"
#include "include/ck_dwconv.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define CK_DW_TARGET CK_TARGET_AVX2
#define CK_DW_FN __attribute__((target(CK_DW_TARGET)))
#define CK_DW_INLINE static inline __attribute__((always_inline, target(CK_DW_TARGET)))
#define CK_DW_NAME(f) f##_avx2
#define CK_VL 8
typedef __m256 ck_vec;
typedef __m256i ck_mask;

CK_DW_INLINE ck_vec ck_v_zero(void) { return _mm256_setzero_ps(); }
CK_DW_INLINE ck_vec ck_v_set1(float x) { return _mm256_set1_ps(x); }
CK_DW_INLINE ck_vec ck_v_load(const float *p) { return _mm256_loadu_ps(p); }
CK_DW_INLINE void ck_v_store(float *p, ck_vec v) { _mm256_storeu_ps(p, v); }
CK_DW_INLINE ck_vec ck_v_fma(ck_vec a, ck_vec b, ck_vec c) { return _mm256_fmadd_ps(a, b, c); }
// vmaxps returns its second operand when either is NaN: max(0, v) is `0 > v ? 0 : v`.
CK_DW_INLINE ck_vec ck_v_relu(ck_vec v) { return _mm256_max_ps(_mm256_setzero_ps(), v); }
CK_DW_INLINE float ck_v_sum(ck_vec v) {
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    q = _mm_add_ss(q, _mm_movehdup_ps(q));
    return _mm_cvtss_f32(q);
}
CK_DW_INLINE ck_mask ck_m_first(int64_t n) {
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    int32_t k = n <= 0 ? 0 : n >= 8 ? 8 : (int32_t)n;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), iota);
}
CK_DW_INLINE ck_vec ck_v_load_m(const float *p, ck_mask m) { return _mm256_maskload_ps(p, m); }
CK_DW_INLINE void ck_v_store_m(float *p, ck_mask m, ck_vec v) { _mm256_maskstore_ps(p, m, v); }
CK_DW_INLINE ck_vec ck_v_load_range(const float *src, int64_t start, int64_t W) {
    if (start >= 0 && start + 8 <= W) return _mm256_loadu_ps(src + start);
    int64_t lo = start < 0 ? -start : 0, hi = W - start < 8 ? W - start : 8;
    if (hi <= lo) return _mm256_setzero_ps();
    float lanes[8] __attribute__((aligned(32))) = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t j = lo; j < hi; j++) lanes[j] = src[start + j];
    return _mm256_load_ps(lanes);
}
CK_DW_INLINE ck_vec ck_v_even(ck_vec lo, ck_vec hi) {
    __m256 s = _mm256_shuffle_ps(lo, hi, 0x88);   // lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), 0xD8));
}
CK_DW_INLINE ck_vec ck_v_odd(ck_vec lo, ck_vec hi) {
    __m256 s = _mm256_shuffle_ps(lo, hi, 0xDD);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), 0xD8));
}
CK_DW_INLINE ck_vec ck_v_zip_lo(ck_vec a, ck_vec b) {
    __m256 l = _mm256_unpacklo_ps(a, b), h = _mm256_unpackhi_ps(a, b);   // a0 b0 a1 b1 | a4 b4 a5 b5; a2 b2 a3 b3 | ...
    return _mm256_permute2f128_ps(l, h, 0x20);
}
CK_DW_INLINE ck_vec ck_v_zip_hi(ck_vec a, ck_vec b) {
    __m256 l = _mm256_unpacklo_ps(a, b), h = _mm256_unpackhi_ps(a, b);
    return _mm256_permute2f128_ps(l, h, 0x31);
}

#include "ck_dwconv_body.h"

#endif /* __x86_64__ */
