import ConvKit
import Testing
import _ConvKitTestSupport

@Suite struct GraphTests {
    /// The four-node graph z1 = D1(x), z2 = D2(z1), z3 = D3(z1), z4 = z2 + z3: z1 feeds two
    /// layers, so its gradient (and D1's parameter gradients) must be the sum of both paths.
    static func fourNodeGraph() throws -> Graph {
        var rng = SplitMix64(seed: 21)
        var g = Graph()
        let z1 = try g.add(Dense(inputFeatures: 4, outputFeatures: 5, initializer: .glorotUniform, using: &rng), input: g.input)
        let z2 = try g.add(Dense(inputFeatures: 5, outputFeatures: 3, initializer: .glorotUniform, using: &rng), input: z1)
        let z3 = try g.add(Dense(inputFeatures: 5, outputFeatures: 3, initializer: .glorotUniform, using: &rng), input: z1)
        try g.add(Add(), inputs: [z2, z3])
        return g
    }

    @Test func fourNodeGraphGradientsByFiniteDifferences() throws {
        let g = try Self.fourNodeGraph()
        #expect(g.parameterNames == ["1.weight", "1.bias", "2.weight", "2.bias", "3.weight", "3.bias"])
        // Linear in every argument: exact central differences up to rounding (see LinearLayerGradientTests).
        let failures = try GradientCheck(step: 0.5, tolerance: 2e-3, maxChecksPerTensor: 1000)
            .run(g, input: randomTensor([2, 4], seed: 22), seed: 23)
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    @Test func fanOutGradientIsTheSumOfBothPaths() throws {
        // With z2 and z3 identical layers, D1's gradient is twice that of a single path.
        var rng = SplitMix64(seed: 24)
        let d1 = try Dense(inputFeatures: 3, outputFeatures: 2, using: &rng)
        let d2 = try Dense(inputFeatures: 2, outputFeatures: 2, using: &rng)
        var g = Graph()
        let z1 = try g.add(d1, input: g.input)
        let z2 = try g.add(d2, input: z1)
        let z3 = try g.add(d2, input: z1)
        try g.add(Add(), inputs: [z2, z3])
        let chain = Sequential(d1, d2)
        let x = randomTensor([2, 3], seed: 25), dy = randomTensor([2, 2], seed: 26)
        let (_, gc) = try g.forward(x, context: .serial)
        let (gdx, gdθ) = try g.backward(dy, cache: gc, context: .serial)
        let (_, sc) = try chain.forward(x, context: .serial)
        let (sdx, sdθ) = try chain.backward(dy, cache: sc, context: .serial)
        // Doubling is exact in binary floating point, so equality holds bit for bit.
        #expect(gdx.scalars == sdx.scalars.map { 2 * $0 })
        #expect(gdθ[0].scalars == sdθ[0].scalars.map { 2 * $0 })
        #expect(gdθ[1].scalars == sdθ[1].scalars.map { 2 * $0 })
    }

    @Test func residualBlockWithSkipFromInput() throws {
        var rng = SplitMix64(seed: 27)
        var g = Graph()
        let body = try g.add(Conv2D(inputChannels: 2, outputChannels: 2, kernelSize: 3, padding: 1, using: &rng), input: g.input)
        try g.add(Add(), inputs: [body, g.input])
        let failures = try GradientCheck(step: 0.5, tolerance: 2e-3).run(g, input: randomTensor([1, 2, 4, 4], seed: 28), seed: 29)
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    @Test func addShapeErrorAndUnknownNode() throws {
        let error = #expect(throws: ShapeError.self) {
            try Add().forward([Tensor.zeros([2, 3]), Tensor.zeros([3, 2])], context: .serial)
        }
        #expect(error?.message == "Add input 1 has shape [3, 2], expected [2, 3] (input 0)")
        var g = Graph()
        var other = Graph()
        let foreign = try other.add(Flatten(), input: other.input)
        let unknown = #expect(throws: ShapeError.self) { try g.add(Flatten(), input: foreign) }
        #expect(unknown?.reason == .invalidValue)
    }
}

extension GraphTests {
    /// A merge with the wrong number of inputs is rejected by `add`, not at forward.
    @Test func mergeArityIsCheckedWhenAdded() throws {
        var rng = SplitMix64(seed: 181)
        var g = Graph()
        let z1 = try g.add(Dense(inputFeatures: 2, outputFeatures: 2, using: &rng), input: g.input)
        let one = #expect(throws: ShapeError.self) { try g.add(Add(), inputs: [z1]) }
        #expect(one?.reason == .invalidValue)
        #expect(one?.message == "Add needs at least 2 inputs, got 1 (graph node 2)")
        let none = #expect(throws: ShapeError.self) { try g.add(Add(), inputs: []) }
        #expect(none?.message == "Add needs at least 2 inputs, got 0 (graph node 2)")
        #expect(g.nodeCount == 2 && g.output == z1)  // nothing was added
        #expect(Add().acceptedInputCounts == 2...Int.max)
        let sum = try g.add(Add(), inputs: [z1, z1, g.input])
        #expect(try g(Tensor(shape: [1, 2], repeating: 1)).shape == [1, 2] && g.output == sum)
    }
}

@Suite struct JacobianTests {
    @Test func squareAtSevenThreeFive() throws {
        let x = try Tensor(shape: [3], scalars: [7, 3, 5])
        let expected: [Float] = [14, 0, 0, 0, 6, 0, 0, 0, 10]  // diag(2x)
        let analytic = try Jacobian.fromBackward(of: Square(), at: x)
        #expect(analytic.shape == [3, 3])
        #expect(analytic.scalars == expected)
        // Central differences of a quadratic are exact up to rounding: (x+h)² − (x−h)² = 4xh.
        let numeric = try Jacobian.numerical(of: Square(), at: x, step: 0.25)
        #expect(firstMismatch(numeric.scalars, expected, tolerance: { _ in 1e-4 }) == nil)
    }

    @Test func denseJacobianIsItsWeight() throws {
        var rng = SplitMix64(seed: 31)
        let dense = try Dense(inputFeatures: 4, outputFeatures: 3, using: &rng)
        let j = try Jacobian.fromBackward(of: dense, at: randomTensor([1, 4], seed: 32))
        #expect(j.shape == [3, 4])  // numerator layout: outputs x inputs
        #expect(j.scalars == dense.weight.scalars)
        let n = try Jacobian.numerical(of: dense, at: randomTensor([1, 4], seed: 32), step: 0.5)
        #expect(firstMismatch(n.scalars, dense.weight.scalars, tolerance: { _ in 1e-5 }) == nil)
    }
}
