/// Leaky rectified linear unit with a fixed `slope` for negative inputs (e.g. 0.01).
///
///     forward:   y = x < 0 ? slope · x : x       (NaN stays NaN)
///     backward:  dx = x > 0 ? dy : slope · dy    (the kink x = 0 takes the slope side, as in PyTorch)
///
/// `slope` must be finite and `>= 0` (`precondition`; the layer API validates and throws), which
/// makes `y` and `x` have the same sign, so backward works from the saved input or output.
/// In place is allowed (same base address for `output` and `input`, or for the gradients).
public enum LeakyReLUKernel {
    /// **Overwrites** `output` (`output.count == input.count`).
    public static func forward(
        algorithm: ActivationAlgorithm, slope: Float, input: UnsafeBufferPointer<Float>,
        output: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        require(slope >= 0 && slope.isFinite, "leaky ReLU slope must be finite and >= 0, got \(slope)")
        guard case let (x, y)? = elementwiseBuffers(input, output, "leaky ReLU forward") else { return }
        switch algorithm {
        case .naive:
            for i in 0..<input.count { let v = x[i]; y[i] = v < 0 ? slope * v : v }
        case .simd:
            simdMap(LeakyReLUForward(slope: slope), input: x, output: y, count: input.count, context: context)
        }
    }

    /// **Overwrites** `inputGradient`.
    ///
    /// - Parameter input: the forward input `x` or output `y` (same sign, since `slope >= 0`).
    public static func backward(
        algorithm: ActivationAlgorithm, slope: Float, input: UnsafeBufferPointer<Float>,
        outputGradient: UnsafeBufferPointer<Float>, inputGradient: UnsafeMutableBufferPointer<Float>,
        context: ComputeContext
    ) {
        require(slope >= 0 && slope.isFinite, "leaky ReLU slope must be finite and >= 0, got \(slope)")
        guard case let (x, dy, dx)? = elementwiseBuffers(input, outputGradient, inputGradient, "leaky ReLU backward") else { return }
        switch algorithm {
        case .naive:
            for i in 0..<input.count { dx[i] = x[i] > 0 ? dy[i] : slope * dy[i] }
        case .simd:
            simdMap(LeakyReLUBackward(slope: slope), x, dy, output: dx, count: input.count, context: context)
        }
    }
}

struct LeakyReLUForward: ElementwiseOperation {
    let slope: Float
    @inline(__always) func callAsFunction(_ x: SIMD16<Float>) -> SIMD16<Float> {
        x.replacing(with: x * slope, where: x .< 0)
    }
}

struct LeakyReLUBackward: ElementwiseBinaryOperation {
    let slope: Float
    @inline(__always) func callAsFunction(_ x: SIMD16<Float>, _ dy: SIMD16<Float>) -> SIMD16<Float> {
        (dy * slope).replacing(with: dy, where: x .> 0)
    }
}
