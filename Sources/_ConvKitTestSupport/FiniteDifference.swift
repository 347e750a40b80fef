/// Central finite differences of a scalar function of a Float vector, evaluated in Double.
///
///     ∂f/∂x_i ≈ (f(x + h·e_i) − f(x − h·e_i)) / 2h
///
/// For functions that are linear in `x` (a convolution in its input or its weights), the central
/// difference is exact for any `h`, so a large `h` (e.g. 1) removes truncation error and leaves only
/// rounding error. `indices` limits the check to a subset of coordinates (large tensors).
public func numericalGradient(
    of f: ([Float]) -> Double, at x: [Float], step h: Float, indices: [Int]
) -> [Double] {
    var probe = x
    var result: [Double] = []
    result.reserveCapacity(indices.count)
    for i in indices {
        let original = probe[i]
        probe[i] = original + h
        let plus = f(probe)
        probe[i] = original - h
        let minus = f(probe)
        probe[i] = original
        // Use the step actually represented in Float.
        let actualStep = Double(original + h) - Double(original - h)
        result.append((plus - minus) / actualStep)
    }
    return result
}

/// `Σ a_i · b_i` in Double.
public func dotDouble(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count)
    var s = 0.0
    for i in 0..<a.count { s += Double(a[i]) * Double(b[i]) }
    return s
}

/// Up to `count` indices spread evenly over `0..<total` (always including the first and last).
public func sampleIndices(_ total: Int, count: Int) -> [Int] {
    if total <= count { return Array(0..<total) }
    return (0..<count).map { $0 * (total - 1) / (count - 1) }
}
