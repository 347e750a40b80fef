/// The dimensions of a ``Tensor``, outermost first (row-major).
///
/// Image tensors are NCHW: `[batch, channels, height, width]`; filters are OIHW:
/// `[outputChannels, inputChannels / groups, kernelHeight, kernelWidth]`; dense activations are
/// `[batch, features]`. A rank-0 shape `[]` holds one element.
public struct Shape: Hashable, Sendable, CustomStringConvertible, ExpressibleByArrayLiteral {
    /// The sizes of each axis, outermost first; every entry is `>= 0`.
    public let dimensions: [Int]
    /// The number of elements: the product of the dimensions (1 for rank 0).
    public let count: Int

    /// Creates a shape, checking that every dimension is non-negative and that the byte size of
    /// its elements (count × 4) fits in `Int`, in any axis order.
    ///
    /// - Throws: ``ShapeError`` `.nonPositive` for a negative dimension, `.overflow` when the
    ///   byte size overflows.
    public init(_ dimensions: [Int]) throws(ShapeError) {
        for (axis, d) in dimensions.enumerated() where d < 0 {
            throw ShapeError(.nonPositive, "dimension \(axis) of shape \(dimensions) must be >= 0, got \(d)")
        }
        self.count = try CheckedSize.elements(dimensions, "element count of shape \(dimensions)")
        self.dimensions = dimensions
    }

    /// A shape written in code (`[2, 3]`). A negative or overflowing literal is a programming
    /// error and traps; shapes that come from data use the throwing ``init(_:)``.
    public init(arrayLiteral elements: Int...) {
        do { try self.init(elements) } catch { requireFailed(error.description) }
    }

    /// The number of axes.
    public var rank: Int { dimensions.count }

    /// The size of axis `axis` (`0 ..< rank`).
    public subscript(axis: Int) -> Int { dimensions[axis] }

    /// `[2, 3, 4]`.
    public var description: String { "[" + dimensions.map(String.init).joined(separator: ", ") + "]" }
}
