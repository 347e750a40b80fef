import Glibc

/// Where tensor elements live: 64-byte aligned blocks, and a cache of freed large blocks that
/// the next tensor of the same size reuses.
///
/// A training step or an inference call allocates the same tensor sizes every time. Returning
/// large blocks to the system and asking again costs a page fault per 4 KiB page on the next
/// touch (glibc serves blocks above its mmap threshold, 128 KiB to 32 MiB, with fresh pages),
/// which can cost more than the layer itself; so blocks of at least ``cachedBlockBytes`` go
/// back to a cache keyed by size instead (as PyTorch's CUDA caching allocator does), and from
/// the second call on a model's tensors come from it. Smaller blocks go to `malloc`'s own bins.
///
/// The cache holds at most ``cacheLimit`` bytes (a block that would exceed it is freed);
/// ``releaseCache()`` empties it.
public enum TensorMemory {
    /// Blocks of at least this many bytes are cached when freed (64 KiB).
    public static let cachedBlockBytes = 64 << 10

    /// Counters since the process started (``statistics``).
    public struct Statistics: Sendable, Equatable {
        /// Large blocks taken from the system (`posix_memalign`).
        public var systemAllocations: Int
        /// Large blocks served from the cache.
        public var cacheHits: Int
        /// Bytes held by the cache now.
        public var cachedBytes: Int
    }

    fileprivate struct State {
        /// Cached blocks by size (addresses as integers: pointers are not `Sendable`).
        var free: [Int: [UInt]] = [:]
        var cachedBytes = 0
        var limit = TensorMemory.defaultLimit
        var systemAllocations = 0
        var cacheHits = 0
    }

    private static let state = LockedState()

    /// A quarter of the machine's physical memory.
    static let defaultLimit: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        return pages > 0 && size > 0 ? pages * size / 4 : 1 << 30
    }()

    /// The most bytes the cache keeps (default: a quarter of physical memory). Lowering it frees
    /// cached blocks until the cache fits.
    public static var cacheLimit: Int {
        get { state.withLock { $0.limit } }
        set {
            let limit = max(0, newValue)
            let evicted = state.withLock { s -> [UInt] in
                s.limit = limit
                var out: [UInt] = []
                for size in s.free.keys.sorted(by: >) where s.cachedBytes > limit {
                    while s.cachedBytes > limit, let p = s.free[size]?.popLast() {
                        s.cachedBytes -= size
                        out.append(p)
                    }
                }
                return out
            }
            evicted.forEach { free(UnsafeMutableRawPointer(bitPattern: $0)) }
        }
    }

    /// Frees every cached block.
    public static func releaseCache() {
        let blocks = state.withLock { s -> [UInt] in
            let all = s.free.values.flatMap { $0 }
            s.free.removeAll()
            s.cachedBytes = 0
            return all
        }
        blocks.forEach { free(UnsafeMutableRawPointer(bitPattern: $0)) }
    }

    /// Large blocks the calling thread has taken from the system so far: constant across the
    /// steady-state steps of a model (every tensor comes from the cache), whatever other threads do.
    public static var systemAllocationsOnThisThread: Int { threadCounter().pointee }

    private static let threadCounterKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { free($0) }
        return key
    }()

    /// This thread's counter (`malloc`ed on its first use, freed when the thread exits).
    private static func threadCounter() -> UnsafeMutablePointer<Int> {
        if let raw = pthread_getspecific(threadCounterKey) { return raw.assumingMemoryBound(to: Int.self) }
        guard let raw = malloc(MemoryLayout<Int>.size) else { fatalError("ConvKit: out of memory") }
        let counter = raw.initializeMemory(as: Int.self, repeating: 0, count: 1)
        pthread_setspecific(threadCounterKey, raw)
        return counter
    }

    public static var statistics: Statistics {
        state.withLock { Statistics(systemAllocations: $0.systemAllocations, cacheHits: $0.cacheHits, cachedBytes: $0.cachedBytes) }
    }

    /// Rounded size of a block for `count` floats: a multiple of 64 bytes, at least 64.
    @inline(__always)
    static func blockBytes(_ count: Int) -> Int { max(64, (count * MemoryLayout<Float>.stride + 63) & ~63) }

    /// Memory for `count` floats (uninitialised), 64-byte aligned.
    static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let bytes = blockBytes(count)
        if bytes >= cachedBlockBytes {
            let cached = state.withLock { s -> UInt? in
                if let p = s.free[bytes]?.popLast() {
                    s.cachedBytes -= bytes
                    s.cacheHits += 1
                    return p
                }
                s.systemAllocations += 1
                return nil
            }
            if let cached, let p = UnsafeMutableRawPointer(bitPattern: cached) {
                return p.bindMemory(to: Float.self, capacity: bytes / 4)
            }
            threadCounter().pointee += 1
        }
        var raw: UnsafeMutableRawPointer?
        let status = posix_memalign(&raw, 64, bytes)
        guard status == 0, let raw else {
            fatalError("ConvKit: out of memory allocating a tensor of \(count) floats (\(bytes) bytes)")
        }
        return raw.bindMemory(to: Float.self, capacity: bytes / 4)
    }

    /// Returns the memory of a block of `count` floats (to the cache when it is large and fits).
    static func release(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        let bytes = blockBytes(count)
        let raw = UnsafeMutableRawPointer(pointer)
        if bytes >= cachedBlockBytes {
            let kept = state.withLock { s -> Bool in
                if s.cachedBytes + bytes > s.limit { return false }
                s.free[bytes, default: []].append(UInt(bitPattern: raw))
                s.cachedBytes += bytes
                return true
            }
            if kept { return }
        }
        free(raw)
    }
}

/// ``TensorMemory``'s state behind a pthread mutex (which ThreadSanitizer models; it does not see
/// the futex inside `Synchronization.Mutex` and reports its critical sections as races).
private final class LockedState: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var state = TensorMemory.State()

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<R>(_ body: (inout TensorMemory.State) -> R) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body(&state)
    }
}

/// The elements of a tensor: one block of ``TensorMemory``, freed (or cached) with the last
/// reference. Mutated only through a uniquely referenced instance (``Tensor``'s copy on write).
final class TensorStorage: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
    let count: Int

    /// `count` uninitialised floats.
    init(uninitializedCount count: Int) {
        self.count = count
        self.base = TensorMemory.allocate(count)
    }

    /// `count` copies of `value`.
    convenience init(count: Int, repeating value: Float) {
        self.init(uninitializedCount: count)
        base.initialize(repeating: value, count: count)
    }

    /// A copy of `scalars`.
    convenience init(_ scalars: UnsafeBufferPointer<Float>) {
        self.init(uninitializedCount: scalars.count)
        if let source = scalars.baseAddress { base.initialize(from: source, count: scalars.count) }
    }

    func copy() -> TensorStorage { TensorStorage(buffer) }

    var buffer: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: base, count: count) }
    var mutableBuffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: base, count: count) }

    deinit { TensorMemory.release(base, count: count) }
}

/// Floats that a kernel overwrites before they become a tensor's elements (layer outputs,
/// gradients, workspaces): ``TensorMemory`` blocks, zero-filled so that a result is never
/// uninitialised memory. Same access as an array; `Tensor(uncheckedShape:scalars:)` adopts the
/// block without a copy. Internal and never shared before adoption: no copy on write.
struct Scratch {
    let storage: TensorStorage

    init(count: Int) { storage = TensorStorage(count: count, repeating: 0) }

    /// A copy of `tensor`'s elements.
    init(copying tensor: Tensor) { storage = tensor.withUnsafeBufferPointer { TensorStorage($0) } }

    var count: Int { storage.count }

    /// The elements as an array (a copy).
    var array: [Float] { withUnsafeBufferPointer { Array($0) } }

    // Every raw pointer is used inside `withExtendedLifetime`: the optimiser may otherwise
    // release the storage as soon as the pointer is read.
    func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try withExtendedLifetime(storage) { try body($0.buffer) }
    }

    mutating func withUnsafeMutableBufferPointer<R>(_ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        var buffer = storage.mutableBuffer
        return try withExtendedLifetime(storage) { _ in try body(&buffer) }
    }

    subscript(index: Int) -> Float {
        get { withExtendedLifetime(storage) { $0.base[index] } }
        nonmutating set { withExtendedLifetime(storage) { $0.base[index] = newValue } }
    }
}
