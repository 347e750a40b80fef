import ConvKitCKernels

/// The widest vector instructions a kernel may use.
///
/// ConvKit's portable kernels are Swift `SIMD` code, which Swift on Linux compiles for baseline
/// x86-64 (SSE2). A few hot kernels also have AVX2+FMA and AVX-512 versions in the internal C
/// module `ConvKitCKernels`, each compiled for its instruction set alone and called only when
/// the CPU (and OS) support it, so one binary runs everywhere and uses what the machine has.
/// See `docs/SIMD.md` for which kernels have which versions and what they gain.
public enum SIMDLevel: Int, Comparable, CaseIterable, Sendable, CustomStringConvertible {
    /// Portable Swift `SIMD` code (SSE2 on x86-64).
    case portable = 0
    /// AVX2 with FMA (256-bit vectors).
    case avx2 = 1
    /// AVX-512 F/BW/DQ/VL (512-bit vectors and mask registers).
    case avx512 = 2

    /// What this CPU and its operating system support (detected once).
    public static let detected: SIMDLevel = SIMDLevel(rawValue: Int(ck_cpu_level())) ?? .portable

    public static func < (a: SIMDLevel, b: SIMDLevel) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        switch self {
        case .portable: return "portable"
        case .avx2: return "avx2"
        case .avx512: return "avx512"
        }
    }
}
