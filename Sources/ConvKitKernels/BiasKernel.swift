/// Per-channel bias gradients: reduce an NCHW gradient to one value per channel (convolution
/// kernels add the bias themselves, fused into their output passes).
public enum BiasKernel {
    /// `biasGradient[c] (+)= Σ_n Σ_p gradient[n,c,p]` for an `[batch, channels, plane]` buffer.
    /// Overwrites `biasGradient` unless `accumulate`. Sums each channel in a fixed order, so the
    /// result does not depend on the thread count.
    public static func reducePerChannel(
        _ gradient: UnsafeBufferPointer<Float>, into biasGradient: UnsafeMutableBufferPointer<Float>,
        batch: Int, channels: Int, plane: Int, accumulate: Bool, context: ComputeContext
    ) {
        require(biasGradient.count >= channels && gradient.count >= batch * channels * plane,
                "biasGradient holds \(biasGradient.count) floats (needs \(channels)), gradient \(gradient.count) (needs \(batch * channels * plane))")
        let dy = SharedBuffer(readOnly: gradient), db = SharedBuffer(biasGradient)
        parallelFor(channels, elementsPerIndex: batch * plane, context: context) { range in
            for c in range {
                var total: Float = 0
                for n in 0..<batch {
                    let row = dy.base + (n * channels + c) * plane
                    var partial: Float = 0
                    for p in 0..<plane { partial += row[p] }
                    total += partial
                }
                db[c] = accumulate ? db[c] + total : total
            }
        }
    }
}
