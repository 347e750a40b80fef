// Internal to ConvKitCKernels: the target attributes of the per-ISA C code, defined once, and the
// marker for switch defaults that the loop bounds rule out.
#ifndef CONVKIT_CK_ISA_H
#define CONVKIT_CK_ISA_H

/// `__attribute__((target(...)))` of the AVX-512 kernels (Skylake-X and later, Zen 4 and later).
#define CK_TARGET_AVX512 "avx512f,avx512bw,avx512dq,avx512vl,fma,avx2"
/// `__attribute__((target(...)))` of the AVX2 kernels (Haswell and later, Zen and later).
#define CK_TARGET_AVX2 "avx2,fma"

/// A switch default that the callers' bounds make unreachable: trap instead of skipping work.
#define CK_UNREACHABLE() __builtin_trap()

#endif /* CONVKIT_CK_ISA_H */
