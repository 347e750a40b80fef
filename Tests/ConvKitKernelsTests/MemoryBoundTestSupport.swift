import Foundation
import _ConvKitTestSupport

/// Helpers shared by the pooling, activation, loss and vector-math tests.

/// A context that always splits loops into two chunks (forces the parallel path on tiny data).
let splittingContext = ComputeContext(threads: 2, minimumElementsPerThread: 1)

/// The contexts every fast algorithm is run with: results must be identical for both.
let testContexts: [ComputeContext] = [.serial, splittingContext]

/// `true` when the two arrays are equal bit for bit, counting NaN == NaN.
func identical(_ a: [Float], _ b: [Float]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
}

/// The first index where the arrays differ (NaN == NaN), as a message, or `nil`.
func firstDifference(_ a: [Float], _ b: [Float]) -> String? {
    precondition(a.count == b.count)
    for i in 0..<a.count where !(a[i].bitPattern == b[i].bitPattern || (a[i].isNaN && b[i].isNaN)) {
        return "element \(i): \(a[i]) vs \(b[i])"
    }
    return nil
}

/// The distance of `value` from the exact result `reference` in units in the last place of
/// `Float` at `reference` (subnormal spacing below the normal range). Overflow counts as
/// `2^128`, so `Float.infinity` for a reference just above `greatestFiniteMagnitude` is ~1 ulp;
/// a reference beyond the rounding threshold to infinity expects exactly infinity.
func ulpError(_ value: Float, reference: Double) -> Double {
    if reference.isNaN || value.isNaN { return reference.isNaN && value.isNaN ? 0 : .infinity }
    let overflowThreshold = 0x1p128 - 0x1p103                     // halfway between FLT_MAX and 2^128
    if reference.magnitude >= overflowThreshold {
        return value == Float(reference) ? 0 : .infinity
    }
    let v = value.isInfinite ? (value > 0 ? 0x1p128 : -0x1p128) : Double(value)
    let magnitude = reference.magnitude
    let ulp = magnitude < Double(Float.leastNormalMagnitude)
        ? Double(Float.leastNonzeroMagnitude)
        : Double(sign: .plus, exponent: magnitude.exponent - 23, significand: 1)
    return (v - reference).magnitude / ulp
}

/// Central finite differences of `loss` at `x`, one element at a time, in `Double`.
/// The step actually taken (`Float(x + h) − Float(x − h)`) is the divisor, not `2h`.
func numericGradient(_ x: [Float], step h: Float, loss: ([Float]) -> Double) -> [Double] {
    var probe = x
    var gradient = [Double](repeating: 0, count: x.count)
    for i in 0..<x.count {
        let xi = x[i]
        probe[i] = xi + h
        let plus = loss(probe)
        let up = probe[i]
        probe[i] = xi - h
        let minus = loss(probe)
        let down = probe[i]
        probe[i] = xi
        gradient[i] = (plus - minus) / (Double(up) - Double(down))
    }
    return gradient
}

/// `Σ_i Double(y[i]) · Double(weights[i])`: the scalar probe loss of gradient checks.
func probeLoss(_ y: [Float], _ weights: [Float]) -> Double {
    zip(y, weights).reduce(0) { $0 + Double($1.0) * Double($1.1) }
}

/// The worst mismatch between an analytic and a numeric gradient, when
/// `|analytic − numeric| > absolute + relative · |numeric|`.
func gradientMismatch(_ analytic: [Float], _ numeric: [Double], absolute: Double, relative: Double) -> String? {
    for i in 0..<analytic.count {
        let a = Double(analytic[i]), n = numeric[i]
        if !((a - n).magnitude <= absolute + relative * n.magnitude) {
            return "element \(i): analytic \(a), numeric \(n)"
        }
    }
    return nil
}
