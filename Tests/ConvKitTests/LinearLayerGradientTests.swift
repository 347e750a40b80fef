import ConvKit
import Testing
import _ConvKitTestSupport

/// Conv2D, Dense, Flatten: gradient checks by finite differences and shape errors.
/// These layers are linear in the input and in each parameter, so central differences are exact
/// up to rounding: step 0.5 keeps the Float rounding of L (~ε·Σ|y·p| ≈ 1e-5) small next to the
/// step; tolerance 2e-3 relative.
@Suite struct LinearLayerGradientTests {
    static let check = GradientCheck(step: 0.5, tolerance: 2e-3)

    /// Every algorithm on three shapes: ragged (3×2 kernel, stride 2×1, padding 1×0, 2 groups),
    /// 3×3 stride 1 padding 1 (where Winograd applies) and depthwise (groups = channels); algorithms
    /// that do not apply fall back to im2col, and must still be right.
    @Test(arguments: Conv2DAlgorithm.allCases)
    func conv2D(algorithm: Conv2DAlgorithm) throws {
        var rng = SplitMix64(seed: 1)
        let cases: [(filter: Shape, stride: (Int, Int), padding: (Int, Int), groups: Int, input: Shape, output: Shape)] = [
            ([4, 2, 3, 2], (2, 1), (1, 0), 2, [2, 4, 7, 6], [2, 4, 4, 5]),
            ([3, 2, 3, 3], (1, 1), (1, 1), 1, [2, 2, 6, 5], [2, 3, 6, 5]),
            ([4, 1, 3, 3], (1, 1), (1, 1), 4, [1, 4, 5, 5], [1, 4, 5, 5]),
        ]
        for (k, c) in cases.enumerated() {
            let filter = Tensor(shape: c.filter, uniformIn: -1...1, using: &rng)
            let bias = Tensor(shape: [c.filter[0]], uniformIn: -1...1, using: &rng)
            let layer = try Conv2D(filter: filter, bias: bias, stride: c.stride, padding: c.padding, groups: c.groups, algorithm: algorithm)
            let x = randomTensor(c.input, seed: 2 + UInt64(k))
            let failures = try Self.check.run(layer, input: x, seed: 3)
            #expect(failures.isEmpty, "case \(k): \(failures.prefix(5))")
            #expect(try layer(x).shape == c.output)
        }
    }

    @Test(arguments: [DenseAlgorithm.naive, .gemm])
    func dense(algorithm: DenseAlgorithm) throws {
        var rng = SplitMix64(seed: 4)
        let layer = try Dense(inputFeatures: 7, outputFeatures: 5, initializer: .glorotUniform, algorithm: algorithm, using: &rng)
        let failures = try Self.check.run(layer, input: randomTensor([3, 7], seed: 5), seed: 6)
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    @Test func flatten() throws {
        let failures = try Self.check.run(Flatten(), input: randomTensor([2, 3, 2, 2], seed: 7), seed: 8)
        #expect(failures.isEmpty, "\(failures.prefix(5))")
        #expect(try Flatten()(randomTensor([2, 3, 2, 2], seed: 7)).shape == [2, 12])
    }

    @Test func sequentialOfConvFlattenDense() throws {
        var rng = SplitMix64(seed: 9)
        let model = Sequential(
            try Conv2D(inputChannels: 2, outputChannels: 3, kernelSize: 3, padding: 1, using: &rng),
            Flatten(),
            try Dense(inputFeatures: 3 * 5 * 5, outputFeatures: 4, using: &rng))
        #expect(model.parameterNames == ["0.weight", "0.bias", "2.weight", "2.bias"])
        let failures = try Self.check.run(model, input: randomTensor([2, 2, 5, 5], seed: 10), seed: 11)
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    @Test func conv2DShapeErrors() throws {
        var rng = SplitMix64(seed: 12)
        let conv = try Conv2D(inputChannels: 3, outputChannels: 4, kernelSize: 3, using: &rng)
        let channels = #expect(throws: ShapeError.self) { try conv(Tensor.zeros([1, 2, 8, 8])) }
        #expect(channels?.reason == .mismatch)
        #expect(channels?.message == "Conv2D input of shape [1, 2, 8, 8] has channels = 2, expected 3")
        let rank = #expect(throws: ShapeError.self) { try conv(Tensor.zeros([3, 8, 8])) }
        #expect(rank?.message == "Conv2D input must have rank 4 ([batch, channels, height, width]), got shape [3, 8, 8]")
        let small = #expect(throws: ShapeError.self) { try conv(Tensor.zeros([1, 3, 2, 2])) }
        #expect(small?.reason == .kernelTooLarge)
        let (_, cache) = try conv.forward(Tensor.zeros([1, 3, 8, 8]), context: .serial)
        let gradient = #expect(throws: ShapeError.self) {
            try conv.backward(Tensor.zeros([1, 4, 5, 6]), cache: cache, context: .serial)
        }
        #expect(gradient?.message == "Conv2D output gradient has shape [1, 4, 5, 6], expected [1, 4, 6, 6]")
        let bias = #expect(throws: ShapeError.self) {
            try Conv2D(filter: Tensor.zeros([4, 3, 3, 3]), bias: Tensor.zeros([5]))
        }
        #expect(bias?.message == "Conv2D bias has shape [5], expected [4]")
    }

    @Test func denseShapeErrors() throws {
        var rng = SplitMix64(seed: 13)
        let dense = try Dense(inputFeatures: 4, outputFeatures: 2, using: &rng)
        let features = #expect(throws: ShapeError.self) { try dense(Tensor.zeros([3, 5])) }
        #expect(features?.message == "Dense input of shape [3, 5] has features = 5, expected 4")
        let rank = #expect(throws: ShapeError.self) { try dense(Tensor.zeros([3, 2, 2])) }
        #expect(rank?.reason == .mismatch)
    }

    @Test func layerValueSemantics() throws {
        var rng = SplitMix64(seed: 14)
        let a = try Dense(inputFeatures: 3, outputFeatures: 2, using: &rng)
        var b = a
        b.weight[flat: 0] += 1
        b.updateParameters { _, p in p[flat: 1] = 42 }
        #expect(a.weight[flat: 0] != b.weight[flat: 0])
        #expect(a.bias[flat: 1] != 42 && b.bias[flat: 1] == 42)
        var model = Sequential(a)
        let copy = model
        model.updateParameters { _, p in p[flat: 0] = -7 }
        #expect(copy.parameters[0][flat: 0] == a.weight[flat: 0])
        #expect(model.parameters[0][flat: 0] == -7)
    }

    @Test func setParametersValidates() throws {
        var rng = SplitMix64(seed: 15)
        var dense = try Dense(inputFeatures: 3, outputFeatures: 2, using: &rng)
        let error = #expect(throws: ShapeError.self) { try dense.setParameters([Tensor.zeros([3, 2]), Tensor.zeros([2])]) }
        #expect(error?.message == "parameter weight has shape [2, 3], got [3, 2]")
        try dense.setParameters([Tensor.zeros([2, 3]), Tensor(shape: [2], repeating: 1)])
        #expect(try dense(Tensor(shape: [1, 3], repeating: 5)).scalars == [1, 1])
    }
}
