/// The error thrown when sizes given to ConvKit are invalid: it says which value was wrong,
/// what came and what was expected.
///
/// Thrown by the geometry values (``Conv2DGeometry``, ``DenseGeometry``, …) and by the layer
/// API; kernels on raw buffers never throw (they `precondition` on the validated geometry).
public struct ShapeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The rule that was broken.
    public enum Reason: String, Hashable, Sendable {
        /// A size that must be positive (or non-negative) was not.
        case nonPositive
        /// The (dilated) kernel does not fit in the padded input.
        case kernelTooLarge
        /// The computed output size is smaller than 1.
        case emptyOutput
        /// A product of sizes overflows `Int`, or a GEMM dimension overflows OpenBLAS's `Int32`,
        /// or a buffer would exceed a documented cap.
        case overflow
        /// Two shapes that must agree do not.
        case mismatch
        /// A value outside its allowed set (e.g. channels not divisible by groups).
        case invalidValue
    }

    public let reason: Reason
    /// A sentence naming the offending value, what came and what was expected.
    public let message: String

    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { "ShapeError.\(reason.rawValue): \(message)" }
}

/// Overflow-checked arithmetic used by every geometry initialiser.
@usableFromInline
package enum CheckedSize {
    /// The product of `factors`, or a thrown `.overflow` naming `what`.
    package static func product(_ factors: [Int], _ what: @autoclosure () -> String) throws(ShapeError) -> Int {
        var result = 1
        for f in factors {
            let (p, o) = result.multipliedReportingOverflow(by: f)
            if o { throw ShapeError(.overflow, "\(what()) = \(factors.map(String.init).joined(separator: " x ")) overflows Int") }
            result = p
        }
        return result
    }

    /// The element count `factors` multiply to, or a thrown `.overflow` unless the buffer's byte
    /// size (count × 4, for `Float`) fits `Int`: a count that fits while its bytes do not would
    /// allocate a wrapped, tiny buffer. Zero factors are skipped for the check, so the answer does
    /// not depend on the order of the axes (`[0, Int.max, Int.max]` is refused like `[Int.max, Int.max, 0]`).
    package static func elements(_ factors: [Int], _ what: @autoclosure () -> String,
                                 elementSize: Int = MemoryLayout<Float>.stride) throws(ShapeError) -> Int {
        var bytes = elementSize, anyZero = false
        for f in factors {
            if f == 0 { anyZero = true; continue }
            let (p, o) = bytes.multipliedReportingOverflow(by: f)
            if o || p < 0 {
                throw ShapeError(.overflow,
                    "\(what()) = \(factors.map(String.init).joined(separator: " x ")) elements of \(elementSize) bytes overflows Int")
            }
            bytes = p
        }
        return anyZero ? 0 : bytes / elementSize
    }

    /// `a + b`, or a thrown `.overflow` naming `what`.
    package static func sum(_ a: Int, _ b: Int, _ what: @autoclosure () -> String) throws(ShapeError) -> Int {
        let (s, o) = a.addingReportingOverflow(b)
        if o { throw ShapeError(.overflow, "\(what()) = \(a) + \(b) overflows Int") }
        return s
    }

    /// Throws `.overflow` unless `value` fits OpenBLAS's 32-bit integers.
    package static func gemmDimension(_ value: Int, _ what: String) throws(ShapeError) {
        if value > BLAS.maxDimension {
            throw ShapeError(.overflow, "\(what) = \(value) exceeds OpenBLAS's 32-bit limit of \(BLAS.maxDimension)")
        }
    }

    /// Throws `.nonPositive` unless `value >= 1`.
    package static func positive(_ value: Int, _ name: String) throws(ShapeError) {
        if value < 1 { throw ShapeError(.nonPositive, "\(name) must be >= 1, got \(value)") }
    }

    /// Throws `.nonPositive` unless `value >= 0`.
    package static func nonNegative(_ value: Int, _ name: String) throws(ShapeError) {
        if value < 0 { throw ShapeError(.nonPositive, "\(name) must be >= 0, got \(value)") }
    }
}
