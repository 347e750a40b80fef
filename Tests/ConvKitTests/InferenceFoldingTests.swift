import ConvKit
import Testing
import _ConvKitTestSupport

@Suite struct InferenceFoldingTests {
    static func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
        zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
    }

    /// A Conv2D with a fused ReLU equals Conv2D then ReLU, forward and backward, at every
    /// algorithm (same kernels, so to the bit).
    @Test(arguments: [Conv2DAlgorithm.im2col, .direct, .winograd, .automatic])
    func fusedReLUEqualsTheTwoLayers(algorithm: Conv2DAlgorithm) throws {
        var rng = SplitMix64(seed: 5)
        let plain = try Conv2D(inputChannels: 3, outputChannels: 6, kernelSize: 3, padding: 1, algorithm: algorithm, using: &rng)
        var fused = plain
        fused.activation = .relu
        let pair = Sequential(plain, ReLU())
        let x = Tensor(shape: [2, 3, 9, 10], uniformIn: -1...1, using: &rng)
        let context = ComputeContext(threads: 2)
        let (y1, c1) = try pair.forward(x, context: context)
        let (y2, c2) = try fused.forward(x, context: context)
        #expect(y1 == y2)
        let dy = Tensor(shape: y1.shape, uniformIn: -1...1, using: &rng)
        let (dx1, dp1) = try pair.backward(dy, cache: c1, context: context)
        let (dx2, dp2) = try fused.backward(dy, cache: c2, context: context)
        #expect(dx1 == dx2 && dp1 == dp2)
        #expect(try fused.parameterGradients(dy, cache: c2, context: context) == dp2)
    }

    /// A Sequential runs Conv2D then ReLU as one convolution with a ReLU epilogue: outputs,
    /// caches and gradients equal those of the two layers called one by one.
    @Test func sequentialFusesConvolutionAndReLU() throws {
        var rng = SplitMix64(seed: 6)
        let conv = try Conv2D(inputChannels: 2, outputChannels: 4, kernelSize: 3, padding: 1, using: &rng)
        let dense = try Dense(inputFeatures: 4 * 7 * 6, outputFeatures: 3, using: &rng)
        let model = Sequential(conv, ReLU(), Flatten(), dense)
        let x = Tensor(shape: [2, 2, 7, 6], uniformIn: -1...1, using: &rng)
        let context = ComputeContext(threads: 2)
        let (z, convCache) = try conv.forward(x, context: context)
        let (a, reluCache) = try ReLU().forward(z, context: context)
        let (f, flatCache) = try Flatten().forward(a, context: context)
        let (y, denseCache) = try dense.forward(f, context: context)
        let (fused, cache) = try model.forward(x, mode: .training(seed: 1), context: context)
        let inferred = try model(x, context: context)
        #expect(fused == y && inferred == y)
        let dy = Tensor(shape: y.shape, uniformIn: -1...1, using: &rng)
        let (dfused, pfused) = try model.backward(dy, cache: cache, context: context)
        let (df, pd) = try dense.backward(dy, cache: denseCache, context: context)
        let (da, _) = try Flatten().backward(df, cache: flatCache, context: context)
        let (dz, _) = try ReLU().backward(da, cache: reluCache, context: context)
        let (dx, pc) = try conv.backward(dz, cache: convCache, context: context)
        #expect(dfused == dx && pfused == pc + pd)
    }

    /// Folded models give the original's evaluation outputs (running statistics moved away from
    /// 0 and 1 by a few training steps), with fewer parameters and no batch norm left after a
    /// convolution.
    @Test(arguments: ["resnet", "vgg", "mobilenet", "unet"])
    func foldedModelsMatchTheOriginal(name: String) throws {
        var rng = SplitMix64(seed: 7)
        var model: any Layer
        var shape: Shape = [2, 3, 32, 32]
        switch name {
        case "resnet": model = try ResNet.make(block: .basic, blocks: [1, 1, 1, 1], classes: 5, stem: .smallImage, width: 8, using: &rng)
        case "vgg": model = try VGG.make(depth: 11, batchNorm: true, classes: 5, width: 8, hiddenFeatures: 16, dropout: 0, using: &rng)
        case "mobilenet": model = try MobileNetV2.make(classes: 5, widthMultiplier: 0.25, dropout: 0, using: &rng)
        default:
            model = try UNet.make(inputChannels: 3, classes: 2, width: 4, using: &rng)
            shape = [2, 3, 32, 32]
        }
        let x = Tensor(shape: shape, uniformIn: -1...1, using: &rng)
        try train(&model, x)
        let folded = try foldAny(model)
        let context = ComputeContext(threads: 2)
        let expected = try model(x, context: context), got = try folded(x, context: context)
        let scale = expected.scalars.map(abs).max() ?? 1
        #expect(Self.maxDifference(expected, got) <= 1e-4 * max(1, scale), "\(name)")
        #expect(folded.parameterCount < model.parameterCount)
    }

    func train(_ model: inout any Layer, _ x: Tensor) throws {
        func steps<L: Layer>(_ m: inout L) throws {
            var optimizer = SGD(learningRate: 0.01, momentum: 0.9)
            let (y, _) = try m.forward(x, mode: .training(seed: 1), context: .serial)
            let target = Tensor(shape: y.shape, repeating: 0.5)
            for step in 0..<3 {
                let (out, cache) = try m.forward(x, mode: .training(seed: UInt64(step)), context: .serial)
                let (_, gradient) = try Loss.meanSquaredError(prediction: out, target: target, context: .serial)
                let grads = try m.backward(gradient, cache: cache, context: .serial).parameterGradients
                try optimizer.update(&m, gradients: grads)
                try m.applyBufferUpdates(from: cache)
            }
        }
        try steps(&model)
    }

    func foldAny(_ model: any Layer) throws -> any Layer {
        if let s = model as? Sequential { return try s.foldedForInference() }
        if let u = model as? UNet { var u = u; u.graph = try u.graph.foldedForInference(); return u }
        Issue.record("no folding for \(type(of: model))")
        return model
    }

    @Test func foldingNeedsRunningStatisticsAndMatchingChannels() throws {
        var rng = SplitMix64(seed: 8)
        let conv = try Conv2D(inputChannels: 2, outputChannels: 4, kernelSize: 1, using: &rng)
        #expect((#expect(throws: ShapeError.self) { try conv.folding(try BatchNorm2D(channels: 3)) })?.reason == .mismatch)
        #expect((#expect(throws: ShapeError.self) {
            try conv.folding(try BatchNorm2D(channels: 4, trackRunningStatistics: false))
        })?.reason == .invalidValue)
    }
}
