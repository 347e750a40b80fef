/// Per-channel bias: add it to an NCHW tensor (transposed convolutions, whose forward is a
/// convolution's backwardData; convolutions fuse their bias into their output passes), or reduce
/// a gradient to it.
public enum BiasKernel {
    /// `output[n,c,p] += bias[c]` for an `[batch, channels, plane]` buffer (**accumulates**).
    public static func addPerChannel(
        _ bias: UnsafeBufferPointer<Float>, to output: UnsafeMutableBufferPointer<Float>,
        batch: Int, channels: Int, plane: Int, context: ComputeContext
    ) {
        require(bias.count >= channels && output.count >= batch * channels * plane,
                "bias holds \(bias.count) floats (needs \(channels)), output \(output.count) (needs \(batch * channels * plane))")
        let b = SharedBuffer(readOnly: bias), y = SharedBuffer(output)
        parallelFor(batch * channels, elementsPerIndex: plane, context: context) { range in
            for nc in range {
                let value = b[nc % channels]
                let row = y.base + nc * plane
                for p in 0..<plane { row[p] += value }
            }
        }
    }

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
                for n in 0..<batch { total += RowReduction.sum(dy.base + (n * channels + c) * plane, plane) }
                db[c] = accumulate ? db[c] + total : total
            }
        }
    }
}
