/// Logistic sigmoid on a flat buffer of any shape.
///
///     forward:   y = 1 / (1 + e^−x)          (computed overflow-free; see ``VectorMath/sigmoid(_:)``)
///     backward:  dx = dy · y · (1 − y)       (from the saved **output** y)
///
/// `simd` error ≤ 3 ulp against `Double` (measured, see ``VectorMath``); NaN propagates;
/// ±∞ give exactly 1 / 0. In place is allowed (same base address).
public enum SigmoidKernel {
    /// **Overwrites** `output` (`output.count == input.count`).
    public static func forward(
        algorithm: ActivationAlgorithm, input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>,
        context: ComputeContext
    ) {
        guard case let (x, y)? = elementwiseBuffers(input, output, "sigmoid forward") else { return }
        switch algorithm {
        case .naive:
            for i in 0..<input.count { y[i] = ScalarMath.sigmoid(x[i]) }
        case .simd:
            simdMap(SigmoidForward(), input: x, output: y, count: input.count, context: context)
        }
    }

    /// **Overwrites** `inputGradient`.
    ///
    /// - Parameter output: the forward output `y` (not the input).
    public static func backward(
        algorithm: ActivationAlgorithm, output: UnsafeBufferPointer<Float>, outputGradient: UnsafeBufferPointer<Float>,
        inputGradient: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        guard case let (y, dy, dx)? = elementwiseBuffers(output, outputGradient, inputGradient, "sigmoid backward") else { return }
        switch algorithm {
        case .naive:
            for i in 0..<output.count { dx[i] = dy[i] * y[i] * (1 - y[i]) }
        case .simd:
            simdMap(SigmoidBackward(), y, dy, output: dx, count: output.count, context: context)
        }
    }
}

struct SigmoidForward: ElementwiseOperation {
    @inline(__always) func callAsFunction(_ x: SIMD16<Float>) -> SIMD16<Float> { VectorMath.sigmoid(x) }
}

struct SigmoidBackward: ElementwiseBinaryOperation {
    @inline(__always) func callAsFunction(_ y: SIMD16<Float>, _ dy: SIMD16<Float>) -> SIMD16<Float> {
        dy * y * (1 - y)
    }
}
