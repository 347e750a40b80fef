#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Flush-to-zero for ConvKit's own loops.
///
/// Subnormal floats (|x| < 2⁻¹²⁶) take a slow microcode path on x86: a convolution over inputs or
/// weights full of them can run 5–40× slower (PyTorch issues #21734, #23862). While a kernel runs,
/// ConvKit sets the MXCSR flags FTZ (results that would be subnormal become 0) and DAZ (subnormal
/// inputs read as 0) on every thread that executes its loops or GEMMs, and restores the previous
/// flags before returning, so the caller's floating-point state is unchanged after the call.
/// OpenBLAS's own worker threads are not touched (their state is OpenBLAS's business).
///
/// Turn it off with `ComputeContext(threads:flushesDenormals: false)` when IEEE gradual underflow
/// matters more than speed. Only x86-64 has these flags here; elsewhere this is a no-op.
public enum DenormalMode {
    /// Runs `body` with FTZ and DAZ set on the current thread when `flush` is true, then restores
    /// the thread's previous floating-point environment.
    @inlinable
    public static func run<R>(flushing flush: Bool, _ body: () throws -> R) rethrows -> R {
        #if arch(x86_64) && canImport(Glibc)
        if !flush { return try body() }
        var saved = fenv_t()
        fegetenv(&saved)
        var flushed = saved
        flushed.__mxcsr |= 0x8040          // FTZ (bit 15) | DAZ (bit 6)
        fesetenv(&flushed)
        defer { fesetenv(&saved) }
        return try body()
        #else
        return try body()
        #endif
    }

    /// `true` when the current thread flushes subnormal results to zero (FTZ set).
    public static var isFlushingOnCurrentThread: Bool {
        #if arch(x86_64) && canImport(Glibc)
        var env = fenv_t()
        fegetenv(&env)
        return env.__mxcsr & 0x8000 != 0
        #else
        return false
        #endif
    }
}
