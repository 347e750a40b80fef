import Foundation
import Testing
import _ConvKitTestSupport

/// Accuracy of the vectorised exp / tanh / sigmoid against `Double` (glibc), in ulps of `Float`,
/// over every 97th float (by bit pattern) in [−100, 100] — about 23 million points per
/// function, subnormals included — plus the extremes. The bounds asserted here are the ones
/// stated in `VectorMath`'s documentation.
@Suite struct VectorMathTests {
    /// Every 97th float in [−100, 100], by bit pattern, both signs.
    static func sweep(_ body: (SIMD16<Float>) -> Void) {
        let top = Float(100).bitPattern
        var lanes = SIMD16<Float>(repeating: 0)
        var filled = 0
        for sign: UInt32 in [0, 0x8000_0000] {
            var bits: UInt32 = 0
            while bits <= top {
                lanes[filled] = Float(bitPattern: bits | sign)
                filled += 1
                if filled == 16 { body(lanes); filled = 0 }
                bits += 97
            }
        }
        if filled > 0 { body(lanes) }
    }

    static let extremes: [Float] = [
        0, -0.0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude, -.leastNormalMagnitude,
        1e-30, -1e-30, 4e-4, -4e-4, 0.5, -0.5, 1, -1, 0.55, -0.55, 0.5499, 7.9053, -7.9053, 9.0, 9.02, 9.1, -9.1, 15, -15,
        87.33654, -87.33654, 88.37626, 88.7228, 88.72283, 88.722839, 88.72284, 89, 100, 1000,
        -103, -103.28, -103.9, -104, -104.5, -1000,
        .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .infinity, -.infinity,
    ]

    /// Max ulp error of `f` against `reference` over the sweep and the extremes.
    func maxError(_ f: (SIMD16<Float>) -> SIMD16<Float>, _ reference: (Double) -> Double) -> (ulps: Double, at: Float) {
        var worst = 0.0, worstAt: Float = 0
        func check(_ v: SIMD16<Float>) {
            let y = f(v)
            for lane in 0..<16 {
                let e = ulpError(y[lane], reference: reference(Double(v[lane])))
                if e > worst { worst = e; worstAt = v[lane] }
            }
        }
        Self.sweep(check)
        for start in stride(from: 0, to: Self.extremes.count, by: 16) {
            var v = SIMD16<Float>(repeating: 0)
            for i in start..<min(start + 16, Self.extremes.count) { v[i - start] = Self.extremes[i] }
            check(v)
        }
        return (worst, worstAt)
    }

    static func sigmoidReference(_ x: Double) -> Double {
        x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x))
    }

    @Test func expWithinOneAndAHalfUlps() {
        let (ulps, at) = maxError(VectorMath.exp, Foundation.exp)
        print("VectorMath.exp: max error \(ulps) ulp at x = \(at)")
        #expect(ulps <= 1.5, "max error \(ulps) ulp at x = \(at)")
    }

    @Test func tanhWithinTwoUlps() {
        let (ulps, at) = maxError(VectorMath.tanh, Foundation.tanh)
        print("VectorMath.tanh: max error \(ulps) ulp at x = \(at)")
        #expect(ulps <= 2, "max error \(ulps) ulp at x = \(at)")
    }

    @Test func sigmoidWithinThreeUlps() {
        let (ulps, at) = maxError(VectorMath.sigmoid, Self.sigmoidReference)
        print("VectorMath.sigmoid: max error \(ulps) ulp at x = \(at)")
        #expect(ulps <= 3, "max error \(ulps) ulp at x = \(at)")
    }

    @Test func specialValues() {
        func lane0(_ f: (SIMD16<Float>) -> SIMD16<Float>, _ x: Float) -> Float { f(SIMD16(repeating: x))[0] }
        #expect(lane0(VectorMath.exp, .infinity) == .infinity)
        #expect(lane0(VectorMath.exp, -.infinity) == 0)
        #expect(lane0(VectorMath.exp, 89) == .infinity)
        #expect(lane0(VectorMath.exp, 0) == 1)
        #expect(lane0(VectorMath.exp, -.leastNonzeroMagnitude) == 1)
        #expect(lane0(VectorMath.tanh, .infinity) == 1)
        #expect(lane0(VectorMath.tanh, -.infinity) == -1)
        #expect(lane0(VectorMath.tanh, 0) == 0 && lane0(VectorMath.tanh, -0.0).sign == .minus)
        #expect(lane0(VectorMath.sigmoid, .infinity) == 1)
        #expect(lane0(VectorMath.sigmoid, -.infinity) == 0)
        #expect(lane0(VectorMath.sigmoid, 200) == 1)
        #expect(lane0(VectorMath.sigmoid, -200) == 0)
        #expect(lane0(VectorMath.sigmoid, 0) == 0.5)
        // Large |x| must never give NaN.
        for x: Float in [88, 89, 100, 1e10, .greatestFiniteMagnitude] {
            #expect(!lane0(VectorMath.sigmoid, x).isNaN && !lane0(VectorMath.sigmoid, -x).isNaN)
            #expect(!lane0(VectorMath.tanh, x).isNaN && !lane0(VectorMath.tanh, -x).isNaN)
        }
    }

    /// NaN in gives NaN out in every lane where it came in, and leaves the other lanes alone.
    @Test func nanPropagatesPerLane() {
        var v = SIMD16<Float>((0..<16).map { Float($0) - 8 })
        for lane in [0, 5, 15] { v[lane] = .nan }
        for f in [VectorMath.exp, VectorMath.tanh, VectorMath.sigmoid] {
            let y = f(v)
            for lane in 0..<16 { #expect(y[lane].isNaN == v[lane].isNaN, "lane \(lane)") }
        }
    }
}
