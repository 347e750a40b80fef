import _ConvKitTestSupport

/// The outcome of comparing a fast result with the naive reference.
struct Check: Sendable {
    var passed: Bool
    /// Largest |actual − expected| / tolerance over the compared elements.
    var worstRatio: Double
    var message: String?

    static let passed = Check(passed: true, worstRatio: 0, message: nil)

    /// Both checks must pass; the worse ratio and the first message are kept.
    func and(_ other: Check) -> Check {
        Check(passed: passed && other.passed, worstRatio: max(worstRatio, other.worstRatio),
              message: message ?? other.message)
    }
}

enum Verify {
    /// Element-wise comparison with the tests' tolerance: element `i` may differ by
    /// `2 · terms · ε · magnitude[i]`, where `magnitude[i] = Σ|a·b|` over the element's terms
    /// (obtained by running the naive kernel on absolute values). Two Float summations of `terms`
    /// products in different orders can each be off by ~terms·ε·Σ|a·b| (the classic dot-product bound).
    /// NaN in `actual` (the outputs are poisoned with NaN before the call) is a mismatch.
    /// `factor` widens the bound for algorithms with a larger proven error (Winograd: 8, as in the tests).
    static func compare(_ what: String, actual: UnsafeBufferPointer<Float>, expected: [Float],
                        magnitude: [Float], terms: Int, factor: Float = 1) -> Check {
        precondition(actual.count >= expected.count && magnitude.count == expected.count)
        var worst = 0.0
        var worstIndex = -1
        for i in 0..<expected.count {
            let a = actual[i], e = expected[i]
            let tolerance = factor * sumTolerance(terms: terms, magnitude: magnitude[i])
            if a.isNaN || !a.isFinite {
                return Check(passed: false, worstRatio: .infinity,
                             message: "\(what)[\(i)] = \(a), expected \(e) (element not written or overflowed)")
            }
            let ratio = Double(abs(a - e)) / Double(tolerance)
            if ratio > worst { worst = ratio; worstIndex = i }
        }
        if worst > 1, worstIndex >= 0 {
            let i = worstIndex
            return Check(passed: false, worstRatio: worst,
                         message: "\(what)[\(i)] = \(actual[i]), expected \(expected[i]), |diff| \(abs(actual[i] - expected[i])) > tolerance \(factor * sumTolerance(terms: terms, magnitude: magnitude[i]))")
        }
        return Check(passed: true, worstRatio: worst, message: nil)
    }

    /// Fails when any element of `buffer` is NaN (an element the kernel did not write).
    static func fullyWritten(_ what: String, _ buffer: UnsafeBufferPointer<Float>) -> Check {
        for i in 0..<buffer.count where buffer[i].isNaN {
            return Check(passed: false, worstRatio: .infinity, message: "\(what)[\(i)] is NaN: element not written")
        }
        return .passed
    }
}
