/// The result of comparing a computed buffer with a reference, element by element.
public struct Mismatch: CustomStringConvertible, Sendable {
    public let index: Int
    public let value: Float
    public let expected: Float
    public let tolerance: Float
    public var description: String {
        "element \(index): got \(value), expected \(expected) (|diff| \(abs(value - expected)) > tolerance \(tolerance))"
    }
}

/// Compares `actual` with `expected` element-wise. Each element `i` may differ by
/// `tolerance(i)`; NaN anywhere in `actual` where `expected` is a number is a mismatch
/// (this is how NaN-poisoned outputs catch unwritten elements).
/// Returns the worst mismatch (largest ratio of difference to tolerance), or `nil`.
public func firstMismatch(_ actual: [Float], _ expected: [Float], tolerance: (Int) -> Float) -> Mismatch? {
    precondition(actual.count == expected.count, "sizes differ: \(actual.count) vs \(expected.count)")
    var worst: Mismatch? = nil
    var worstRatio: Float = 1
    for i in 0..<actual.count {
        let a = actual[i], e = expected[i]
        if e.isNaN && a.isNaN { continue }
        let t = tolerance(i)
        if a.isNaN || e.isNaN || a.isInfinite != e.isInfinite {
            return Mismatch(index: i, value: a, expected: e, tolerance: t)
        }
        if a == e { continue }
        let ratio = abs(a - e) / max(t, .leastNonzeroMagnitude)
        if ratio > worstRatio { worstRatio = ratio; worst = Mismatch(index: i, value: a, expected: e, tolerance: t) }
    }
    return worst
}

/// Tolerance for a sum of `terms` products, computed two ways (a fast algorithm and the naive
/// loop), each in Float:
///
///     |fast − naive| <= 2 · terms · ε · Σ|a_i·b_i|   (+ a tiny absolute floor)
///
/// Why: the classic bound on a floating-point dot product of length k is γ_k·Σ|a_i b_i| with
/// γ_k ≈ k·ε; two independent summations may each err by that much in opposite directions.
/// `magnitude` is Σ|a_i·b_i| for the element (computed by running the naive kernel on |a|, |b|).
public func sumTolerance(terms: Int, magnitude: Float) -> Float {
    2 * Float(max(terms, 1)) * Float.ulpOfOne * magnitude + 1e-30
}

/// Extra factor on ``sumTolerance(terms:magnitude:)`` for what `algorithm` runs (pass
/// `algorithm.effective(for: g)`): 1 except for Winograd.
///
/// - ``Conv2DAlgorithm/winograd`` (F(2×2, 3×3)): 8. Its transforms add up to 4×4 inputs with
///   coefficients 1 and ½ (exact in binary); per axis the absolute coefficients that multiply one
///   product `d·g` add up to at most 8/3 of direct summation's, (8/3)² ≈ 7.1 in 2-D; measured up to
///   2.4× direct's error in float32 (Lavin & Gray; docs/decisions/Research-notes.md §2.4).
/// - ``Conv2DAlgorithm/winograd4x4`` (F(4×4, 3×3)): 256. Coefficients reach 5 (`Bᵀ`), 8 (`Aᵀ`)
///   and 1/6, 1/24 (`G`, inexact); per axis the absolute coefficients add up to at most 16× direct
///   summation's (the last output row), 16² = 256 in 2-D: the same bound as F(2×2)'s, derived the
///   same way. Measured on the suite's 3×3 layers (random data in [−1, 1)): see docs/Kernels.md.
public func winogradFactor(_ algorithm: Conv2DAlgorithm) -> Float {
    switch algorithm {
    case .winograd: return 8
    case .winograd4x4: return 256
    default: return 1
    }
}
