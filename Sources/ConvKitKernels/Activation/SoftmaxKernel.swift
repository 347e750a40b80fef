/// Softmax over the channel axis of `[batch, channels, plane]` (`plane = 1` for `[batch, channels]`
/// logits; `plane = H·W` for per-pixel class scores in NCHW).
///
///     forward:   y[n,c,p] = e^(x[n,c,p] − m) / Σ_k e^(x[n,k,p] − m),   m = max_k x[n,k,p]
///     backward:  dx[n,c,p] = y[n,c,p] · (dy[n,c,p] − Σ_k dy[n,k,p] · y[n,k,p])   (from the saved output)
///
/// Subtracting the maximum makes it stable: logits of ±1e4 give finite probabilities summing
/// to 1. NaN anywhere in a column makes that column NaN; a column containing +∞ (or all −∞) is
/// NaN too (∞ − ∞), as in PyTorch. In place is allowed (`output` = `input`, `inputGradient` =
/// `outputGradient` or = `output`; same base address).
///
/// `simd`: for `plane = 1` each row is vectorised along the channels; for `plane > 1`, 16
/// positions of the plane at a time (contiguous loads per channel). `parallelFor` runs over
/// rows / 16-position column blocks, so results do not depend on the thread count.
public enum SoftmaxKernel {
    /// **Overwrites** `output`. `input` and `output` hold `batch · channels · plane` floats.
    public static func forward(
        algorithm: ActivationAlgorithm, batch: Int, channels: Int, plane: Int = 1,
        input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        require(batch >= 0 && channels >= 1 && plane >= 1, "softmax sizes must be batch >= 0, channels >= 1, plane >= 1")
        let count = batch * channels * plane
        require(input.count == count && output.count == count,
                     "softmax buffers hold \(input.count) and \(output.count) floats, expected \(count)")
        guard let x = input.baseAddress, let y = output.baseAddress else { return }
        switch algorithm {
        case .naive: SoftmaxNaive.forward(batch: batch, channels: channels, plane: plane, input: x, output: y)
        case .simd: SoftmaxSIMD.forward(batch: batch, channels: channels, plane: plane, input: x, output: y, context: context)
        }
    }

    /// **Overwrites** `inputGradient`. All three buffers hold `batch · channels · plane` floats.
    ///
    /// - Parameter output: the forward output `y`.
    public static func backward(
        algorithm: ActivationAlgorithm, batch: Int, channels: Int, plane: Int = 1,
        output: UnsafeBufferPointer<Float>, outputGradient: UnsafeBufferPointer<Float>,
        inputGradient: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        require(batch >= 0 && channels >= 1 && plane >= 1, "softmax sizes must be batch >= 0, channels >= 1, plane >= 1")
        let count = batch * channels * plane
        require(output.count == count && outputGradient.count == count && inputGradient.count == count,
                     "softmax backward buffers hold \(output.count), \(outputGradient.count), \(inputGradient.count) floats, expected \(count)")
        guard let y = output.baseAddress, let dy = outputGradient.baseAddress, let dx = inputGradient.baseAddress else { return }
        switch algorithm {
        case .naive: SoftmaxNaive.backward(batch: batch, channels: channels, plane: plane, output: y, outputGradient: dy, inputGradient: dx)
        case .simd: SoftmaxSIMD.backward(batch: batch, channels: channels, plane: plane, output: y, outputGradient: dy,
                                         inputGradient: dx, context: context)
        }
    }
}

/// The reference loops (legend: n batch, c/k channel, p plane position).
enum SoftmaxNaive {
    static func forward(batch: Int, channels: Int, plane: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        for n in 0..<batch {
            for p in 0..<plane {
                let base = n * channels * plane + p          // element (n, c, p) is at base + c·plane
                var m = -Float.infinity
                for c in 0..<channels { m = max(m, input[base + c * plane]) }
                var sum: Float = 0
                for c in 0..<channels {
                    let e = ScalarMath.exp(input[base + c * plane] - m)
                    output[base + c * plane] = e
                    sum += e
                }
                for c in 0..<channels { output[base + c * plane] /= sum }
            }
        }
    }

    static func backward(
        batch: Int, channels: Int, plane: Int, output: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>
    ) {
        for n in 0..<batch {
            for p in 0..<plane {
                let base = n * channels * plane + p
                var dot: Float = 0
                for c in 0..<channels { dot += outputGradient[base + c * plane] * output[base + c * plane] }
                for c in 0..<channels {
                    let i = base + c * plane
                    inputGradient[i] = output[i] * (outputGradient[i] - dot)
                }
            }
        }
    }
}
