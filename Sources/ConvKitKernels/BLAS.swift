// The only file of ConvKit that imports the C BLAS/LAPACK module.
import ConvKitCBLAS

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
    /// ``withThreads(for:_:)``). Never call it from inside ``parallelFor(_:grain:elementsPerIndex:context:_:)``
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
        require(fits(m) && fits(n) && fits(k) && fits(lda) && fits(ldb) && fits(ldc),
                     "sgemm: sizes m=\(m) n=\(n) k=\(k) lda=\(lda) ldb=\(ldb) ldc=\(ldc) exceed Int32")
        require(lda >= max(1, transA ? m : k) && ldb >= max(1, transB ? k : n) && ldc >= max(1, n),
                     "sgemm: leading dimensions too small")
        if m == 0 || n == 0 { return }
        if m == 1 && k > 0 {
            // One row of C is a matrix-vector product: `cblas_sgemv` reads op(B) once, where
            // `cblas_sgemm` first packs all of it (a dense layer at batch 1: its whole weight matrix).
            // c = op(B)ᵀ · a, with a's elements `lda` apart when transposed.
            cblas_sgemv(CblasRowMajor, transB ? CblasNoTrans : CblasTrans,
                        Int32(transB ? n : k), Int32(transB ? k : n), alpha,
                        b, Int32(ldb), a, Int32(transA ? lda : 1), beta, c, 1)
            return
        }
        cblas_sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// ``sgemm(transA:transB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)`` split over `context.threads`
    /// workers by columns of C: worker `w` computes the slab of columns `[j0, j1)` (a multiple of
    /// ``parallelColumnGrain``), with `op(A)` shared and OpenBLAS at **one** thread, so ConvKit never
    /// runs OpenBLAS's own threads.
    ///
    /// Why: OpenBLAS's idle threads spin (`sched_yield`) for a while after each threaded call and
    /// take the cores that ConvKit's worker loops (im2col packing, direct, Winograd, pooling) need
    /// next (figures: docs/decisions/Decisions.md, "OpenBLAS at one thread").
    ///
    /// Every element of C is computed by one single-threaded call over the whole `k` (the split
    /// is over columns only). A given thread count always gives the same bits; across thread counts
    /// the results agree bit for bit with OpenBLAS's Cooperlake kernels, and differ by rounding with
    /// its Haswell kernels, whose blocking depends on the width of the call. Calls with fewer
    /// than `2·parallelColumnGrain` columns are split by rows instead when they have at least
    /// `2·parallelRowGrain` rows (``sgemmSplitByRows(transA:transB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:context:)``);
    /// calls under ``parallelMinimumFlops``, or too small both ways, run as one call.
    /// Call it on the caller's thread, inside ``withThreads(for:usesBLAS:_:)`` with a one-thread
    /// context (never from inside ``parallelFor(_:grain:elementsPerIndex:context:_:)``).
    @inlinable
    public static func sgemm(
        transA: Bool = false, transB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        context: ComputeContext
    ) {
        let flops = 2.0 * Double(m) * Double(n) * Double(k)
        let parts = min(context.threads, n / parallelColumnGrain)
        if parts <= 1 && flops >= parallelMinimumFlops && min(context.threads, m / parallelRowGrain) > 1 {
            sgemmSplitByRows(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                             b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, context: context)
            return
        }
        if parts <= 1 || flops < parallelMinimumFlops {
            sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                  beta: beta, c: c, ldc: ldc)
            return
        }
        require(fits(m) && fits(n) && fits(k) && fits(lda) && fits(ldb) && fits(ldc),
                     "sgemm: sizes m=\(m) n=\(n) k=\(k) lda=\(lda) ldb=\(ldb) ldc=\(ldc) exceed Int32")
        // Extents of the operands (rows × leading dimension, the last row only as long as needed).
        let aShared = SharedBuffer(readOnly: UnsafeBufferPointer(start: a, count: transA ? (k - 1) * lda + m : (m - 1) * lda + k))
        let bShared = SharedBuffer(readOnly: UnsafeBufferPointer(start: b, count: transB ? (n - 1) * ldb + k : (k - 1) * ldb + n))
        let cShared = SharedBuffer(UnsafeMutableBufferPointer(start: c, count: (m - 1) * ldc + n))
        let grains = n / parallelColumnGrain
        parallelFor(parts, context: ComputeContext(threads: parts, minimumElementsPerThread: 1,
                                                   flushesDenormals: context.flushesDenormals)) { range in
            for part in range {
                // Slab boundaries on the grain; the last slab takes the remainder.
                let j0 = part * grains / parts * parallelColumnGrain
                let j1 = part == parts - 1 ? n : (part + 1) * grains / parts * parallelColumnGrain
                sgemm(transA: transA, transB: transB, m: m, n: j1 - j0, k: k, alpha: alpha,
                      a: aShared.base, lda: lda, b: bShared.base + (transB ? j0 * ldb : j0), ldb: ldb,
                      beta: beta, c: cShared.base + j0, ldc: ldc)
            }
        }
    }

    /// The split of ``sgemm(transA:transB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:context:)`` for C too
    /// narrow to split by columns (fewer than `2·parallelColumnGrain`, e.g. one 7×7 image's 49
    /// output positions): worker `w` computes the slab of rows `[i0, i1)` (a multiple of
    /// ``parallelRowGrain``) over the whole `k`, reading its share of `op(A)` and all of `op(B)`.
    @usableFromInline
    static func sgemmSplitByRows(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, context: ComputeContext
    ) {
        require(fits(m) && fits(n) && fits(k) && fits(lda) && fits(ldb) && fits(ldc),
                     "sgemm: sizes m=\(m) n=\(n) k=\(k) lda=\(lda) ldb=\(ldb) ldc=\(ldc) exceed Int32")
        let grains = m / parallelRowGrain
        let parts = min(context.threads, grains)
        let aShared = SharedBuffer(readOnly: UnsafeBufferPointer(start: a, count: transA ? (k - 1) * lda + m : (m - 1) * lda + k))
        let bShared = SharedBuffer(readOnly: UnsafeBufferPointer(start: b, count: transB ? (n - 1) * ldb + k : (k - 1) * ldb + n))
        let cShared = SharedBuffer(UnsafeMutableBufferPointer(start: c, count: (m - 1) * ldc + n))
        parallelFor(parts, context: ComputeContext(threads: parts, minimumElementsPerThread: 1,
                                                   flushesDenormals: context.flushesDenormals)) { range in
            for part in range {
                let i0 = part * grains / parts * parallelRowGrain
                let i1 = part == parts - 1 ? m : (part + 1) * grains / parts * parallelRowGrain
                sgemm(transA: transA, transB: transB, m: i1 - i0, n: n, k: k, alpha: alpha,
                      a: aShared.base + (transA ? i0 : i0 * lda), lda: lda, b: bShared.base, ldb: ldb,
                      beta: beta, c: cShared.base + i0 * ldc, ldc: ldc)
            }
        }
    }

    /// Rows per unit of the row split (``sgemmSplitByRows(transA:transB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:context:)``):
    /// a multiple of OpenBLAS's AVX-512 micro-tile heights.
    public static let parallelRowGrain = 64

    /// Columns per unit of ``sgemm(transA:transB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:context:)``'s
    /// split (a multiple of OpenBLAS's 16-wide AVX-512 micro-tile).
    public static let parallelColumnGrain = 64

    /// Smallest GEMM (flops) that the parallel ``sgemm(transA:transB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:context:)``
    /// splits: below 2²², waking a worker costs more than half the work gains.
    public static let parallelMinimumFlops = Double(1 << 22)

    // MARK: Threads

    /// OpenBLAS's current thread count (process-wide).
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// Sets OpenBLAS's process-wide thread count (waits until no ConvKit call is using OpenBLAS).
    ///
    /// For applications that call OpenBLAS themselves; ConvKit's kernels set the count through
    /// ``withThreads(for:_:)``.
    public static func setThreads(_ count: Int) {
        withThreads(for: ComputeContext(threads: count)) {}
    }

    /// Runs `body` with OpenBLAS set to `context.threads` threads, and keeps that count until `body`
    /// returns.
    ///
    /// OpenBLAS keeps one thread count for the whole process. Every ConvKit kernel that issues GEMMs
    /// runs inside this function, which works like a readers–writer gate keyed by the count: calls
    /// wanting the count in force run concurrently; a call wanting another count waits until they
    /// finish, sets it, and proceeds. So each GEMM runs with exactly its caller's thread count, and
    /// results never depend on what other threads are doing. The count is only changed here, on a
    /// caller's thread, never from inside ConvKit's parallel loops.
    ///
    /// With `usesBLAS == false` (an algorithm that issues no GEMM), `body` just runs.
    @inlinable
    public static func withThreads<R>(for context: ComputeContext, usesBLAS: Bool = true,
                                      _ body: () throws -> R) rethrows -> R {
        if !usesBLAS { return try body() }
        gate.enter(threads: Int32(min(max(context.threads, 1), 1024)))
        defer { gate.leave() }
        // GEMMs run on the caller's thread: flush subnormals there too (restored on return).
        return try DenormalMode.run(flushing: context.flushesDenormals, body)
    }

    /// Sets OpenBLAS to `context.threads` threads when no ConvKit call is running GEMMs.
    public static func prepareThreads(for context: ComputeContext) {
        withThreads(for: context) {}
    }

    @usableFromInline static let gate = ThreadGate()

    // MARK: Diagnostics

    /// The OpenBLAS kernel family in use, e.g. `Haswell`, `SkylakeX`, `Cooperlake`.
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// The OpenBLAS build configuration string (version, DYNAMIC_ARCH, threading, core).
    public static var configuration: String { String(cString: openblas_get_config()) }

    // MARK: LAPACK

    /// Orthonormalises the columns of the column-major `rows×columns` matrix `a` in place
    /// (`rows >= columns`): QR factorisation (`sgeqrf`) then the explicit Q (`sorgqr`).
    /// Signs are fixed so that R's diagonal is non-negative (the Haar-uniform convention).
    /// Returns the LAPACK `info` code (0 on success).
    public static func orthonormalizeColumns(
        _ a: UnsafeMutableBufferPointer<Float>, rows: Int, columns: Int
    ) -> Int {
        require(rows >= columns && columns >= 1 && a.count >= rows * columns,
                "orthonormalizeColumns needs rows >= columns >= 1 and \(rows * columns) floats, got \(rows)x\(columns) and \(a.count)")
        require(fits(rows) && fits(columns), "orthonormalizeColumns: \(rows)x\(columns) exceeds LAPACK's 32-bit sizes")
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

/// The readers–writer gate behind ``BLAS/withThreads(for:_:)``: any number of holders that want
/// the OpenBLAS thread count in force; a holder wanting another count waits for them to leave.
/// (pthread mutex + condition variable; no Foundation in the kernels module.)
@usableFromInline
final class ThreadGate: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let changed: UnsafeMutablePointer<pthread_cond_t>
    private var active = 0

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        changed = .allocate(capacity: 1)
        changed.initialize(to: pthread_cond_t())
        pthread_cond_init(changed, nil)
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        changed.deallocate()
        mutex.deallocate()
    }

    @usableFromInline func enter(threads: Int32) {
        pthread_mutex_lock(mutex)
        while active > 0 && openblas_get_num_threads() != threads {
            pthread_cond_wait(changed, mutex)
        }
        if openblas_get_num_threads() != threads { openblas_set_num_threads(threads) }
        active += 1
        pthread_mutex_unlock(mutex)
    }

    @usableFromInline func leave() {
        pthread_mutex_lock(mutex)
        active -= 1
        if active == 0 { pthread_cond_broadcast(changed) }
        pthread_mutex_unlock(mutex)
    }
}
