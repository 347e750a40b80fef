/// How much parallelism one kernel call may use.
///
/// Every kernel takes a context; there is no global thread count and nothing is read from the
/// environment. ``default`` uses every core the process may run on (what the layer API's
/// `context:` parameters default to, as PyTorch and BLAS libraries use all cores by default);
/// ``serial`` runs everything on the caller's thread; `ComputeContext(threads: n)` caps a call at
/// `n` threads.
///
/// The thread count bounds ConvKit's own loops (im2col, col2im, bias, pooling, activations, the
/// direct and Winograd workers, and GEMMs split by columns), which run in at most `threads` chunks
/// on ConvKit's persistent workers (see ``parallelFor(_:grain:elementsPerIndex:context:_:)`` and
/// ``WorkerPool``). OpenBLAS runs
/// at one thread inside every ConvKit kernel (see ``BLAS/withThreads(for:usesBLAS:_:)``): its idle
/// threads spin for a while after a threaded call and take the cores ConvKit's loops need next.
public struct ComputeContext: Sendable, Hashable, CustomStringConvertible {
    /// Upper bound on the threads a call may keep busy (>= 1).
    public let threads: Int

    /// Work items of a `parallelFor` smaller than this many elements are not split further.
    /// Splitting has a cost (a few µs to hand a chunk to a worker), so tiny loops stay serial.
    public let minimumElementsPerThread: Int

    /// Whether kernels flush subnormal floats to zero while they run (see ``DenormalMode``);
    /// the caller's floating-point state is restored afterwards either way.
    public let flushesDenormals: Bool

    /// The widest vector instructions kernels may use: at most ``SIMDLevel/detected``.
    /// Lowering it selects the portable paths (tests do so to check every path on one machine).
    public let simdLevel: SIMDLevel

    /// Everything on the caller's thread; OpenBLAS limited to one thread.
    public static let serial = ComputeContext(uncheckedThreads: 1)

    /// A context allowing `threads` threads; `threads` is clamped to `1...256`.
    /// `simdLevel` is clamped to what the CPU supports (``SIMDLevel/detected``).
    public init(threads: Int, minimumElementsPerThread: Int = 1 << 15, flushesDenormals: Bool = true,
                simdLevel: SIMDLevel = .detected) {
        self.threads = min(max(threads, 1), 256)
        self.minimumElementsPerThread = max(1, minimumElementsPerThread)
        self.flushesDenormals = flushesDenormals
        self.simdLevel = min(simdLevel, SIMDLevel.detected)
    }

    /// The context OpenBLAS runs under inside ConvKit's kernels: one thread (ConvKit splits GEMMs
    /// over its own workers instead, see ``BLAS/sgemm(transA:transB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:context:)``),
    /// with this context's denormal policy.
    public var blasSerial: ComputeContext {
        ComputeContext(threads: 1, flushesDenormals: flushesDenormals)
    }

    /// This context with another vector-instruction limit (clamped to ``SIMDLevel/detected``).
    public func with(simdLevel: SIMDLevel) -> ComputeContext {
        ComputeContext(threads: threads, minimumElementsPerThread: minimumElementsPerThread,
                       flushesDenormals: flushesDenormals, simdLevel: simdLevel)
    }

    init(uncheckedThreads: Int) {
        self.threads = uncheckedThreads
        self.minimumElementsPerThread = 1 << 15
        self.flushesDenormals = true
        self.simdLevel = SIMDLevel.detected
    }

    /// The number of online processors.
    public static var availableCores: Int {
        // Online processors. (cgroup CPU quotas are not seen here; pass an explicit count there.)
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// The cores this process may run on: on Linux the CPUs of its affinity mask
    /// (`sched_getaffinity`, so `taskset` and container CPU sets are respected), at most
    /// ``availableCores`` and at least 1; elsewhere ``availableCores``. CPU quotas (cgroup
    /// `cpu.max`) are not seen: under a quota, pass an explicit count.
    public static var usableCores: Int {
        min(availableCores, max(1, affinityCoreCount() ?? availableCores))
    }

    /// Every core the process may use (``usableCores``, counted once, at first use), with the
    /// default grain, denormal flushing and the detected SIMD level.
    ///
    /// The default of every `context:` parameter of the layer API. Results do not depend on the
    /// thread count beyond float rounding, and the same inputs and thread count give bit-identical
    /// results; pass ``serial`` or `ComputeContext(threads: n)` to cap the parallelism (inside an
    /// application that already runs one call per core, for instance).
    public static let `default` = ComputeContext(threads: usableCores)

    public var description: String { "ComputeContext(threads: \(threads), simd: \(simdLevel))" }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The number of CPUs in this process's affinity mask, or `nil` where it cannot be read.
/// `sched_getaffinity` is looked up at run time: Swift's Glibc module does not declare it
/// (it needs `_GNU_SOURCE`).
private func affinityCoreCount() -> Int? {
    #if os(Linux)
    typealias GetAffinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer) -> Int32
    // RTLD_DEFAULT is the null handle on glibc.
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sched_getaffinity") else { return nil }
    let getAffinity = unsafeBitCast(symbol, to: GetAffinity.self)
    var mask = [UInt64](repeating: 0, count: 1024)   // room for 65,536 CPUs
    let status = mask.withUnsafeMutableBytes { bytes in
        bytes.baseAddress.map { getAffinity(0, bytes.count, $0) } ?? -1
    }
    guard status == 0 else { return nil }
    return mask.reduce(0) { $0 + $1.nonzeroBitCount }
    #else
    return nil
    #endif
}

/// A raw buffer shared with the work items of ``parallelFor(_:grain:context:_:)``.
///
/// This is the single `@unchecked Sendable` type of ConvKit: Swift 6 (rightly) refuses raw
/// pointers in `@Sendable` closures, and kernels need to hand disjoint parts of one buffer to
/// several threads. The caller promises that concurrent work items touch disjoint elements
/// (or only read), and that the memory outlives the `parallelFor` call.
public struct SharedBuffer<Element>: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Element>
    public let count: Int

    @inlinable public init(_ buffer: UnsafeMutableBufferPointer<Element>) {
        self.base = buffer.baseAddress ?? UnsafeMutablePointer<Element>(bitPattern: MemoryLayout<Element>.alignment)!
        self.count = buffer.count
    }

    /// Read-only sharing of an immutable buffer (the pointer is only ever read through).
    @inlinable public init(readOnly buffer: UnsafeBufferPointer<Element>) {
        self.base = UnsafeMutablePointer(mutating: buffer.baseAddress
            ?? UnsafePointer<Element>(bitPattern: MemoryLayout<Element>.alignment)!)
        self.count = buffer.count
    }

    @inlinable public subscript(i: Int) -> Element {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }
}

/// Runs `body` over `0..<count`, split into contiguous ranges, on up to `context.threads` threads.
///
/// - Each range holds at least `grain` indices (and, when `elementsPerIndex` is given, at least
///   `context.minimumElementsPerThread / elementsPerIndex` of them), so small loops run serially
///   on the caller's thread with no hand-off cost.
/// - Ranges are disjoint and cover `0..<count` exactly once; with `chunks` ranges, range `c` is
///   `c * count / chunks ..< (c + 1) * count / chunks`. The split depends only on `count`, `grain`
///   and the context, so results do not depend on scheduling.
/// - The caller runs range 0 and ``WorkerPool``'s workers the others (a free thread takes a range
///   nobody has started). Called from inside a range
///   (nested), or while another thread's loop holds the workers, the caller runs every range
///   itself, in order (threading never nests; concurrent callers never wait for each other).
/// - Never call a threaded BLAS routine inside `body`.
/// - Each range runs with subnormals flushed to zero when `context.flushesDenormals` (the
///   thread's floating-point state is restored afterwards).
@inlinable
public func parallelFor(
    _ count: Int, grain: Int = 1, elementsPerIndex: Int = 1, context: ComputeContext,
    _ body: @Sendable (Range<Int>) -> Void
) {
    if count <= 0 { return }
    let minPerChunkFromWork = max(1, context.minimumElementsPerThread / max(1, elementsPerIndex))
    let minChunk = max(grain, minPerChunkFromWork)
    let chunks = min(context.threads, max(1, count / minChunk))
    let flush = context.flushesDenormals
    if chunks <= 1 {
        DenormalMode.run(flushing: flush) { body(0..<count) }
        return
    }
    runChunks(count, chunks: chunks, flush: flush, body)
}
