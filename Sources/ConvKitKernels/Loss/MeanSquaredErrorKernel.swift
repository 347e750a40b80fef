/// Mean squared error over all elements, fused with its gradient.
///
///     loss    = (1/K) Σ_i (prediction[i] − target[i])²          K = element count
///     dp[i]   = 2 · (prediction[i] − target[i]) / K
///
/// (PyTorch's `MSELoss(reduction: "mean")`.) Squares are summed in `Double` per fixed block, so
/// the loss is bit-identical for every thread count.
public enum MeanSquaredErrorKernel {
    /// Returns the mean loss and, when `predictionGradient` is given, **overwrites** it with
    /// `dLoss/dPrediction`. All buffers hold the same number (>= 1) of floats, any shape;
    /// `predictionGradient` may be `prediction` itself.
    public static func lossAndGradient(
        algorithm: ActivationAlgorithm, prediction: UnsafeBufferPointer<Float>, target: UnsafeBufferPointer<Float>,
        predictionGradient: UnsafeMutableBufferPointer<Float>?, context: ComputeContext
    ) -> Float {
        let count = prediction.count
        require(count >= 1, "mean squared error of an empty buffer")
        require(target.count == count, "target holds \(target.count) floats, prediction \(count)")
        require(predictionGradient == nil || predictionGradient!.count == count,
                     "predictionGradient must hold \(count) floats")
        guard let p = prediction.baseAddress, let t = target.baseAddress else { return .nan }
        let g = predictionGradient?.baseAddress
        let scale = 2 / Float(count)
        switch algorithm {
        case .naive:
            var total = 0.0
            for i in 0..<count {
                let d = p[i] - t[i]
                total += Double(d * d)
                if let g { g[i] = d * scale }
            }
            return Float(total / Double(count))
        case .simd:
            let ps = SharedBuffer(readOnly: UnsafeBufferPointer(start: p, count: count))
            let ts = SharedBuffer(readOnly: UnsafeBufferPointer(start: t, count: count))
            let gs = g.map { SharedBuffer(UnsafeMutableBufferPointer(start: $0, count: count)) }
            let total = deterministicSum(count: count, elementsPerTerm: 1, context: context) { range in
                blockSum(ps.base, ts.base, gs?.base, range, scale)
            }
            return Float(total / Double(count))
        }
    }

    /// Σ (p − t)² over `range` in strips of 1024 floats (Float lanes per strip, Double across
    /// strips, to keep the rounding error independent of the block length); writes gradients.
    @inline(__always)
    static func blockSum(
        _ p: UnsafePointer<Float>, _ t: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>?,
        _ range: Range<Int>, _ scale: Float
    ) -> Double {
        var total = 0.0
        let scaleV = SIMD16<Float>(repeating: scale)
        var i = range.lowerBound
        while i < range.upperBound {
            let stripEnd = min(range.upperBound, i + 1024)
            var acc = SIMD16<Float>(repeating: 0)
            while i + 16 <= stripEnd {
                let d = load16(p + i) - load16(t + i)
                acc += d * d
                if let g { store16(d * scaleV, g + i) }
                i += 16
            }
            if i < stripEnd {
                let n = stripEnd - i
                let d = loadPartial16(p + i, count: n) - loadPartial16(t + i, count: n)
                acc += d * d
                if let g { storePartial16(d * scaleV, g + i, count: n) }
                i = stripEnd
            }
            total += Double(SoftmaxSIMD.laneSum(acc))
        }
        return total
    }
}
