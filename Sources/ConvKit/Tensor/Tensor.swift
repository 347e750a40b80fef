/// A dense, row-major array of `Float` with a ``Shape``: the value type of the layer API.
///
/// Storage is a Swift array, so a `Tensor` has value semantics with copy-on-write: copying is
/// O(1), and the first mutation of a shared copy duplicates the elements. Raw pointers are only
/// available inside ``withUnsafeBufferPointer(_:)`` / ``withUnsafeMutableBufferPointer(_:)``
/// and must not escape the closure.
///
/// Layouts follow the kernels: images NCHW `[batch, channels, height, width]`, convolution
/// filters OIHW, dense weights `[outputFeatures, inputFeatures]`.
public struct Tensor: Sendable, Equatable, CustomStringConvertible {
    /// The dimensions; `scalars.count == shape.count` always holds.
    public private(set) var shape: Shape
    /// The elements in row-major order.
    public private(set) var scalars: [Float]

    /// A tensor holding `scalars` in row-major order.
    ///
    /// - Throws: ``ShapeError`` `.mismatch` when `scalars.count` is not the product of `shape`.
    public init(shape: Shape, scalars: [Float]) throws(ShapeError) {
        if scalars.count != shape.count {
            throw ShapeError(.mismatch,
                "tensor of shape \(shape) needs \(shape.count) scalars, got \(scalars.count)")
        }
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of shape `shape` with every element equal to `value`.
    public init(shape: Shape, repeating value: Float = 0) {
        self.shape = shape
        self.scalars = [Float](repeating: value, count: shape.count)
    }

    /// A tensor of shape `shape` filled with zeros.
    public static func zeros(_ shape: Shape) -> Tensor { Tensor(shape: shape, repeating: 0) }

    /// A rank-1 tensor of the given scalars.
    public init(_ scalars: [Float]) {
        self.shape = Shape(uncheckedDimensions: [scalars.count], count: scalars.count)
        self.scalars = scalars
    }

    /// Number of elements.
    public var count: Int { scalars.count }

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
        try scalars.withUnsafeBufferPointer(body)
    }

    /// Calls `body` with a mutable pointer to the elements (copying them first if the storage is
    /// shared). The pointer is valid only inside `body`; the shape cannot change.

    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        try scalars.withUnsafeMutableBufferPointer(body)
    }

    /// The element at row-major position `index`.
    public subscript(flat index: Int) -> Float {
        get { scalars[index] }
        set { scalars[index] = newValue }
    }

    public var description: String {
        let head = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(\(shape): [\(head)\(scalars.count > 8 ? ", …" : "")])"
    }
}

extension Shape {
    /// For shapes already known to be valid (internal use).
    init(uncheckedDimensions: [Int], count: Int) {
        self.dimensions = uncheckedDimensions
        self.count = count
    }
}
