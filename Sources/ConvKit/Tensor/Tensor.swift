/// A dense, row-major array of `Float` with a ``Shape``: the value type of the layer API.
///
/// A `Tensor` has value semantics with copy-on-write: copying is O(1), and the first mutation
/// of a shared copy duplicates the elements. Elements live in 64-byte aligned blocks that
/// ``TensorMemory`` reuses once freed. Raw pointers are only available inside
/// ``withUnsafeBufferPointer(_:)`` / ``withUnsafeMutableBufferPointer(_:)`` and must not escape
/// the closure.
///
/// Layouts follow the kernels: images NCHW `[batch, channels, height, width]`, convolution
/// filters OIHW, dense weights `[outputFeatures, inputFeatures]`.
public struct Tensor: Sendable, Equatable, CustomStringConvertible {
    /// The dimensions; `count == shape.count` always holds.
    public private(set) var shape: Shape
    private var storage: TensorStorage

    /// The elements in row-major order, as a new array (O(count) per access: loops use
    /// ``subscript(flat:)`` or ``withUnsafeBufferPointer(_:)``).
    public var scalars: [Float] { withUnsafeBufferPointer { Array($0) } }

    /// A tensor holding `scalars` in row-major order.
    ///
    /// - Throws: ``ShapeError`` `.mismatch` when `scalars.count` is not the product of `shape`.
    public init(shape: Shape, scalars: [Float]) throws(ShapeError) {
        if scalars.count != shape.count {
            throw ShapeError(.mismatch,
                "tensor of shape \(shape) needs \(shape.count) scalars, got \(scalars.count)")
        }
        self.shape = shape
        self.storage = scalars.withUnsafeBufferPointer { TensorStorage($0) }
    }

    /// A tensor of shape `shape` with every element equal to `value`.
    public init(shape: Shape, repeating value: Float = 0) {
        self.shape = shape
        self.storage = TensorStorage(count: shape.count, repeating: value)
    }

    /// A tensor of shape `shape` filled with zeros.
    public static func zeros(_ shape: Shape) -> Tensor { Tensor(shape: shape, repeating: 0) }

    /// A rank-1 tensor of the given scalars.
    public init(_ scalars: [Float]) {
        self.shape = Shape(uncheckedDimensions: [scalars.count], count: scalars.count)
        self.storage = scalars.withUnsafeBufferPointer { TensorStorage($0) }
    }

    /// Adopts `scratch`'s block (no copy); shapes already known to agree (internal use).
    init(uncheckedShape shape: Shape, scalars: Scratch) {
        require(shape.count == scalars.count, "internal: \(shape) vs \(scalars.count) scalars")
        self.shape = shape
        self.storage = scalars.storage
    }

    /// Number of elements.
    public var count: Int { storage.count }

    /// The same elements with another shape of the same element count (O(1), shares storage).
    ///
    /// - Throws: ``ShapeError`` `.mismatch` naming both shapes when the counts differ.
    public func reshaped(to newShape: Shape) throws(ShapeError) -> Tensor {
        if newShape.count != shape.count {
            throw ShapeError(.mismatch,
                "cannot reshape \(shape) (\(shape.count) elements) to \(newShape) (\(newShape.count) elements)")
        }
        var copy = self
        copy.shape = newShape
        return copy
    }

    /// Calls `body` with a pointer to the elements (row-major). The pointer is valid only
    /// inside `body`.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try withExtendedLifetime(storage) { try body($0.buffer) }
    }

    /// Calls `body` with a mutable pointer to the elements (copying them first if the storage is
    /// shared). The pointer is valid only inside `body`; the shape cannot change.
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        makeUnique()
        var buffer = storage.mutableBuffer
        return try withExtendedLifetime(storage) { _ in try body(&buffer) }
    }

    /// Copies the elements unless this tensor is their only owner (copy on write).
    @inline(never)
    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    /// The element at row-major position `index`.
    public subscript(flat index: Int) -> Float {
        get {
            precondition(index >= 0 && index < count, "Tensor index out of range")
            return withExtendedLifetime(storage) { $0.base[index] }
        }
        _modify {
            precondition(index >= 0 && index < count, "Tensor index out of range")
            makeUnique()
            defer { _fixLifetime(storage) }
            yield &storage.base[index]
        }
    }

    /// Same shape and equal elements (`==` per element, so a NaN makes two tensors unequal,
    /// except that a tensor equals its own copy, as arrays do).
    public static func == (a: Tensor, b: Tensor) -> Bool {
        if a.shape != b.shape { return false }
        if a.storage === b.storage { return true }
        return a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in x.elementsEqual(y) } }
    }

    public var description: String {
        let head = withUnsafeBufferPointer { Array($0.prefix(8)) }.map { "\($0)" }.joined(separator: ", ")
        return "Tensor(\(shape): [\(head)\(count > 8 ? ", …" : "")])"
    }
}

extension Shape {
    /// For shapes already known to be valid (internal use).
    init(uncheckedDimensions: [Int], count: Int) {
        self.dimensions = uncheckedDimensions
        self.count = count
    }
}
