import ConvKit
import Testing
import _ConvKitTestSupport

@Suite struct OptimizerTests {
    @Test func sgdMomentumAndWeightDecayByHand() throws {
        var layer = try Dense(weight: Tensor(shape: [1, 1], scalars: [1]), bias: Tensor([0]))
        var sgd = SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.5)
        let grads = [try Tensor(shape: [1, 1], scalars: [2]), Tensor([1])]
        // Step 1: g = 2 + 0.5·1 = 2.5; v = 2.5; w = 1 − 0.25 = 0.75. Bias: g = 1, v = 1, b = −0.1.
        try sgd.update(&layer, gradients: grads)
        #expect(abs(layer.weight[flat: 0] - 0.75) < 1e-6 && abs(layer.bias[flat: 0] + 0.1) < 1e-6)
        // Step 2: g = 2 + 0.375 = 2.375; v = 0.9·2.5 + 2.375 = 4.625; w = 0.75 − 0.4625 = 0.2875.
        try sgd.update(&layer, gradients: grads)
        #expect(abs(layer.weight[flat: 0] - 0.2875) < 1e-6)
    }

    @Test func adamFirstStepMovesByLearningRate() throws {
        // Bias-corrected first step: m̂ = g, v̂ = g², so Δ = lr·g/(|g| + ε) ≈ lr·sign(g).
        var layer = try Dense(weight: Tensor(shape: [1, 2], scalars: [1, 1]), bias: Tensor([0]))
        var adam = Adam(learningRate: 0.01)
        try adam.update(&layer, gradients: [try Tensor(shape: [1, 2], scalars: [3, -0.5]), Tensor([0])])
        #expect(abs(layer.weight[flat: 0] - 0.99) < 1e-6 && abs(layer.weight[flat: 1] - 1.01) < 1e-6)
        #expect(layer.bias[flat: 0] == 0)
        #expect(adam.step == 1)
    }

    @Test func gradientShapeMismatchThrows() throws {
        var rng = SplitMix64(seed: 41)
        var layer = try Dense(inputFeatures: 3, outputFeatures: 2, using: &rng)
        var sgd = SGD(learningRate: 0.1)
        let error = #expect(throws: ShapeError.self) { try sgd.update(&layer, gradients: [Tensor.zeros([3, 2]), Tensor.zeros([2])]) }
        #expect(error?.message == "gradient of weight has shape [3, 2], expected [2, 3]")
        let count = #expect(throws: ShapeError.self) { try sgd.update(&layer, gradients: []) }
        #expect(count?.message == "model has 2 parameters, got 0 gradients")
    }
}

@Suite struct InitializerTests {
    @Test func heAndGlorotScales() throws {
        var rng = SplitMix64(seed: 51)
        let he = try Initializer.heNormal.weight(shape: [200, 100], fanIn: 100, fanOut: 200, using: &rng)
        let variance = he.scalars.reduce(0.0) { $0 + Double($1 * $1) } / Double(he.count)
        // Var = 2/fanIn = 0.02; 20000 samples give a relative standard error of √(2/20000) = 1%.
        #expect(abs(variance - 0.02) < 0.002)
        let glorot = try Initializer.glorotUniform.weight(shape: [30, 20], fanIn: 20, fanOut: 30, using: &rng)
        let bound = Float(6.0 / 50.0).squareRoot()
        #expect(glorot.scalars.allSatisfy { abs($0) <= bound })
        #expect(glorot.scalars.contains { abs($0) > 0.9 * bound })
    }

    @Test(arguments: [(6, 4), (4, 6), (5, 5)])
    func orthogonalIsOrthonormal(rows: Int, columns: Int) throws {
        var rng = SplitMix64(seed: 52)
        let w = try Initializer.orthogonal(gain: 1).weight(shape: try Shape([rows, columns]), fanIn: columns, fanOut: rows, using: &rng)
        // W·Wᵀ = I when rows <= columns, Wᵀ·W = I otherwise; sums of ≤ 6 products: 1e-5.
        let small = min(rows, columns)
        for a in 0..<small {
            for b in 0..<small {
                var dot: Float = 0
                if rows <= columns {
                    for k in 0..<columns { dot += w[flat: a * columns + k] * w[flat: b * columns + k] }
                } else {
                    for k in 0..<rows { dot += w[flat: k * columns + a] * w[flat: k * columns + b] }
                }
                #expect(abs(dot - (a == b ? 1 : 0)) < 1e-5, "(\(a), \(b)) = \(dot)")
            }
        }
    }

    @Test func sameSeedSameWeights() throws {
        var g1 = SplitMix64(seed: 53), g2 = SplitMix64(seed: 53)
        let a = try Conv2D(inputChannels: 3, outputChannels: 4, kernelSize: 3, using: &g1)
        let b = try Conv2D(inputChannels: 3, outputChannels: 4, kernelSize: 3, using: &g2)
        #expect(a.parameters == b.parameters)
    }
}

@Suite struct FoldingTests {
    @Test func threeDenseLayersFoldToOne() throws {
        var rng = SplitMix64(seed: 61)
        let layers = [try Dense(inputFeatures: 6, outputFeatures: 5, initializer: .pyTorchDefault, using: &rng),
                      try Dense(inputFeatures: 5, outputFeatures: 4, initializer: .pyTorchDefault, using: &rng),
                      try Dense(inputFeatures: 4, outputFeatures: 3, initializer: .pyTorchDefault, using: &rng)]
        let folded = try Dense.folding(layers)
        #expect(folded.weight.shape == [3, 6])
        let x = randomTensor([8, 6], seed: 62)
        let chained = try Sequential(layers)(x)
        let once = try folded(x)
        // Same products summed in another association order: each output is a sum of
        // 6·5·4 + 5·4 + 4 + 1 = 145 rounded terms of size < 1, so 145·ε·(1 + Σ|terms|) ≲ 1e-4.
        #expect(firstMismatch(once.scalars, chained.scalars, tolerance: { _ in 1e-4 }) == nil)
    }

    @Test func sequentialFoldsOnlyConsecutiveDenseRuns() throws {
        var rng = SplitMix64(seed: 63)
        let model = Sequential(try Dense(inputFeatures: 4, outputFeatures: 4, using: &rng),
                               try Dense(inputFeatures: 4, outputFeatures: 3, using: &rng),
                               Flatten(),
                               try Dense(inputFeatures: 3, outputFeatures: 2, using: &rng))
        let folded = try model.foldingDenseLayers()
        #expect(folded.layers.count == 3)
        let x = randomTensor([5, 4], seed: 64)
        // Sums of at most 4·4 + 4 + 1 terms of size < 4: 1e-4 absolute.
        #expect(firstMismatch(try folded(x).scalars, try model(x).scalars, tolerance: { _ in 1e-4 }) == nil)
        let mismatch = #expect(throws: ShapeError.self) {
            try Dense.folding([try Dense(inputFeatures: 2, outputFeatures: 3, using: &rng), try Dense(inputFeatures: 4, outputFeatures: 1, using: &rng)])
        }
        #expect(mismatch?.reason == .mismatch)
    }
}
