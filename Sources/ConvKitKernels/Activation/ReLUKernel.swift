import ConvKitCKernels

/// Rectified linear unit on a flat buffer of any shape.
///
///     forward:   y = x < 0 ? 0 : x          (NaN stays NaN; −0 stays −0)
///     backward:  dx = x > 0 ? dy : 0        (the kink x = 0 gets gradient 0, as in PyTorch)
///
/// In place is allowed: `output` may be the same buffer as `input`, and `inputGradient` the
/// same as `outputGradient` (same base address; partial overlap is not allowed).
public enum ReLUKernel {
    /// `output[i] = max(input[i], 0)`, NaN propagating. **Overwrites** `output`
    /// (`output.count == input.count`).
    public static func forward(
        algorithm: ActivationAlgorithm, input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>,
        context: ComputeContext
    ) {
        guard case let (x, y)? = elementwiseBuffers(input, output, "ReLU forward") else { return }
        switch algorithm {
        case .naive:
            for i in 0..<input.count { let v = x[i]; y[i] = v < 0 ? 0 : v }
        case .simd:
            if context.simdLevel >= .avx512 {
                avx512Forward(x, y, count: input.count, context: context)
            } else {
                simdMap(ReLUForward(), input: x, output: y, count: input.count, context: context)
            }
        }
    }

    /// Out-of-place outputs from this size on (16 MiB) are written with non-temporal stores (past
    /// the caches: no read-for-ownership of the output). Below it the output may still be in cache
    /// for the next layer, and streaming loses (figures: docs/decisions/Decisions.md, "ReLU
    /// streaming stores").
    static let streamingBytes = 16 << 20

    /// The AVX-512 C kernel (`ck_activation.h`) over `parallelFor` chunks; streaming stores for
    /// out-of-place outputs of at least ``streamingBytes``.
    static func avx512Forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int,
                              context: ComputeContext) {
        let streaming: Int32 = x != UnsafePointer(y) && count * 4 >= streamingBytes ? 1 : 0
        let sx = SharedBuffer(readOnly: UnsafeBufferPointer(start: x, count: count))
        let sy = SharedBuffer(UnsafeMutableBufferPointer(start: y, count: count))
        parallelFor(count, grain: 16, context: context) { range in
            ck_relu_forward_avx512(sx.base + range.lowerBound, sy.base + range.lowerBound, Int64(range.count), streaming)
        }
    }

    /// `inputGradient[i] = input[i] > 0 ? outputGradient[i] : 0`. **Overwrites** `inputGradient`.
    ///
    /// - Parameter input: the forward pass's input `x` **or its output** `y`: `y > 0` exactly
    ///   when `x > 0`, so a layer may keep whichever it already has (e.g. after an in-place forward).
    public static func backward(
        algorithm: ActivationAlgorithm, input: UnsafeBufferPointer<Float>, outputGradient: UnsafeBufferPointer<Float>,
        inputGradient: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        guard case let (x, dy, dx)? = elementwiseBuffers(input, outputGradient, inputGradient, "ReLU backward") else { return }
        switch algorithm {
        case .naive:
            for i in 0..<input.count { dx[i] = x[i] > 0 ? dy[i] : 0 }
        case .simd:
            simdMap(ReLUBackward(), x, dy, output: dx, count: input.count, context: context)
        }
    }
}

struct ReLUForward: ElementwiseOperation {
    @inline(__always) func callAsFunction(_ x: SIMD16<Float>) -> SIMD16<Float> {
        x.replacing(with: 0, where: x .< 0)
    }
}

struct ReLUBackward: ElementwiseBinaryOperation {
    @inline(__always) func callAsFunction(_ x: SIMD16<Float>, _ dy: SIMD16<Float>) -> SIMD16<Float> {
        SIMD16<Float>(repeating: 0).replacing(with: dy, where: x .> 0)
    }
}
