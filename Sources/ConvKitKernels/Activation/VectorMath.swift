/// Vectorised `exp`, `tanh` and logistic sigmoid on `SIMD16<Float>`, in plain Swift.
///
/// Neither the standard library nor swift-numerics has vector transcendental functions (they
/// call scalar libm per lane). These are polynomial approximations written only with
/// SIMD `+ − * /`, comparisons, `.replacing(with:where:)` masks and integer bit operations, the
/// operations that compile to straight-line SSE2 code on baseline x86-64 (see docs/SIMD.md;
/// `pointwiseMin/Max`, `.clamped` and `addingProduct` do not).
///
/// Error bounds, measured against `Double` (glibc) in `VectorMath+Tests.swift` over every 97th
/// float in [−100, 100] plus the extremes (the test asserts these bounds):
///
/// | function  | stated bound | measured max | notes |
/// |-----------|--------------|--------------|-------|
/// | `exp`     | ≤ 1.5 ulp    | 0.96 ulp     | +∞ for x ≥ 88.7229, gradual underflow to 0 at −103.97 |
/// | `tanh`    | ≤ 2 ulp      | 1.39 ulp     | exactly ±1 for \|x\| ≥ 9.02 |
/// | `sigmoid` | ≤ 3 ulp      | 2.71 ulp     | exact 0 / 1 limits, never NaN for non-NaN input |
///
/// Special values (all three): NaN in gives NaN out (never clamped into a number);
/// `exp(+∞) = +∞`, `exp(−∞) = 0`, `tanh(±∞) = ±1`, `sigmoid(+∞) = 1`, `sigmoid(−∞) = 0`.
public enum VectorMath {
    public typealias Vector = SIMD16<Float>

    /// `e^x` per lane (Cephes-style: Cody–Waite reduction `x = n·ln2 + r`, degree-6 polynomial
    /// for `e^r`, then the scale `2^n` applied as two exact power-of-two factors so that results
    /// near `Float.greatestFiniteMagnitude` and in the subnormal range are right).
    @inlinable @inline(__always)
    public static func exp(_ input: Vector) -> Vector {
        var x = input
        // Beyond these the result is +∞ / 0 anyway; clamping keeps n within [−150, 128].
        // NaN compares false and passes through unchanged.
        x.replace(with: 89, where: x .> 89)
        x.replace(with: -104, where: x .< -104)
        let magic: Float = 12582912                         // 1.5·2^23: adding it rounds to an integer
        let t = x * 1.44269504088896341 + magic
        let n = t - magic                                   // n = round(x / ln 2)
        var r = x - n * 0.693359375                         // ln 2 = 0.693359375 − 2.12194440e-4 (+ tiny)
        r = r - n * -2.12194440e-4
        var p = Vector(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let y = p * (r * r) + r + 1                         // e^r, r in [−ln2/2, ln2/2]
        // 2^n as 2^n1 · 2^n2 with n1 = floor(n/2), both normal floats for n in [−150, 128].
        let ni = unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000   // bits of t − bits of magic = n
        let n1 = ni &>> 1
        let n2 = ni &- n1
        let s1 = unsafeBitCast((n1 &+ 127) &<< 23, to: Vector.self)
        let s2 = unsafeBitCast((n2 &+ 127) &<< 23, to: Vector.self)
        var result = y * s1 * s2                            // y·s1 is exact; one rounding at the end
        result.replace(with: input, where: input .!= input)  // NaN in, NaN out (explicitly)
        return result
    }

    /// `tanh(x)` per lane, from two formulas blended by a mask:
    ///
    ///     |x| < 0.55:   x + x³·P(x²), P the Taylor series of (tanh x − x)/x³ to x¹⁶ (truncation
    ///                   < 1e-8 relative at 0.55; the leading x is exact, so tiny and subnormal x
    ///                   come out exact)
    ///     |x| >= 0.55:  sign(x) · (1 − 2 / (e^(2|x|) + 1))      (no cancellation: the result is > 0.5)
    ///
    /// The second form reaches exactly ±1 by rounding (for |x| > 9.02) and at ±∞.
    @inlinable @inline(__always)
    public static func tanh(_ input: Vector) -> Vector {
        let bits = unsafeBitCast(input, to: SIMD16<UInt32>.self)
        let sign = bits & 0x8000_0000
        let magnitude = unsafeBitCast(bits & 0x7FFF_FFFF, to: Vector.self)
        let x = input
        let x2 = x * x
        var p = Vector(repeating: -2.3912911424355248e-4)
        p = p * x2 + 5.90027440945586e-4
        p = p * x2 + -1.4558343870513183e-3
        p = p * x2 + 3.592128036572481e-3
        p = p * x2 + -8.863235529902197e-3
        p = p * x2 + 2.1869488536155203e-2
        p = p * x2 + -5.396825396825397e-2
        p = p * x2 + 1.3333333333333333e-1
        p = p * x2 + -3.3333333333333333e-1
        var result = x + x * x2 * p
        result.replace(with: input, where: magnitude .< 2e-4)   // exact there; keeps the sign of −0
        // Large |x|: 1 − 2/(e^(2|x|) + 1); exp(+∞) = +∞ gives exactly 1. NaN compares false above
        // and below, so a NaN lane keeps the polynomial result, which is NaN.
        let large = 1 - 2 / (exp(magnitude + magnitude) + 1)
        let signedLarge = unsafeBitCast(unsafeBitCast(large, to: SIMD16<UInt32>.self) | sign, to: Vector.self)
        result.replace(with: signedLarge, where: magnitude .>= 0.55)
        return result
    }

    /// The logistic sigmoid `1 / (1 + e^−x)` per lane, computed without overflow as
    ///
    ///     e = exp(−|x|);  sigmoid(x) = 1 / (1 + e)  for x >= 0,   e / (1 + e)  for x < 0
    ///
    /// so it is accurate for large negative `x` too (no `1/(1 + ∞)`), reaching exactly 0 and 1.
    @inlinable @inline(__always)
    public static func sigmoid(_ input: Vector) -> Vector {
        let bits = unsafeBitCast(input, to: SIMD16<UInt32>.self)
        let negativeMagnitude = unsafeBitCast(bits | 0x8000_0000, to: Vector.self)   // −|x| (NaN stays NaN)
        let e = exp(negativeMagnitude)
        let r = 1 / (1 + e)
        var result = e * r
        result.replace(with: r, where: input .>= 0)
        return result
    }
}

/// Scalar references on libm (`naive` algorithms), with the same overflow-free sigmoid formula.
@usableFromInline
enum ScalarMath {
    @inline(__always) static func exp(_ x: Float) -> Float { expf(x) }
    @inline(__always) static func tanh(_ x: Float) -> Float { tanhf(x) }
    @inline(__always) static func log(_ x: Float) -> Float { logf(x) }
    @inline(__always) static func sigmoid(_ x: Float) -> Float {
        let e = expf(-abs(x))
        let r = 1 / (1 + e)
        return x >= 0 ? r : e * r
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
