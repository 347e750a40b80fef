import _ConvKitTestSupport

/// A 64-byte-aligned heap buffer of floats owned by the benchmark (freed on deinit).
/// The runner works on raw buffers because the kernels do; this keeps the pointers' lifetime
/// tied to one object instead of nested `withUnsafe…` scopes.
final class FloatBuffer {
    let pointer: UnsafeMutableBufferPointer<Float>

    init(count: Int, value: Float = 0) {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<Float>.stride, alignment: 64)
        let base = raw.initializeMemory(as: Float.self, repeating: value, count: max(1, count))
        pointer = UnsafeMutableBufferPointer(start: base, count: count)
    }

    /// `count` floats uniform in `range` from a fixed seed.
    convenience init(random count: Int, seed: UInt64, in range: ClosedRange<Float> = -1...1) {
        self.init(count: count)
        var rng = SplitMix64(seed: seed)
        for i in 0..<count { pointer[i] = rng.uniform(in: range) }
    }

    /// A buffer holding `|source[i]|` (for error magnitudes Σ|a·b|).
    convenience init(absoluteValuesOf source: FloatBuffer) {
        self.init(count: source.count)
        for i in 0..<source.count { pointer[i] = abs(source.pointer[i]) }
    }

    deinit {
        if let base = pointer.baseAddress { UnsafeMutableRawPointer(base).deallocate() }
    }

    var count: Int { pointer.count }
    var read: UnsafeBufferPointer<Float> { UnsafeBufferPointer(pointer) }
    var mutable: UnsafeMutableBufferPointer<Float> { pointer }

    func fill(_ value: Float) { pointer.update(repeating: value) }

    /// The first `count` elements, copied.
    func prefix(_ count: Int) -> [Float] { Array(pointer[0..<count]) }
}
