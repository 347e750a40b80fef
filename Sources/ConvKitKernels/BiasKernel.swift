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
                for n in 0..<batch { total += rowSum(dy.base + (n * channels + c) * plane, plane) }
                db[c] = accumulate ? db[c] + total : total
            }
        }
    }

    /// Σ row[0..<count] in four 8-lane partial sums (a scalar float sum is one dependent add per
    /// element: 3–4 cycles each, which made this pass cost as much as a pointwise layer's GEMM).
    @inline(__always)
    static func rowSum(_ row: UnsafePointer<Float>, _ count: Int) -> Float {
        typealias V = SIMD8<Float>
        var a = V(), b = V(), c = V(), d = V()
        var p = 0
        while p + 32 <= count {
            let raw = UnsafeRawPointer(row + p)
            a += raw.loadUnaligned(as: V.self)
            b += raw.loadUnaligned(fromByteOffset: 32, as: V.self)
            c += raw.loadUnaligned(fromByteOffset: 64, as: V.self)
            d += raw.loadUnaligned(fromByteOffset: 96, as: V.self)
            p += 32
        }
        while p + 8 <= count {
            a += UnsafeRawPointer(row + p).loadUnaligned(as: V.self)
            p += 8
        }
        var total = ((a + b) + (c + d)).sum()
        while p < count { total += row[p]; p += 1 }
        return total
    }
}
