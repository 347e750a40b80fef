#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Mean losses of a prediction against a target of the same size, each a sum of per-element
/// terms `ℓ(p_i, t_i)`, fused with the gradient (PyTorch's `reduction="mean"`):
///
///     loss = (1/K) Σ_i ℓ(p_i, t_i)          dp[i] = ℓ'(p_i, t_i) / K          K = element count
///
/// | kernel | ℓ(p, t) with d = p − t | ℓ' | PyTorch |
/// |---|---|---|---|
/// | ``L1LossKernel`` | `|d|` | `sign d` (0 at d = 0) | `L1Loss` |
/// | ``SmoothL1LossKernel`` | `½d²/β` if `|d| < β`, else `|d| − β/2` | `d/β` if `|d| ≤ β`, else `sign d`; β = 0 is L1 | `SmoothL1Loss(beta)` |
/// | ``HuberLossKernel`` | `½d²` if `|d| < δ`, else `δ(|d| − δ/2)` | `d` if `|d| ≤ δ`, else `δ · sign d` | `HuberLoss(delta)` |
/// | ``BinaryCrossEntropyWithLogitsKernel`` | `(1 − t)·x + max(−x, 0) + log(1 + e^(−|x|))`, x = p | `σ(x) − t` | `BCEWithLogitsLoss` |
///
/// The forms are PyTorch's (the binary cross-entropy one never exponentiates a positive number,
/// so it is finite for any finite logit). `naive` loops on libm and sums in `Double`; `simd`
/// works on 16 lanes (the tail masked) and sums in the fixed blocks of the mean squared error
/// (Float lanes per 1,024-element strip, `Double` across strips, ≤ 64 blocks that depend only on
/// `K`), so the loss is bit-identical for every thread count. All buffers hold `K ≥ 1` floats;
/// the gradient buffer may be the prediction itself.
public enum L1LossKernel {
    /// Returns the mean loss; **overwrites** `predictionGradient` when given.
    public static func lossAndGradient(
        algorithm: ActivationAlgorithm, prediction: UnsafeBufferPointer<Float>, target: UnsafeBufferPointer<Float>,
        predictionGradient: UnsafeMutableBufferPointer<Float>?, context: ComputeContext
    ) -> Float {
        pointwiseMeanLoss(L1Term(), "L1 loss", algorithm: algorithm, prediction: prediction, target: target,
                          gradient: predictionGradient, context: context)
    }
}

/// Smooth L1 (see ``L1LossKernel`` for the table); `beta` must be finite and ≥ 0.
public enum SmoothL1LossKernel {
    /// Returns the mean loss; **overwrites** `predictionGradient` when given.
    public static func lossAndGradient(
        algorithm: ActivationAlgorithm, beta: Float, prediction: UnsafeBufferPointer<Float>, target: UnsafeBufferPointer<Float>,
        predictionGradient: UnsafeMutableBufferPointer<Float>?, context: ComputeContext
    ) -> Float {
        require(beta >= 0 && beta.isFinite, "smooth L1 beta must be finite and >= 0, got \(beta)")
        if beta == 0 {   // PyTorch computes an L1 loss for beta = 0 (d/β would be 0/0 at d = 0)
            return L1LossKernel.lossAndGradient(algorithm: algorithm, prediction: prediction, target: target,
                                                predictionGradient: predictionGradient, context: context)
        }
        return pointwiseMeanLoss(SmoothL1Term(beta: beta), "smooth L1 loss", algorithm: algorithm, prediction: prediction,
                                 target: target, gradient: predictionGradient, context: context)
    }
}

/// Huber (see ``L1LossKernel`` for the table); `delta` must be finite and > 0.
public enum HuberLossKernel {
    /// Returns the mean loss; **overwrites** `predictionGradient` when given.
    public static func lossAndGradient(
        algorithm: ActivationAlgorithm, delta: Float, prediction: UnsafeBufferPointer<Float>, target: UnsafeBufferPointer<Float>,
        predictionGradient: UnsafeMutableBufferPointer<Float>?, context: ComputeContext
    ) -> Float {
        require(delta > 0 && delta.isFinite, "Huber delta must be finite and > 0, got \(delta)")
        return pointwiseMeanLoss(HuberTerm(delta: delta), "Huber loss", algorithm: algorithm, prediction: prediction,
                                 target: target, gradient: predictionGradient, context: context)
    }
}

/// Binary cross-entropy of logits `x` against targets `t` in [0, 1] (see ``L1LossKernel`` for the
/// table). `log(1 + u)` for `u = e^(−|x|) ∈ (0, 1]` is `log1pf` in `naive` and, in `simd`,
/// `2·atanh(s)` with `s = u/(2 + u) ≤ 1/3` by its odd series to `s¹⁵` (truncation < 2·10⁻⁸ relative).
public enum BinaryCrossEntropyWithLogitsKernel {
    /// Returns the mean loss; **overwrites** `logitsGradient` when given.
    public static func lossAndGradient(
        algorithm: ActivationAlgorithm, logits: UnsafeBufferPointer<Float>, target: UnsafeBufferPointer<Float>,
        logitsGradient: UnsafeMutableBufferPointer<Float>?, context: ComputeContext
    ) -> Float {
        pointwiseMeanLoss(BinaryCrossEntropyTerm(), "binary cross-entropy", algorithm: algorithm, prediction: logits,
                          target: target, gradient: logitsGradient, context: context)
    }
}

/// One element's loss term and derivative, on one float (`naive`) and on 16 lanes (`simd`).
protocol PointwiseLossTerm: Sendable {
    func scalar(_ p: Float, _ t: Float) -> (loss: Float, derivative: Float)
    func vector(_ p: SIMD16<Float>, _ t: SIMD16<Float>) -> (loss: SIMD16<Float>, derivative: SIMD16<Float>)
}

@inline(__always)
func absolute(_ v: SIMD16<Float>) -> SIMD16<Float> {
    unsafeBitCast(unsafeBitCast(v, to: SIMD16<UInt32>.self) & 0x7fff_ffff, to: SIMD16<Float>.self)
}

/// −1, 0 or 1 per lane (NaN stays NaN).
@inline(__always)
func signum(_ d: SIMD16<Float>) -> SIMD16<Float> {
    SIMD16<Float>(repeating: 0).replacing(with: 1, where: d .> 0).replacing(with: -1, where: d .< 0)
        .replacing(with: d, where: d .!= d)
}

@inline(__always)
func signum(_ d: Float) -> Float { d > 0 ? 1 : (d < 0 ? -1 : d) }

struct L1Term: PointwiseLossTerm {
    @inline(__always) func scalar(_ p: Float, _ t: Float) -> (loss: Float, derivative: Float) {
        let d = p - t
        return (abs(d), signum(d))
    }
    @inline(__always) func vector(_ p: SIMD16<Float>, _ t: SIMD16<Float>) -> (loss: SIMD16<Float>, derivative: SIMD16<Float>) {
        let d = p - t
        return (absolute(d), signum(d))
    }
}

struct SmoothL1Term: PointwiseLossTerm {
    let beta: Float
    @inline(__always) func scalar(_ p: Float, _ t: Float) -> (loss: Float, derivative: Float) {
        let d = p - t, z = abs(d)
        return (z < beta ? 0.5 * d * d / beta : z - 0.5 * beta, d < -beta ? -1 : (d > beta ? 1 : d / beta))
    }
    @inline(__always) func vector(_ p: SIMD16<Float>, _ t: SIMD16<Float>) -> (loss: SIMD16<Float>, derivative: SIMD16<Float>) {
        let d = p - t, z = absolute(d)
        let loss = (z - 0.5 * beta).replacing(with: 0.5 * d * d / beta, where: z .< beta)
        let derivative = (d / beta).replacing(with: -1, where: d .< -beta).replacing(with: 1, where: d .> beta)
        return (loss, derivative)
    }
}

struct HuberTerm: PointwiseLossTerm {
    let delta: Float
    @inline(__always) func scalar(_ p: Float, _ t: Float) -> (loss: Float, derivative: Float) {
        let d = p - t, z = abs(d)
        return (z < delta ? 0.5 * d * d : delta * (z - 0.5 * delta), d < -delta ? -delta : (d > delta ? delta : d))
    }
    @inline(__always) func vector(_ p: SIMD16<Float>, _ t: SIMD16<Float>) -> (loss: SIMD16<Float>, derivative: SIMD16<Float>) {
        let d = p - t, z = absolute(d)
        let loss = (delta * (z - 0.5 * delta)).replacing(with: 0.5 * d * d, where: z .< delta)
        let derivative = d.replacing(with: -delta, where: d .< -delta).replacing(with: delta, where: d .> delta)
        return (loss, derivative)
    }
}

struct BinaryCrossEntropyTerm: PointwiseLossTerm {
    @inline(__always) func scalar(_ x: Float, _ t: Float) -> (loss: Float, derivative: Float) {
        let loss = (1 - t) * x + max(-x, 0) + log1pf(expf(-abs(x)))
        return (loss, ScalarMath.sigmoid(x) - t)
    }
    @inline(__always) func vector(_ x: SIMD16<Float>, _ t: SIMD16<Float>) -> (loss: SIMD16<Float>, derivative: SIMD16<Float>) {
        let u = VectorMath.exp(-absolute(x))
        let s = u / (2 + u), s2 = s * s
        var series = SIMD16<Float>(repeating: 1 / 15)
        series = series * s2 + 1 / 13
        series = series * s2 + 1 / 11
        series = series * s2 + 1 / 9
        series = series * s2 + 1 / 7
        series = series * s2 + 1 / 5
        series = series * s2 + 1 / 3
        series = series * s2 + 1
        let softplus = 2 * s * series                                          // log(1 + u)
        let negativePart = SIMD16<Float>(repeating: 0).replacing(with: -x, where: x .< 0)   // max(−x, 0)
        let loss = (1 - t) * x + negativePart + softplus
        return (loss, VectorMath.sigmoid(x) - t)
    }
}

/// The shared driver of the pointwise losses (see ``L1LossKernel``).
@inline(__always)
func pointwiseMeanLoss<Term: PointwiseLossTerm>(
    _ term: Term, _ what: String, algorithm: ActivationAlgorithm, prediction: UnsafeBufferPointer<Float>,
    target: UnsafeBufferPointer<Float>, gradient: UnsafeMutableBufferPointer<Float>?, context: ComputeContext
) -> Float {
    let count = prediction.count
    require(count >= 1, "\(what) of an empty buffer")
    require(target.count == count, "\(what): target holds \(target.count) floats, prediction \(count)")
    require(gradient == nil || gradient!.count == count, "\(what): gradient must hold \(count) floats")
    guard let p = prediction.baseAddress, let t = target.baseAddress else { return .nan }
    let scale = 1 / Float(count)
    switch algorithm {
    case .naive:
        var total = 0.0
        for i in 0..<count {
            let (loss, derivative) = term.scalar(p[i], t[i])
            total += Double(loss)
            if let g = gradient { g[i] = derivative * scale }
        }
        return Float(total / Double(count))
    case .simd:
        let ps = SharedBuffer(readOnly: UnsafeBufferPointer(start: p, count: count))
        let ts = SharedBuffer(readOnly: UnsafeBufferPointer(start: t, count: count))
        let gs = gradient.map { SharedBuffer($0) }
        let total = deterministicSum(count: count, elementsPerTerm: 4, context: context) { range in
            pointwiseBlockSum(term, ps.base, ts.base, gs?.base, range, scale)
        }
        return Float(total / Double(count))
    }
}

/// Σ ℓ over `range` in strips of 1,024 floats (Float lanes per strip, `Double` across strips);
/// writes `ℓ' · scale` to `g`. Lanes past the end of the tail add nothing.
@inline(__always)
func pointwiseBlockSum<Term: PointwiseLossTerm>(
    _ term: Term, _ p: UnsafePointer<Float>, _ t: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>?,
    _ range: Range<Int>, _ scale: Float
) -> Double {
    var total = 0.0
    var i = range.lowerBound
    let lanes = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
    while i < range.upperBound {
        let stripEnd = min(range.upperBound, i + 1024)
        var acc = SIMD16<Float>(repeating: 0)
        while i + 16 <= stripEnd {
            let (loss, derivative) = term.vector(load16(p + i), load16(t + i))
            acc += loss
            if let g { store16(derivative * scale, g + i) }
            i += 16
        }
        if i < stripEnd {
            let n = stripEnd - i
            let (loss, derivative) = term.vector(loadPartial16(p + i, count: n), loadPartial16(t + i, count: n))
            acc += loss.replacing(with: 0, where: lanes .>= Int32(n))
            if let g { storePartial16(derivative * scale, g + i, count: n) }
            i = stripEnd
        }
        total += Double(SoftmaxSIMD.laneSum(acc))
    }
    return total
}
