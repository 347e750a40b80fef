import ConvKit
import Testing
import _ConvKitTestSupport

@Suite struct TensorTests {
    @Test func initialiserChecksCount() throws {
        let t = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(t.shape == [2, 3] && t.count == 6 && t[flat: 4] == 5)
        let error = #expect(throws: ShapeError.self) { try Tensor(shape: [2, 3], scalars: [1, 2, 3]) }
        #expect(error?.reason == .mismatch)
        #expect(error?.message == "tensor of shape [2, 3] needs 6 scalars, got 3")
    }

    @Test func shapeRejectsNegativeAndOverflow() {
        let negative = #expect(throws: ShapeError.self) { try Shape([2, -1]) }
        #expect(negative?.reason == .nonPositive)
        #expect(negative?.message.contains("-1") == true)
        let overflow = #expect(throws: ShapeError.self) { try Shape([1 << 40, 1 << 40]) }
        #expect(overflow?.reason == .overflow)
    }

    @Test func reshapeNamesBothShapes() throws {
        let t = Tensor(shape: [2, 3], repeating: 1)
        #expect(try t.reshaped(to: [3, 2]).shape == [3, 2])
        let error = #expect(throws: ShapeError.self) { try t.reshaped(to: [4, 2]) }
        #expect(error?.message == "cannot reshape [2, 3] (6 elements) to [4, 2] (8 elements)")
    }

    @Test func valueSemantics() throws {
        let a = try Tensor(shape: [3], scalars: [1, 2, 3])
        var b = a
        b[flat: 0] = 10
        b.withUnsafeMutableBufferPointer { $0[1] = 20 }
        #expect(a.scalars == [1, 2, 3])
        #expect(b.scalars == [10, 20, 3])
    }

    @Test func seededRandomIsReproducible() {
        var g1 = SplitMix64(seed: 7), g2 = SplitMix64(seed: 7)
        let a = Tensor(shape: [4, 5], normalMean: 0, standardDeviation: 1, using: &g1)
        let b = Tensor(shape: [4, 5], normalMean: 0, standardDeviation: 1, using: &g2)
        #expect(a == b)
        let u = Tensor(shape: [1000], uniformIn: -2...3, using: &g1)
        #expect(u.scalars.allSatisfy { $0 >= -2 && $0 < 3 })
    }

    @Test func normalSamplesHaveRoughlyUnitVariance() {
        var g = SplitMix64(seed: 11)
        let t = Tensor(shape: [20_000], normalMean: 1, standardDeviation: 2, using: &g)
        let mean = t.scalars.reduce(0.0) { $0 + Double($1) } / 20_000
        let variance = t.scalars.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / 20_000
        // Standard error of the mean is 2/√20000 ≈ 0.014 and of the variance ≈ 4·√(2/20000) ≈ 0.04.
        #expect(abs(mean - 1) < 0.06)
        #expect(abs(variance - 4) < 0.2)
    }
}
