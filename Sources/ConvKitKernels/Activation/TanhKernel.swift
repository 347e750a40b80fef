/// Hyperbolic tangent on a flat buffer of any shape.
///
///     forward:   y = tanh(x)
///     backward:  dx = dy · (1 − y²)          (from the saved **output** y)
///
/// `simd` error ≤ 2 ulp against `Double` (measured, see ``VectorMath``); NaN propagates;
/// ±∞ give exactly ±1. In place is allowed (same base address).
public enum TanhKernel {
    /// **Overwrites** `output` (`output.count == input.count`).
    public static func forward(
        algorithm: ActivationAlgorithm, input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>,
        context: ComputeContext
    ) {
        guard case let (x, y)? = elementwiseBuffers(input, output, "tanh forward") else { return }
        switch algorithm {
        case .naive:
            for i in 0..<input.count { y[i] = ScalarMath.tanh(x[i]) }
        case .simd:
            simdMap(TanhForward(), input: x, output: y, count: input.count, context: context)
        }
    }

    /// **Overwrites** `inputGradient`.
    ///
    /// - Parameter output: the forward output `y` (not the input).
    public static func backward(
        algorithm: ActivationAlgorithm, output: UnsafeBufferPointer<Float>, outputGradient: UnsafeBufferPointer<Float>,
        inputGradient: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        guard case let (y, dy, dx)? = elementwiseBuffers(output, outputGradient, inputGradient, "tanh backward") else { return }
        switch algorithm {
        case .naive:
            for i in 0..<output.count { dx[i] = dy[i] * (1 - y[i] * y[i]) }
        case .simd:
            simdMap(TanhBackward(), y, dy, output: dx, count: output.count, context: context)
        }
    }
}

struct TanhForward: ElementwiseOperation {
    @inline(__always) func callAsFunction(_ x: SIMD16<Float>) -> SIMD16<Float> { VectorMath.tanh(x) }
}

struct TanhBackward: ElementwiseBinaryOperation {
    @inline(__always) func callAsFunction(_ y: SIMD16<Float>, _ dy: SIMD16<Float>) -> SIMD16<Float> {
        dy * (1 - y * y)
    }
}
