import Testing
import _ConvKitTestSupport

@Suite("Dense gemm vs naive, and gradients")
struct DenseTests {
    static let shapes: [DenseGeometry] = [
        (1, 1, 1), (1, 7, 3), (5, 13, 9), (64, 400, 120), (3, 257, 33), (2, 1, 40),
    ].compactMap { try? DenseGeometry(batch: $0.0, inputFeatures: $0.1, outputFeatures: $0.2) }
    static let contexts: [ComputeContext] = [.serial, ComputeContext(threads: 2)]

    @Test func tableIsPopulated() { #expect(Self.shapes.count == 6) }

    @Test(arguments: shapes)
    func gemmMatchesNaive(_ g: DenseGeometry) {
        let x = [Float].random(count: g.inputCount, seed: 1)
        let w = [Float].random(count: g.weightCount, seed: 2)
        let b = [Float].random(count: g.outputFeatures, seed: 3)
        let dy = [Float].random(count: g.outputCount, seed: 4)
        let y0 = DenseRunner.forward(g, .naive, input: x, weight: w, bias: b)
        let yMag = DenseRunner.forward(g, .naive, input: x.magnitudes, weight: w.magnitudes, bias: b.magnitudes)
        let dx0 = DenseRunner.backwardData(g, .naive, outputGradient: dy, weight: w)
        let dxMag = DenseRunner.backwardData(g, .naive, outputGradient: dy.magnitudes, weight: w.magnitudes)
        let dw0 = DenseRunner.backwardWeights(g, .naive, input: x, outputGradient: dy)
        let dwMag = DenseRunner.backwardWeights(g, .naive, input: x.magnitudes, outputGradient: dy.magnitudes)
        for context in Self.contexts {
            let y = DenseRunner.forward(g, .gemm, input: x, weight: w, bias: b, context: context)
            let e1 = firstMismatch(y, y0) { sumTolerance(terms: g.inputFeatures + 1, magnitude: yMag[$0]) }
            #expect(e1 == nil, "forward \(g): \(e1.map(String.init(describing:)) ?? "")")
            let yNoBias = DenseRunner.forward(g, .gemm, input: x, weight: w, bias: nil, context: context)
            let y0NoBias = DenseRunner.forward(g, .naive, input: x, weight: w, bias: nil)
            #expect(firstMismatch(yNoBias, y0NoBias) { sumTolerance(terms: g.inputFeatures, magnitude: yMag[$0]) } == nil)
            let dx = DenseRunner.backwardData(g, .gemm, outputGradient: dy, weight: w, context: context)
            let e2 = firstMismatch(dx, dx0) { sumTolerance(terms: g.outputFeatures, magnitude: dxMag[$0]) }
            #expect(e2 == nil, "backwardData \(g): \(e2.map(String.init(describing:)) ?? "")")
            let dw = DenseRunner.backwardWeights(g, .gemm, input: x, outputGradient: dy, context: context)
            let e3 = firstMismatch(dw.weight, dw0.weight) { sumTolerance(terms: g.batch, magnitude: dwMag.weight[$0]) }
            let e4 = firstMismatch(dw.bias, dw0.bias) { sumTolerance(terms: g.batch, magnitude: dwMag.bias[$0]) }
            #expect(e3 == nil, "backwardWeights \(g): \(e3.map(String.init(describing:)) ?? "")")
            #expect(e4 == nil, "bias gradient \(g): \(e4.map(String.init(describing:)) ?? "")")
        }
    }

    @Test(arguments: DenseAlgorithm.allCases)
    func accumulateAdds(_ algorithm: DenseAlgorithm) throws {
        let g = try DenseGeometry(batch: 4, inputFeatures: 6, outputFeatures: 5)
        let x = [Float].random(count: g.inputCount, seed: 7)
        let dy = [Float].random(count: g.outputCount, seed: 8)
        let w0 = [Float].random(count: g.weightCount, seed: 9)
        let b0 = [Float].random(count: g.outputFeatures, seed: 10)
        let fresh = DenseRunner.backwardWeights(g, algorithm, input: x, outputGradient: dy)
        let summed = DenseRunner.backwardWeights(g, algorithm, input: x, outputGradient: dy, initial: (w0, b0))
        for i in 0..<g.weightCount { #expect(abs(summed.weight[i] - (w0[i] + fresh.weight[i])) <= 1e-5) }
        for o in 0..<g.outputFeatures { #expect(abs(summed.bias[o] - (b0[o] + fresh.bias[o])) <= 1e-5) }
    }

    /// Worked example: x = [1 2], W = [[1 0],[0 1],[1 1]], b = [0.5 0 -1] gives y = [1.5 2 2].
    @Test(arguments: DenseAlgorithm.allCases)
    func workedExample(_ algorithm: DenseAlgorithm) throws {
        let g = try DenseGeometry(batch: 1, inputFeatures: 2, outputFeatures: 3)
        let y = DenseRunner.forward(g, algorithm, input: [1, 2], weight: [1, 0, 0, 1, 1, 1], bias: [0.5, 0, -1])
        #expect(y == [1.5, 2, 2])
    }

    /// Finite differences of the naive backward (L = Σ y ⊙ probe; linear, so step 1 is exact).
    @Test func naiveGradientsMatchFiniteDifferences() throws {
        let g = try DenseGeometry(batch: 3, inputFeatures: 7, outputFeatures: 5)
        let x = [Float].random(count: g.inputCount, seed: 31)
        let w = [Float].random(count: g.weightCount, seed: 32)
        let b = [Float].random(count: g.outputFeatures, seed: 33)
        let probe = [Float].random(count: g.outputCount, seed: 34)
        func loss(_ x: [Float], _ w: [Float], _ b: [Float]) -> Double {
            dotDouble(DenseRunner.forward(g, .naive, input: x, weight: w, bias: b), probe)
        }
        let dx = DenseRunner.backwardData(g, .naive, outputGradient: probe, weight: w)
        let (dw, db) = DenseRunner.backwardWeights(g, .naive, input: x, outputGradient: probe)
        let nx = numericalGradient(of: { loss($0, w, b) }, at: x, step: 1, indices: Array(0..<g.inputCount))
        let nw = numericalGradient(of: { loss(x, $0, b) }, at: w, step: 1, indices: Array(0..<g.weightCount))
        let nb = numericalGradient(of: { loss(x, w, $0) }, at: b, step: 1, indices: Array(0..<g.outputFeatures))
        for i in 0..<g.inputCount { #expect(abs(nx[i] - Double(dx[i])) <= 1e-5 * (1 + abs(nx[i]))) }
        for i in 0..<g.weightCount { #expect(abs(nw[i] - Double(dw[i])) <= 1e-5 * (1 + abs(nw[i]))) }
        for i in 0..<g.outputFeatures { #expect(abs(nb[i] - Double(db[i])) <= 1e-5 * (1 + abs(nb[i]))) }
    }
}
