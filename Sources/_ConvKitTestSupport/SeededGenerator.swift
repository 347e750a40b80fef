/// A small, fast, reproducible random generator (SplitMix64), for tests and benchmarks.
/// Same seed, same sequence, on every platform.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// A float uniform in `[lower, upper)`.
    public mutating func uniform(_ lower: Float = -1, _ upper: Float = 1) -> Float {
        let unit = Float(next() >> 40) * (1.0 / Float(1 << 24))
        return lower + (upper - lower) * unit
    }
}

extension Array where Element == Float {
    /// `count` floats uniform in `[lower, upper)` from a generator seeded with `seed`.
    public static func random(count: Int, seed: UInt64, in lower: Float = -1, _ upper: Float = 1) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in rng.uniform(lower, upper) }
    }

    /// `count` NaNs: outputs are filled with these before a kernel runs, so that any element the
    /// kernel forgets to write shows up as NaN.
    public static func poisoned(count: Int) -> [Float] { [Float](repeating: .nan, count: count) }
}
