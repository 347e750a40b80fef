// The only file of ConvKit that imports the C BLAS/LAPACK module.
import CBLAS

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin, checked wrappers over OpenBLAS (`cblas_sgemm`, thread control, diagnostics) and
/// LAPACKE (QR). Row-major throughout.
public enum BLAS {
    /// Largest dimension or leading dimension OpenBLAS accepts (its integers are 32-bit).
    public static let maxDimension = Int(Int32.max)

    /// `true` when `value` fits OpenBLAS's 32-bit integer arguments.
    @inlinable public static func fits(_ value: Int) -> Bool { value >= 0 && value <= maxDimension }

    /// Row-major single-precision GEMM:
    ///
    ///     C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C[m×n]
    ///
    /// `op(X)` is `X` or `Xᵀ` by `transA`/`transB`; `lda`, `ldb`, `ldc` are row strides
    /// (A is stored `m×k` when not transposed and `k×m` when transposed, likewise B).
    /// With `beta == 0`, C is overwritten (its old contents, NaN included, are ignored);
    /// with `beta == 1` the product is accumulated into C.
    ///
    /// Runs on the caller's thread; OpenBLAS may use its own threads inside (see
    /// ``prepareThreads(for:)``). Never call it from inside ``parallelFor(_:grain:elementsPerIndex:context:_:)``
    /// unless OpenBLAS is limited to one thread.
    ///
    /// - Precondition: every size and leading dimension fits in `Int32` (geometry values check
    ///   this, and throw, before any kernel runs), and the leading dimensions are consistent.
    @inlinable
    public static func sgemm(
        transA: Bool = false, transB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        precondition(fits(m) && fits(n) && fits(k) && fits(lda) && fits(ldb) && fits(ldc),
                     "sgemm: sizes m=\(m) n=\(n) k=\(k) lda=\(lda) ldb=\(ldb) ldc=\(ldc) exceed Int32")
        precondition(lda >= max(1, transA ? m : k) && ldb >= max(1, transB ? k : n) && ldc >= max(1, n),
                     "sgemm: leading dimensions too small")
        if m == 0 || n == 0 { return }
        cblas_sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    // MARK: Threads

    /// OpenBLAS's current thread count (process-wide).
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// Sets OpenBLAS's process-wide thread count.
    ///
    /// OpenBLAS keeps one global count for the whole process. ConvKit changes it only through
    /// ``prepareThreads(for:)``, at the start of a kernel call and on the calling thread, never
    /// while one of its own parallel loops runs. Applications that call OpenBLAS themselves from
    /// several threads should use one thread count throughout.
    public static func setThreads(_ count: Int) {
        let wanted = Int32(min(max(count, 1), 1024))
        threadLock.lock()
        if openblas_get_num_threads() != wanted { openblas_set_num_threads(wanted) }
        threadLock.unlock()
    }

    /// Makes OpenBLAS use `context.threads` threads for the GEMMs of the coming kernel call.
    /// Cheap when nothing changes (one load); called by every kernel that issues a GEMM.
    @inlinable
    public static func prepareThreads(for context: ComputeContext) {
        if threads != context.threads { setThreads(context.threads) }
    }

    @usableFromInline static let threadLock = PThreadMutex()

    // MARK: Diagnostics

    /// The OpenBLAS kernel family in use, e.g. `Haswell`, `SkylakeX`, `Cooperlake`.
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// The OpenBLAS build configuration string (version, DYNAMIC_ARCH, threading, core).
    public static var configuration: String { String(cString: openblas_get_config()) }

    /// `0` sequential build, `1` pthreads, `2` OpenMP.
    public static var parallelMode: Int { Int(openblas_get_parallel()) }

    // MARK: LAPACK

    /// Orthonormalises the columns of the column-major `rows×columns` matrix `a` in place
    /// (`rows >= columns`): QR factorisation (`sgeqrf`) then the explicit Q (`sorgqr`).
    /// Signs are fixed so that R's diagonal is non-negative (the Haar-uniform convention).
    /// Returns the LAPACK `info` code (0 on success).
    public static func orthonormalizeColumns(
        _ a: UnsafeMutableBufferPointer<Float>, rows: Int, columns: Int
    ) -> Int {
        precondition(rows >= columns && columns >= 1 && a.count >= rows * columns)
        precondition(fits(rows) && fits(columns))
        guard let base = a.baseAddress else { return -1 }
        var tau = [Float](repeating: 0, count: columns)
        var info = tau.withUnsafeMutableBufferPointer { t in
            LAPACKE_sgeqrf(LAPACK_COL_MAJOR, Int32(rows), Int32(columns), base, Int32(rows), t.baseAddress)
        }
        if info != 0 { return Int(info) }
        // Signs of R's diagonal, read before sorgqr overwrites the upper triangle.
        var signs = [Float](repeating: 1, count: columns)
        for j in 0..<columns { signs[j] = base[j * rows + j] < 0 ? -1 : 1 }
        info = tau.withUnsafeMutableBufferPointer { t in
            LAPACKE_sorgqr(LAPACK_COL_MAJOR, Int32(rows), Int32(columns), Int32(columns),
                           base, Int32(rows), t.baseAddress)
        }
        if info != 0 { return Int(info) }
        for j in 0..<columns where signs[j] < 0 {
            for i in 0..<rows { base[j * rows + i] = -base[j * rows + i] }
        }
        return 0
    }
}

/// A plain pthread mutex (no Foundation in the kernels module).
@usableFromInline
final class PThreadMutex: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }
    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }
    @usableFromInline func lock() { pthread_mutex_lock(mutex) }
    @usableFromInline func unlock() { pthread_mutex_unlock(mutex) }
}
