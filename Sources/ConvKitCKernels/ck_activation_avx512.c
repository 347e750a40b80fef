// AVX-512 activation kernels (see include/ck_activation.h).
#include "ck_isa.h"
#include "include/ck_activation.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define CK_AVX512 __attribute__((target(CK_TARGET_AVX512)))
#define CK_AVX512_INLINE static inline __attribute__((always_inline, target(CK_TARGET_AVX512)))

/// ReLU of one vector: lanes below zero (ordered compare: NaN is not) become +0.
CK_AVX512_INLINE __m512 ck512_relu(__m512 v) {
    return _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ), _mm512_setzero_ps());
}

CK_AVX512 void ck_relu_forward_avx512(const float *x, float *y, int64_t count, int streaming) {
    int64_t i = 0;
    if (streaming) {
        // Cached, masked stores up to the first 64-byte boundary of y, then whole-line streams.
        int64_t head = (int64_t)(((64 - ((uintptr_t)y & 63)) & 63) / 4);
        if (head > count) head = count;
        if (head > 0) {
            __mmask16 lanes = (__mmask16)((1u << (unsigned)head) - 1u);
            _mm512_mask_storeu_ps(y, lanes, ck512_relu(_mm512_maskz_loadu_ps(lanes, x)));
            i = head;
        }
        for (; i + 32 <= count; i += 32) {
            __m512 a = ck512_relu(_mm512_loadu_ps(x + i)), b = ck512_relu(_mm512_loadu_ps(x + i + 16));
            _mm512_stream_ps(y + i, a);
            _mm512_stream_ps(y + i + 16, b);
        }
        for (; i + 16 <= count; i += 16) _mm512_stream_ps(y + i, ck512_relu(_mm512_loadu_ps(x + i)));
        _mm_sfence();   // the streamed stores are visible before this function returns
    } else {
        for (; i + 32 <= count; i += 32) {
            __m512 a = ck512_relu(_mm512_loadu_ps(x + i)), b = ck512_relu(_mm512_loadu_ps(x + i + 16));
            _mm512_storeu_ps(y + i, a);
            _mm512_storeu_ps(y + i + 16, b);
        }
        for (; i + 16 <= count; i += 16) _mm512_storeu_ps(y + i, ck512_relu(_mm512_loadu_ps(x + i)));
    }
    if (i < count) {
        __mmask16 lanes = (__mmask16)((1u << (unsigned)(count - i)) - 1u);
        _mm512_mask_storeu_ps(y + i, lanes, ck512_relu(_mm512_maskz_loadu_ps(lanes, x + i)));
    }
}

#else
// Not x86: ck_cpu_level() is 0, so this is never called; it exists for the linker.
void ck_relu_forward_avx512(const float *x, float *y, int64_t count, int streaming) {
    (void)x; (void)y; (void)count; (void)streaming;
    __builtin_trap();
}
#endif
