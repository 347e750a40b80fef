/// Inverted dropout: masks drawn from a counter-based hash, and their application.
///
/// Mask element `i` depends only on `(seed, i)`: `u = top 24 bits of mix(seed + (i + 1)·γ)`
/// (`mix` the SplitMix64 finaliser, `γ = 0x9E3779B97F4A7C15`), dropped when
/// `u < round(p · 2²⁴)`. So a mask is the same at every thread count and any range of it can be
/// drawn alone; the drop probability is `p` rounded to a multiple of 2⁻²⁴.
public enum DropoutKernel {
    /// `mask[i] = 0` when element `i` is dropped, else `1 / (1 − p)` (inverted scaling keeps the
    /// expected value of `mask[i] · x` equal to `x`). `p = 1` drops everything (all zeros);
    /// `p = 0` keeps everything (all ones). **Overwrites** `mask`. `p` must lie in `[0, 1]`.
    public static func fillMask(
        _ mask: UnsafeMutableBufferPointer<Float>, dropProbability p: Float, seed: UInt64, context: ComputeContext
    ) {
        require(p >= 0 && p <= 1, "dropout probability must lie in [0, 1], got \(p)")
        let threshold = UInt64((Double(p) * 16_777_216).rounded())
        let keep: Float = p < 1 ? 1 / (1 - p) : 0
        let out = SharedBuffer(mask)
        parallelFor(mask.count, grain: 4096, context: context) { range in
            for i in range {
                let u = SeedMixing.mix(seed &+ UInt64(i + 1) &* 0x9E37_79B9_7F4A_7C15) >> 40
                out[i] = u < threshold ? 0 : keep
            }
        }
    }

    /// `output[i] = input[i] · mask[i / groupSize]`: `groupSize` 1 for element-wise dropout, the
    /// plane size for channel-wise dropout (one mask value per `[n, c]` plane). Used for the
    /// forward pass (`input` = x) and the backward pass (`input` = dy). **Overwrites** `output`.
    public static func apply(
        input: UnsafeBufferPointer<Float>, mask: UnsafeBufferPointer<Float>, groupSize: Int,
        output: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        require(groupSize >= 1 && input.count == output.count && mask.count * groupSize == input.count,
                "dropout: \(input.count) inputs, \(output.count) outputs, \(mask.count) mask values of group \(groupSize)")
        let x = SharedBuffer(readOnly: input), m = SharedBuffer(readOnly: mask), y = SharedBuffer(output)
        parallelFor(mask.count, grain: max(1, 4096 / groupSize), elementsPerIndex: groupSize, context: context) { range in
            for g in range {
                let scale = m[g]
                let xr = x.base + g * groupSize, yr = y.base + g * groupSize
                for j in 0..<groupSize { yr[j] = xr[j] * scale }
            }
        }
    }
}
