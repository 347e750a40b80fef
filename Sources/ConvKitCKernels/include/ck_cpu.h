#ifndef CONVKIT_CK_CPU_H
#define CONVKIT_CK_CPU_H

/// The widest vector ISA that both this CPU and its OS support (the OS must save the wider
/// registers on context switch):
///   0 = baseline x86-64 (SSE2) or a non-x86 CPU,
///   1 = AVX2 + FMA,
///   2 = AVX-512 F + BW + DQ + VL (+ AVX2 + FMA).
/// Computed once; cheap to call.
int ck_cpu_level(void);

#endif /* CONVKIT_CK_CPU_H */
