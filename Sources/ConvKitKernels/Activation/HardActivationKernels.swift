/// The piecewise-linear activations of MobileNet: ReLU6, hard swish and hard sigmoid, element-wise
/// on flat buffers of any shape. Backward passes take the forward **input** `x`.
///
/// Gradients at the kinks follow PyTorch's backward kernels (checked with torch 2.13): the
/// derivative is taken from the open interval of the middle piece, so
///
///     ReLU6        dx = dy · [0 < x < 6]                     (0 at x = 0 and x = 6)
///     Hardsigmoid  dx = dy / 6 · [−3 < x < 3]                (0 at x = ±3)
///     Hardswish    dx = 0 for x ≤ −3, dy · (x/3 + 1/2) for −3 < x < 3, dy for x ≥ 3
///
/// NaN propagates in every forward pass (comparisons with NaN are false, so it reaches the middle
/// formula). In place is allowed (same base address for output and input, or for the gradients).
public enum ReLU6Kernel {
    /// `y = min(max(x, 0), 6)`. **Overwrites** `output` (`output.count == input.count`).
    public static func forward(
        algorithm: ActivationAlgorithm, input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>,
        context: ComputeContext
    ) {
        guard case let (x, y)? = elementwiseBuffers(input, output, "ReLU6 forward") else { return }
        switch algorithm {
        case .naive:
            for i in 0..<input.count { let v = x[i]; y[i] = v < 0 ? 0 : (v > 6 ? 6 : v) }
        case .simd:
            simdMap(ReLU6Forward(), input: x, output: y, count: input.count, context: context)
        }
    }

    /// `dx = dy · [0 < x < 6]`. **Overwrites** `inputGradient`.
    public static func backward(
        algorithm: ActivationAlgorithm, input: UnsafeBufferPointer<Float>, outputGradient: UnsafeBufferPointer<Float>,
        inputGradient: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        guard case let (x, dy, dx)? = elementwiseBuffers(input, outputGradient, inputGradient, "ReLU6 backward") else { return }
        switch algorithm {
        case .naive:
            for i in 0..<input.count { dx[i] = x[i] > 0 && x[i] < 6 ? dy[i] : 0 }
        case .simd:
            simdMap(ReLU6Backward(), x, dy, output: dx, count: input.count, context: context)
        }
    }
}

/// Hard sigmoid `y = relu6(x + 3) / 6` (PyTorch's `nn.Hardsigmoid`): 0 for x ≤ −3, 1 for x ≥ 3,
/// `(x + 3)/6` between (PyTorch's
/// rounding order). See ``ReLU6Kernel`` for the gradient rule at the kinks.
public enum HardsigmoidKernel {
    /// **Overwrites** `output`.
    public static func forward(
        algorithm: ActivationAlgorithm, input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>,
        context: ComputeContext
    ) {
        guard case let (x, y)? = elementwiseBuffers(input, output, "hardsigmoid forward") else { return }
        switch algorithm {
        case .naive:
            for i in 0..<input.count { let v = x[i]; y[i] = v <= -3 ? 0 : (v >= 3 ? 1 : (v + 3) / 6) }
        case .simd:
            simdMap(HardsigmoidForward(), input: x, output: y, count: input.count, context: context)
        }
    }

    /// `dx = dy / 6 · [−3 < x < 3]`. **Overwrites** `inputGradient`.
    public static func backward(
        algorithm: ActivationAlgorithm, input: UnsafeBufferPointer<Float>, outputGradient: UnsafeBufferPointer<Float>,
        inputGradient: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        guard case let (x, dy, dx)? = elementwiseBuffers(input, outputGradient, inputGradient, "hardsigmoid backward") else { return }
        switch algorithm {
        case .naive:
            for i in 0..<input.count { dx[i] = x[i] > -3 && x[i] < 3 ? dy[i] / 6 : 0 }
        case .simd:
            simdMap(HardsigmoidBackward(), x, dy, output: dx, count: input.count, context: context)
        }
    }
}

/// Hard swish `y = x · relu6(x + 3) / 6` (PyTorch's `nn.Hardswish`, MobileNetV3): 0 for x ≤ −3,
/// `x` for x ≥ 3, `x · (x + 3) / 6` between. See ``ReLU6Kernel`` for the gradient rule.
public enum HardswishKernel {
    /// **Overwrites** `output`.
    public static func forward(
        algorithm: ActivationAlgorithm, input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>,
        context: ComputeContext
    ) {
        guard case let (x, y)? = elementwiseBuffers(input, output, "hardswish forward") else { return }
        switch algorithm {
        case .naive:
            for i in 0..<input.count { let v = x[i]; y[i] = v <= -3 ? 0 : (v >= 3 ? v : v * (v + 3) / 6) }
        case .simd:
            simdMap(HardswishForward(), input: x, output: y, count: input.count, context: context)
        }
    }

    /// `dx = 0` (x ≤ −3), `dy · (x/3 + 1/2)` (−3 < x < 3), `dy` (x ≥ 3). **Overwrites** `inputGradient`.
    public static func backward(
        algorithm: ActivationAlgorithm, input: UnsafeBufferPointer<Float>, outputGradient: UnsafeBufferPointer<Float>,
        inputGradient: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        guard case let (x, dy, dx)? = elementwiseBuffers(input, outputGradient, inputGradient, "hardswish backward") else { return }
        switch algorithm {
        case .naive:
            for i in 0..<input.count {
                let v = x[i]
                dx[i] = v <= -3 ? 0 : (v < 3 ? dy[i] * (v / 3 + 0.5) : dy[i])
            }
        case .simd:
            simdMap(HardswishBackward(), x, dy, output: dx, count: input.count, context: context)
        }
    }
}

struct ReLU6Forward: ElementwiseOperation {
    @inline(__always) func callAsFunction(_ x: SIMD16<Float>) -> SIMD16<Float> {
        x.replacing(with: 0, where: x .< 0).replacing(with: 6, where: x .> 6)
    }
}

struct ReLU6Backward: ElementwiseBinaryOperation {
    @inline(__always) func callAsFunction(_ x: SIMD16<Float>, _ dy: SIMD16<Float>) -> SIMD16<Float> {
        SIMD16<Float>(repeating: 0).replacing(with: dy, where: (x .> 0) .& (x .< 6))
    }
}

struct HardsigmoidForward: ElementwiseOperation {
    @inline(__always) func callAsFunction(_ x: SIMD16<Float>) -> SIMD16<Float> {
        ((x + 3) / 6).replacing(with: 0, where: x .<= -3).replacing(with: 1, where: x .>= 3)
    }
}

struct HardsigmoidBackward: ElementwiseBinaryOperation {
    @inline(__always) func callAsFunction(_ x: SIMD16<Float>, _ dy: SIMD16<Float>) -> SIMD16<Float> {
        SIMD16<Float>(repeating: 0).replacing(with: dy / 6, where: (x .> -3) .& (x .< 3))
    }
}

struct HardswishForward: ElementwiseOperation {
    @inline(__always) func callAsFunction(_ x: SIMD16<Float>) -> SIMD16<Float> {
        (x * (x + 3) / 6).replacing(with: 0, where: x .<= -3).replacing(with: x, where: x .>= 3)
    }
}

struct HardswishBackward: ElementwiseBinaryOperation {
    @inline(__always) func callAsFunction(_ x: SIMD16<Float>, _ dy: SIMD16<Float>) -> SIMD16<Float> {
        (dy * (x / 3 + 0.5)).replacing(with: 0, where: x .<= -3).replacing(with: dy, where: x .>= 3)
    }
}
