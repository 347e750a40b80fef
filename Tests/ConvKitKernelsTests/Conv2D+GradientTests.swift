import Testing
import _ConvKitTestSupport

/// Finite-difference checks of the naive backward passes, which proves the reference itself.
///
/// Loss: `L = Σ output ⊙ probe` in Double, with a fixed random probe, so that
/// `∂L/∂input = backwardData(probe)`, `∂L/∂filter = backwardFilter(input, probe)` and
/// `∂L/∂bias = Σ probe`. The convolution is linear in each argument, so the central difference
/// with step 1 is exact up to rounding (every output not touched by the perturbed element is
/// bit-identical in both evaluations and cancels exactly in Double).
@Suite("Conv2D naive backward vs finite differences")
struct Conv2DGradientTests {
    static let table: [NamedConv] = (try? ConvShapeTable.edgeCases()) ?? []

    static func loss(_ g: Conv2DGeometry, x: [Float], w: [Float], b: [Float], probe: [Float]) -> Double {
        dotDouble(Conv2DRunner.forward(g, .naive, input: x, filter: w, bias: b), probe)
    }

    /// Agreement within 1e-4 relative (plus 1e-4 absolute): rounding of Float forward passes whose
    /// outputs are O(1..10), differenced in Double.
    static func close(_ numeric: Double, _ analytic: Float) -> Bool {
        abs(numeric - Double(analytic)) <= 1e-4 * (1 + abs(Double(analytic)))
    }

    @Test(arguments: table)
    func naiveGradients(_ shape: NamedConv) {
        let g = shape.geometry
        let x = [Float].random(count: g.inputCount, seed: 101)
        let w = [Float].random(count: g.filterCount, seed: 102)
        let b = [Float].random(count: g.outputChannels, seed: 103)
        let probe = [Float].random(count: g.outputCount, seed: 104)

        let dx = Conv2DRunner.backwardData(g, .naive, outputGradient: probe, filter: w)
        let xi = sampleIndices(g.inputCount, count: 40)
        let numericX = numericalGradient(of: { Self.loss(g, x: $0, w: w, b: b, probe: probe) }, at: x, step: 1, indices: xi)
        for (k, i) in xi.enumerated() {
            #expect(Self.close(numericX[k], dx[i]), "\(shape) dx[\(i)]: numeric \(numericX[k]) vs \(dx[i])")
        }

        let (dw, db) = Conv2DRunner.backwardFilter(g, .naive, input: x, outputGradient: probe)
        let wi = sampleIndices(g.filterCount, count: 40)
        let numericW = numericalGradient(of: { Self.loss(g, x: x, w: $0, b: b, probe: probe) }, at: w, step: 1, indices: wi)
        for (k, i) in wi.enumerated() {
            #expect(Self.close(numericW[k], dw[i]), "\(shape) dw[\(i)]: numeric \(numericW[k]) vs \(dw[i])")
        }

        let bi = Array(0..<g.outputChannels)
        let numericB = numericalGradient(of: { Self.loss(g, x: x, w: w, b: $0, probe: probe) }, at: b, step: 1, indices: bi)
        for o in bi {
            #expect(Self.close(numericB[o], db[o]), "\(shape) db[\(o)]: numeric \(numericB[o]) vs \(db[o])")
        }
    }
}
