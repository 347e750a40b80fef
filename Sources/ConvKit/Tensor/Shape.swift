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

    /// Creates a shape, checking that every dimension is non-negative and that the element
    /// count fits in `Int`.
    ///
    /// - Throws: ``ShapeError`` `.nonPositive` for a negative dimension, `.overflow` when the
    ///   product overflows.
    public init(_ dimensions: [Int]) throws(ShapeError) {
        var product = 1
        for (axis, d) in dimensions.enumerated() {
            if d < 0 {
                throw ShapeError(.nonPositive, "dimension \(axis) of shape \(dimensions) must be >= 0, got \(d)")
            }
            let (p, overflow) = product.multipliedReportingOverflow(by: d)
            if overflow {
                throw ShapeError(.overflow, "element count of shape \(dimensions) overflows Int")
            }
            product = p
        }
        self.dimensions = dimensions
        self.count = product
    }

    /// A shape written in code (`[2, 3]`). A negative or overflowing literal is a programming
    /// error and traps; shapes that come from data use the throwing ``init(_:)``.
    public init(arrayLiteral elements: Int...) {
        do { try self.init(elements) } catch { preconditionFailure(error.description) }
    }

    /// The number of axes.
    public var rank: Int { dimensions.count }

    /// The size of axis `axis` (`0 ..< rank`).
    public subscript(axis: Int) -> Int { dimensions[axis] }

    /// `[2, 3, 4]`.
    public var description: String { "[" + dimensions.map(String.init).joined(separator: ", ") + "]" }
}
