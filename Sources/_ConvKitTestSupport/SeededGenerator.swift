// Seeded data for tests and benchmarks, drawn from ``SplitMix64`` (ConvKitKernels): the one
// seeded generator of the package, so tests, benchmarks and users draw the same sequences.

extension SplitMix64 {
    /// A float uniform in `range` (`lower + (upper − lower)·u`, `u` on the 2²⁴-point grid of
    /// `[0, 1)`: the formula of `Tensor(shape:uniformIn:using:)`).
    public mutating func uniform(in range: ClosedRange<Float> = -1...1) -> Float {
        let unit = Float(next() >> 40) * (1.0 / Float(1 << 24))
        return range.lowerBound + (range.upperBound - range.lowerBound) * unit
    }
}

extension Array where Element == Float {
    /// `count` floats uniform in `range` from a ``SplitMix64`` seeded with `seed`.
    public static func random(count: Int, seed: UInt64, in range: ClosedRange<Float> = -1...1) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in rng.uniform(in: range) }
    }

    /// `count` NaNs: outputs are filled with these before a kernel runs, so that any element the
    /// kernel forgets to write shows up as NaN.
    public static func poisoned(count: Int) -> [Float] { [Float](repeating: .nan, count: count) }
}
