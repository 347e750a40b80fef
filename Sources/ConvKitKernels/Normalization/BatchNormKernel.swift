/// Batch normalisation over a `[batch, channels, plane]` buffer: one mean and variance per
/// channel, over its `m = batch · plane` values (`plane` = 1 for `[N, C]`, `L` for `[N, C, L]`,
/// `H·W` for `[N, C, H, W]`).
///
///     x̂ = (x − μ_c) · σ̂_c,   σ̂_c = 1 / √(v_c + ε),   y = γ_c · x̂ + β_c
///
/// `μ, v` are either the batch's statistics (training) or running ones (evaluation). Every loop
/// runs over channels with ``parallelFor(_:grain:elementsPerIndex:context:_:)``; a channel's sums
/// are taken in a fixed order (plane rows in `Float`, rows added in `Double`), so results do not
/// depend on the thread count.
public enum BatchNormKernel {
    /// Per channel: `mean[c] = Σ x / m` and the biased `variance[c] = Σ (x − mean[c])² / m`, in two
    /// passes (the one-pass `E[x²] − E[x]²` cancels for large means). **Overwrites** `mean` and
    /// `variance` (`channels` floats each). `m = batch · plane` must be ≥ 1.
    public static func statistics(
        input: UnsafeBufferPointer<Float>, batch: Int, channels: Int, plane: Int,
        mean: UnsafeMutableBufferPointer<Float>, variance: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        require(batch * plane >= 1 && input.count >= batch * channels * plane && mean.count >= channels && variance.count >= channels,
                "batch norm statistics: \(input.count) inputs for [\(batch), \(channels), \(plane)], \(mean.count)/\(variance.count) outputs")
        let x = SharedBuffer(readOnly: input), mu = SharedBuffer(mean), v = SharedBuffer(variance)
        let m = Double(batch * plane)
        parallelFor(channels, elementsPerIndex: 2 * batch * plane, context: context) { range in
            for c in range {
                var total = 0.0
                for n in 0..<batch {
                    total += Double(RowReduction.sum(x.base + (n * channels + c) * plane, plane))
                }
                let average = total / m
                let centre = Float(average)
                var squares = 0.0
                for n in 0..<batch {
                    squares += Double(RowReduction.squaredDeviations(x.base + (n * channels + c) * plane, plane,
                                                                     from: centre))
                }
                mu[c] = centre
                v[c] = Float(squares / m)
            }
        }
    }

    /// `inverseStandardDeviation[c] = 1 / √(variance[c] + epsilon)`, computed in `Double` and
    /// rounded once. **Overwrites** `inverseStandardDeviation`.
    public static func inverseStandardDeviation(
        variance: UnsafeBufferPointer<Float>, epsilon: Float, output: UnsafeMutableBufferPointer<Float>
    ) {
        require(output.count >= variance.count, "batch norm: \(output.count) outputs for \(variance.count) variances")
        for c in 0..<variance.count {
            output[c] = Float(1 / (Double(variance[c]) + Double(epsilon)).squareRoot())
        }
    }

    /// `normalized = (x − mean[c]) · inverseStandardDeviation[c]` and
    /// `output = weight[c] · normalized + bias[c]` (without `weight` and `bias`: `output = normalized`).
    /// **Overwrites** `normalized` and `output` (input-sized).
    public static func forward(
        input: UnsafeBufferPointer<Float>, batch: Int, channels: Int, plane: Int,
        mean: UnsafeBufferPointer<Float>, inverseStandardDeviation: UnsafeBufferPointer<Float>,
        weight: UnsafeBufferPointer<Float>?, bias: UnsafeBufferPointer<Float>?,
        normalized: UnsafeMutableBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        let count = batch * channels * plane
        require(input.count >= count && normalized.count >= count && output.count >= count
                && mean.count >= channels && inverseStandardDeviation.count >= channels
                && (weight?.count ?? channels) >= channels && (bias?.count ?? channels) >= channels,
                "batch norm forward: buffers too small for [\(batch), \(channels), \(plane)]")
        let x = SharedBuffer(readOnly: input), mu = SharedBuffer(readOnly: mean), s = SharedBuffer(readOnly: inverseStandardDeviation)
        let w = weight.map { SharedBuffer(readOnly: $0) }, b = bias.map { SharedBuffer(readOnly: $0) }
        let xhat = SharedBuffer(normalized), y = SharedBuffer(output)
        parallelFor(channels, elementsPerIndex: batch * plane, context: context) { range in
            for c in range {
                let centre = mu[c], scale = s[c]
                let gamma = w?[c] ?? 1, beta = b?[c] ?? 0
                for n in 0..<batch {
                    let offset = (n * channels + c) * plane
                    let xr = x.base + offset, hr = xhat.base + offset, yr = y.base + offset
                    for p in 0..<plane {
                        let h = (xr[p] - centre) * scale
                        hr[p] = h
                        yr[p] = gamma * h + beta
                    }
                }
            }
        }
    }

    /// The running statistics after one training batch (PyTorch's rule):
    ///
    ///     runningMean ← (1 − f) · runningMean + f · batchMean
    ///     runningVariance ← (1 − f) · runningVariance + f · batchVariance · m / (m − 1)
    ///
    /// with `f = factor` (the momentum) and the **unbiased** batch variance (`batchVariance` is the
    /// biased one the forward pass normalises with). `m = count` must be ≥ 2. **Overwrites** the
    /// two running buffers in place.
    public static func updateRunningStatistics(
        runningMean: UnsafeMutableBufferPointer<Float>, runningVariance: UnsafeMutableBufferPointer<Float>,
        batchMean: UnsafeBufferPointer<Float>, batchVariance: UnsafeBufferPointer<Float>, count: Int, factor: Float
    ) {
        require(count >= 2 && runningMean.count == batchMean.count && runningVariance.count == batchVariance.count
                && runningMean.count == runningVariance.count,
                "batch norm running statistics: count \(count), sizes \(runningMean.count)/\(runningVariance.count)/\(batchMean.count)/\(batchVariance.count)")
        let correction = Float(Double(count) / Double(count - 1))
        for c in 0..<runningMean.count {
            runningMean[c] = (1 - factor) * runningMean[c] + factor * batchMean[c]
            runningVariance[c] = (1 - factor) * runningVariance[c] + factor * (batchVariance[c] * correction)
        }
    }

    /// Gradients, per channel `c` with `m = batch · plane`, `g = Σ dy`, `h = Σ dy · x̂` (sums over
    /// the channel's values, in `Double`):
    ///
    ///     weightGradient[c] = h,   biasGradient[c] = g
    ///     training (batch statistics):  dx = γ_c · σ̂_c · (dy − g/m − x̂ · h/m)
    ///     evaluation (fixed statistics): dx = γ_c · σ̂_c · dy
    ///
    /// (`γ_c = 1` without `weight`). `normalized` is the forward pass's `x̂`. **Overwrites**
    /// `inputGradient` and, when given, `weightGradient` and `biasGradient`.
    public static func backward(
        batchStatistics: Bool, normalized: UnsafeBufferPointer<Float>, outputGradient: UnsafeBufferPointer<Float>,
        batch: Int, channels: Int, plane: Int, inverseStandardDeviation: UnsafeBufferPointer<Float>,
        weight: UnsafeBufferPointer<Float>?, inputGradient: UnsafeMutableBufferPointer<Float>,
        weightGradient: UnsafeMutableBufferPointer<Float>?, biasGradient: UnsafeMutableBufferPointer<Float>?,
        context: ComputeContext
    ) {
        let count = batch * channels * plane
        require(normalized.count >= count && outputGradient.count >= count && inputGradient.count >= count
                && inverseStandardDeviation.count >= channels && (weight?.count ?? channels) >= channels
                && (weightGradient?.count ?? channels) >= channels && (biasGradient?.count ?? channels) >= channels,
                "batch norm backward: buffers too small for [\(batch), \(channels), \(plane)]")
        let xhat = SharedBuffer(readOnly: normalized), dy = SharedBuffer(readOnly: outputGradient)
        let s = SharedBuffer(readOnly: inverseStandardDeviation), w = weight.map { SharedBuffer(readOnly: $0) }
        let dx = SharedBuffer(inputGradient)
        let dw = weightGradient.map { SharedBuffer($0) }, db = biasGradient.map { SharedBuffer($0) }
        let m = Float(batch * plane)
        parallelFor(channels, elementsPerIndex: 2 * batch * plane, context: context) { range in
            for c in range {
                var sumDy = 0.0, sumDyXhat = 0.0
                for n in 0..<batch {
                    let offset = (n * channels + c) * plane
                    let hr = xhat.base + offset, gr = dy.base + offset
                    let (a, b) = RowReduction.sumAndDot(gr, hr, plane)
                    sumDy += Double(a)
                    sumDyXhat += Double(b)
                }
                dw?[c] = Float(sumDyXhat)
                db?[c] = Float(sumDy)
                let scale = (w?[c] ?? 1) * s[c]
                let meanDy = batchStatistics ? Float(sumDy) / m : 0
                let meanDyXhat = batchStatistics ? Float(sumDyXhat) / m : 0
                for n in 0..<batch {
                    let offset = (n * channels + c) * plane
                    let hr = xhat.base + offset, gr = dy.base + offset, dr = dx.base + offset
                    for p in 0..<plane { dr[p] = scale * (gr[p] - meanDy - hr[p] * meanDyXhat) }
                }
            }
        }
    }
}
