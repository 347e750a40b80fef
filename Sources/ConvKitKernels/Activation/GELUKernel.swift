#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Gaussian error linear unit (PyTorch's `nn.GELU`), element-wise on flat buffers of any shape.
/// Backward passes take the forward **input** `x`.
///
///     exact (approximate: "none"):  y = x · Φ(x),   Φ(x) = ½ · erfc(−x/√2)
///                                   dx = dy · (Φ(x) + x · φ(x)),   φ(x) = e^(−x²/2) / √(2π)
///     tanh  (approximate: "tanh"):  u = √(2/π) · (x + 0.044715 · x³),   y = ½ · x · (1 + tanh u)
///                                   dx = dy · (½(1 + tanh u) + ½x · (1 − tanh² u) · √(2/π) · (1 + 3 · 0.044715 · x²))
///
/// The exact form takes `Φ` from `erfc` rather than PyTorch's `½(1 + erf(x/√2))`: the same function,
/// without the cancellation for negative `x` (at x = −5 the `1 + erf` form keeps about one
/// significant digit in `Float`). `naive` calls libm's `erfcf`; `simd` uses the Chebyshev-fitted
/// `erfc` of Numerical Recipes (`erfcc`, fractional error < 1.2·10⁻⁷ for every argument), written
/// with ``VectorMath/exp(_:)``. The tanh form follows PyTorch's expression term by term.
/// NaN propagates. In place is allowed (same base address).
public enum GELUKernel {
    /// PyTorch's `approximate` argument.
    public enum Approximation: String, Sendable, Hashable, CaseIterable {
        /// `"none"`: the erf form.
        case none
        /// `"tanh"`: the tanh approximation.
        case tanh
    }

    /// **Overwrites** `output` (`output.count == input.count`).
    public static func forward(
        algorithm: ActivationAlgorithm, approximation: Approximation, input: UnsafeBufferPointer<Float>,
        output: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        guard case let (x, y)? = elementwiseBuffers(input, output, "GELU forward") else { return }
        switch (algorithm, approximation) {
        case (.naive, .none):
            for i in 0..<input.count { let v = x[i]; y[i] = v * (0.5 * erfcf(-v * sqrtHalf)) }
        case (.naive, .tanh):
            for i in 0..<input.count {
                let v = x[i]
                y[i] = 0.5 * v * (1 + tanhf(tanhBeta * (v + tanhKappa * (v * v * v))))
            }
        case (.simd, .none):
            simdMap(GELUForward(), input: x, output: y, count: input.count, context: context)
        case (.simd, .tanh):
            simdMap(GELUTanhForward(), input: x, output: y, count: input.count, context: context)
        }
    }

    /// **Overwrites** `inputGradient`.
    public static func backward(
        algorithm: ActivationAlgorithm, approximation: Approximation, input: UnsafeBufferPointer<Float>,
        outputGradient: UnsafeBufferPointer<Float>, inputGradient: UnsafeMutableBufferPointer<Float>,
        context: ComputeContext
    ) {
        guard case let (x, dy, dx)? = elementwiseBuffers(input, outputGradient, inputGradient, "GELU backward") else { return }
        switch (algorithm, approximation) {
        case (.naive, .none):
            for i in 0..<input.count {
                let v = x[i]
                let cdf = 0.5 * erfcf(-v * sqrtHalf), pdf = expf(-0.5 * v * v) * inverseSqrt2Pi
                dx[i] = dy[i] * (cdf + v * pdf)
            }
        case (.naive, .tanh):
            for i in 0..<input.count {
                let v = x[i]
                let t = tanhf(tanhBeta * (v + tanhKappa * (v * v * v)))
                let inner = tanhBeta * (1 + 3 * tanhKappa * (v * v))
                dx[i] = dy[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * inner)
            }
        case (.simd, .none):
            simdMap(GELUBackward(), x, dy, output: dx, count: input.count, context: context)
        case (.simd, .tanh):
            simdMap(GELUTanhBackward(), x, dy, output: dx, count: input.count, context: context)
        }
    }

    static let sqrtHalf: Float = 0.707_106_781_186_547_52
    static let inverseSqrt2Pi: Float = 0.398_942_280_401_432_68
    /// √(2/π) and the cubic coefficient of the tanh form (PyTorch's `kBeta`, `kKappa`).
    static let tanhBeta: Float = 0.797_884_560_802_865_36
    static let tanhKappa: Float = 0.044715

    /// `erfc(z)` for `z ≥ 0` per lane (Numerical Recipes' `erfcc`):
    /// `t = 1/(1 + z/2)`, `erfc(z) = t · exp(−z² − 1.26551223 + t·(1.00002368 + t·(… )))`.
    @inline(__always)
    static func erfcNonNegative(_ z: SIMD16<Float>) -> SIMD16<Float> {
        let t = 1 / (1 + 0.5 * z)
        var p = SIMD16<Float>(repeating: 0.17087277)
        p = p * t - 0.82215223
        p = p * t + 1.48851587
        p = p * t - 1.13520398
        p = p * t + 0.27886807
        p = p * t - 0.18628806
        p = p * t + 0.09678418
        p = p * t + 0.37409196
        p = p * t + 1.00002368
        p = p * t - 1.26551223
        return t * VectorMath.exp(p - z * z)
    }

    /// `Φ(x) = ½ erfc(−x/√2)` per lane: `½ erfc(|x|/√2)` for `x < 0`, `1 − ½ erfc(|x|/√2)` otherwise.
    @inline(__always)
    static func normalCDF(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let z = (x * sqrtHalf).replacing(with: -(x * sqrtHalf), where: x .< 0)
        let half = 0.5 * erfcNonNegative(z)
        return (1 - half).replacing(with: half, where: x .< 0)
    }
}

struct GELUForward: ElementwiseOperation {
    @inline(__always) func callAsFunction(_ x: SIMD16<Float>) -> SIMD16<Float> { x * GELUKernel.normalCDF(x) }
}

struct GELUBackward: ElementwiseBinaryOperation {
    @inline(__always) func callAsFunction(_ x: SIMD16<Float>, _ dy: SIMD16<Float>) -> SIMD16<Float> {
        let pdf = VectorMath.exp(-0.5 * x * x) * GELUKernel.inverseSqrt2Pi
        return dy * (GELUKernel.normalCDF(x) + x * pdf)
    }
}

struct GELUTanhForward: ElementwiseOperation {
    @inline(__always) func callAsFunction(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let t = VectorMath.tanh(GELUKernel.tanhBeta * (x + GELUKernel.tanhKappa * (x * x * x)))
        return 0.5 * x * (1 + t)
    }
}

struct GELUTanhBackward: ElementwiseBinaryOperation {
    @inline(__always) func callAsFunction(_ x: SIMD16<Float>, _ dy: SIMD16<Float>) -> SIMD16<Float> {
        let t = VectorMath.tanh(GELUKernel.tanhBeta * (x + GELUKernel.tanhKappa * (x * x * x)))
        let inner = GELUKernel.tanhBeta * (1 + 3 * GELUKernel.tanhKappa * (x * x))
        return dy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * inner)
    }
}

/// Sigmoid-weighted linear unit (PyTorch's `nn.SiLU`, "swish"), element-wise; backward takes the
/// forward **input** `x`.
///
///     y = x · σ(x)          dx = dy · σ(x) · (1 + x · (1 − σ(x)))        (PyTorch's backward formula)
///
/// `σ` is the overflow-free sigmoid of ``VectorMath/sigmoid(_:)`` (`naive`: the same formula on
/// libm). NaN propagates. In place is allowed.
public enum SiLUKernel {
    /// **Overwrites** `output`.
    public static func forward(
        algorithm: ActivationAlgorithm, input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>,
        context: ComputeContext
    ) {
        guard case let (x, y)? = elementwiseBuffers(input, output, "SiLU forward") else { return }
        switch algorithm {
        case .naive:
            for i in 0..<input.count { y[i] = x[i] * ScalarMath.sigmoid(x[i]) }
        case .simd:
            simdMap(SiLUForward(), input: x, output: y, count: input.count, context: context)
        }
    }

    /// **Overwrites** `inputGradient`.
    public static func backward(
        algorithm: ActivationAlgorithm, input: UnsafeBufferPointer<Float>, outputGradient: UnsafeBufferPointer<Float>,
        inputGradient: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        guard case let (x, dy, dx)? = elementwiseBuffers(input, outputGradient, inputGradient, "SiLU backward") else { return }
        switch algorithm {
        case .naive:
            for i in 0..<input.count {
                let s = ScalarMath.sigmoid(x[i])
                dx[i] = dy[i] * s * (1 + x[i] * (1 - s))
            }
        case .simd:
            simdMap(SiLUBackward(), x, dy, output: dx, count: input.count, context: context)
        }
    }
}

struct SiLUForward: ElementwiseOperation {
    @inline(__always) func callAsFunction(_ x: SIMD16<Float>) -> SIMD16<Float> { x * VectorMath.sigmoid(x) }
}

struct SiLUBackward: ElementwiseBinaryOperation {
    @inline(__always) func callAsFunction(_ x: SIMD16<Float>, _ dy: SIMD16<Float>) -> SIMD16<Float> {
        let s = VectorMath.sigmoid(x)
        return dy * s * (1 + x * (1 - s))
    }
}
