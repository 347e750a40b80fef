#ifndef CONVKIT_CK_ACTIVATION_H
#define CONVKIT_CK_ACTIVATION_H

// Element-wise activation kernels (AVX-512), single-threaded over one contiguous range: the
// caller (Swift, `parallelFor`) splits the work.

#include <stddef.h>
#include <stdint.h>

/// ReLU forward, `y[i] = x[i] < 0 ? 0 : x[i]` for `i` in `0 ..< count` (NaN and −0 are kept, as
/// in ConvKit's naive reference). **Overwrites** `y`; `y == x` (in place) is allowed, partial
/// overlap is not.
///
/// `streaming` nonzero: the stores bypass the caches (`vmovntps`, then `sfence`), which saves the
/// read-for-ownership of `y` when the output is much larger than the caches and not read soon;
/// never use it in place or for outputs that fit in the cache. Call only when `ck_cpu_level() >= 2`.
void ck_relu_forward_avx512(const float *x, float *y, int64_t count, int streaming);

#endif /* CONVKIT_CK_ACTIVATION_H */
