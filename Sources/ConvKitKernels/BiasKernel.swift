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
