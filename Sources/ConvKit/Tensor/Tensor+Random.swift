/// Random tensors from an explicit generator (there is no hidden global random state).
extension Tensor {
    /// Elements drawn uniformly from `range`, in row-major order, from `generator`: each is
    /// `lower + (upper − lower)·u` with `u` on the 2²⁴-point grid of `[0, 1)`, one draw per element,
    /// so `upper` itself is reached only by rounding. Same generator state, same tensor.
    ///
    /// ```swift
    /// var rng = SplitMix64(seed: 0)
    /// let x = Tensor(shape: [2, 3], uniformIn: -1...1, using: &rng)
    /// ```
    public init(shape: Shape, uniformIn range: ClosedRange<Float>,
                using generator: inout some RandomNumberGenerator) {
        var values = [Float](repeating: 0, count: shape.count)
        for i in values.indices {
            values[i] = RandomSampling.uniform(range.lowerBound, range.upperBound, &generator)
        }
        self.init(uncheckedShape: shape, scalars: values)
    }

    /// Elements drawn uniformly from `[lower, upper)`; the same values as
    /// `init(shape:uniformIn: lower...upper, using:)`.
    @available(*, deprecated, renamed: "init(shape:uniformIn:using:)",
               message: "pass a range: Tensor(shape:uniformIn: lower...upper, using:)")
    public init(shape: Shape, uniformIn lower: Float, _ upper: Float,
                using generator: inout some RandomNumberGenerator) {
        self.init(shape: shape, uniformIn: lower...upper, using: &generator)
    }

    /// Elements drawn from the normal distribution N(`mean`, `standardDeviation`²) (Box–Muller
    /// on two uniform draws per pair of elements), in row-major order, from `generator`.
    public init(shape: Shape, normalMean mean: Float = 0, standardDeviation: Float,
                using generator: inout some RandomNumberGenerator) {
        var values = [Float](repeating: 0, count: shape.count)
        var i = 0
        while i < values.count {
            let (a, b) = RandomSampling.standardNormalPair(&generator)
            values[i] = mean + standardDeviation * a
            if i + 1 < values.count { values[i + 1] = mean + standardDeviation * b }
            i += 2
        }
        self.init(uncheckedShape: shape, scalars: values)
    }

    /// For shapes and scalars already known to agree (internal use).
    init(uncheckedShape shape: Shape, scalars: [Float]) {
        require(shape.count == scalars.count, "internal: \(shape) vs \(scalars.count) scalars")
        do { try self.init(shape: shape, scalars: scalars) } catch { requireFailed(error.description) }
    }
}

/// Sampling helpers shared by tensors and initialisers.
enum RandomSampling {
    /// Uniform in `[lower, upper)` from the top 24 bits of one draw.
    static func uniform(_ lower: Float, _ upper: Float, _ g: inout some RandomNumberGenerator) -> Float {
        let unit = Float(g.next() >> 40) * (1.0 / Float(1 << 24))
        return lower + (upper - lower) * unit
    }

    /// Two independent N(0, 1) samples (Box–Muller, computed in Double).
    static func standardNormalPair(_ g: inout some RandomNumberGenerator) -> (Float, Float) {
        // u1 in (0, 1] so that log(u1) is finite; u2 in [0, 1).
        let u1 = (Double(g.next() >> 11) + 1) * (1.0 / 9007199254740992.0)
        let u2 = Double(g.next() >> 11) * (1.0 / 9007199254740992.0)
        let radius = (-2 * _log(u1)).squareRoot()
        let angle = 2 * Double.pi * u2
        return (Float(radius * _cos(angle)), Float(radius * _sin(angle)))
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) private func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Glibc.cos(x) }
@inline(__always) private func _sin(_ x: Double) -> Double { Glibc.sin(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) private func _log(_ x: Double) -> Double { Darwin.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Darwin.cos(x) }
@inline(__always) private func _sin(_ x: Double) -> Double { Darwin.sin(x) }
#endif
