import ConvKit
import Foundation
import Testing
import _ConvKitTestSupport

/// The small cases of `make parity` without PyTorch: weights, a batch and PyTorch's results
/// written by `PARITY_FIXTURES=1 make parity` (Tools/parity/parity.py) into Fixtures/.
///
/// Per case: the checkpoint loads strictly (the reference's keys, no renaming); in training mode
/// (seed 1234, dropout masks reproduced by the script) the logits, loss, input gradient, every
/// parameter gradient and the updated running statistics, in evaluation mode the logits and loss
/// match PyTorch's within 1e-4 relative to each tensor's max-abs (floored at
/// 1e-3 × the largest parameter gradient, as in the script), at 1 and 2 threads; a gradient that
/// is rounding noise in PyTorch's result (below 1e-5 of the largest) must be noise in ours.
@Suite struct ModelParityTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let tolerance = 1e-4
    /// A parameter gradient whose PyTorch value stays below this fraction of the largest gradient
    /// is rounding noise of a gradient that is zero in exact arithmetic (the bias of a convolution
    /// followed by instance norm); ours must stay below it too (the script's ZERO_GRADIENT_NOISE).
    static let zeroGradientNoise = 1e-5
    static let seed: UInt64 = 1234

    /// ResNet with one basic block per stage, width 4, the small-image stem, 5 classes, a batch
    /// of four 16×16 images.
    @Test func resNetBasicBlocks() throws {
        var rng = SplitMix64(seed: 1)
        let model = try ResNet.make(block: .basic, blocks: [1, 1, 1, 1], classes: 5, stem: .smallImage, width: 4, using: &rng)
        try check(model, name: "resnet-basic-1111-w4-small")
    }

    /// VGG-11 with batch norm, width 2, classifier 8 wide, 5 classes, a batch of four 32×32 images.
    @Test func vgg11BatchNorm() throws {
        var rng = SplitMix64(seed: 2)
        let model = try VGG.make(depth: 11, classes: 5, width: 2, hiddenFeatures: 8, using: &rng)
        try check(model, name: "vgg11_bn-w2")
    }

    /// U-Net at base width 1 (1-2-4-8-16 channels), 2 classes, a batch of two 32×32 images; mean
    /// squared error against a random target.
    @Test func uNet() throws {
        var rng = SplitMix64(seed: 3)
        let model = try UNet.make(inputChannels: 3, classes: 2, width: 1, using: &rng)
        try check(model, name: "unet-w1")
    }

    /// The CycleGAN generator at ngf 2 with one residual block, a batch of two 16×16 images;
    /// mean squared error against a random target.
    @Test func cycleGANGenerator() throws {
        var rng = SplitMix64(seed: 4)
        let model = try CycleGANGenerator.make(filters: 2, residualBlocks: 1, using: &rng)
        try check(model, name: "cyclegan-ngf2-b1")
    }

    /// A checkpoint of another model is a `FileFormatError` naming the first key that does not
    /// fit: a PyTorch-written ResNet (the parity fixture, one block per stage) into ResNet-18,
    /// ResNet-18 into ResNet-34 and back, 1000 classes into 10.
    @Test func checkpointOfAnotherModel() throws {
        var rng = SplitMix64(seed: 10)
        let fixture = Self.fixtures.appendingPathComponent("resnet-basic-1111-w4-small-weights.safetensors").path
        var r18w4 = try ResNet.make(depth: 18, classes: 5, stem: .smallImage, width: 4, using: &rng)
        let pytorch = #expect(throws: FileFormatError.self) { try r18w4.loadCheckpoint(from: fixture) }
        #expect(pytorch?.reason == .modelMismatch)
        #expect(pytorch?.message == "checkpoint lacks tensor 'layer1.1.conv1.weight' (shape [4, 4, 3, 3])")

        let r18 = try ResNet.make(depth: 18, classes: 10, width: 8, using: &rng)
        var r34 = try ResNet.make(depth: 34, classes: 10, width: 8, using: &rng)
        let missing = #expect(throws: FileFormatError.self) { try r34.loadParameters(from: r18.checkpoint()) }
        #expect(missing?.message == "checkpoint lacks tensor 'layer1.2.conv1.weight' (shape [8, 8, 3, 3])")
        var r18copy = r18
        let extra = #expect(throws: FileFormatError.self) { try r18copy.loadParameters(from: r34.checkpoint()) }
        #expect(extra?.reason == .modelMismatch && extra?.message.contains("'layer1.2.conv1.weight'") == true)
        #expect(r18copy.parameters == r18.parameters)  // unchanged after a refused load

        var r18classes = try ResNet.make(depth: 18, classes: 1000, width: 8, using: &rng)
        let shape = #expect(throws: FileFormatError.self) { try r18classes.loadParameters(from: r18.checkpoint()) }
        #expect(shape?.message == "checkpoint tensor 'fc.weight' has shape [10, 64], the model expects [1000, 64]")
    }

    /// Compares one fixture. Classifiers have `labels` (softmax cross-entropy), image-to-image
    /// models a `target` (mean squared error).
    func check<L: Layer>(_ initial: L, name: String) throws {
        var model = initial
        try model.loadCheckpoint(from: Self.fixtures.appendingPathComponent("\(name)-weights.safetensors").path)
        let expected = try Safetensors(contentsOf: Self.fixtures.appendingPathComponent("\(name)-expected.safetensors").path)
        func tensor(_ key: String) throws -> Tensor {
            guard let t = expected[key] else { throw FileFormatError(.modelMismatch, "fixture \(name) lacks '\(key)'") }
            return t
        }
        let input = try tensor("input")
        let labels = expected["labels"]?.scalars.map { Int($0) }
        let gradientScale = try model.parameterNames.map { try maxAbs(tensor("training.grad.\($0)")) }.max() ?? 0
        for context in [ComputeContext.serial, ComputeContext(threads: 2, minimumElementsPerThread: 1)] {
            for mode in [ForwardMode.training(seed: Self.seed), .evaluation] {
                let prefix = mode.isTraining ? "training" : "evaluation"
                let (logits, cache) = try model.forward(input, mode: mode, context: context)
                let result: (loss: Float, gradient: Tensor)
                if let labels {
                    result = try Loss.softmaxCrossEntropy(logits: logits, labels: labels, context: context)
                } else {
                    result = try Loss.meanSquaredError(prediction: logits, target: try tensor("target"), context: context)
                }
                let (loss, dLogits) = result
                let (dx, gradients) = try model.backward(dLogits, cache: cache, context: context)
                var compared: [(String, Tensor, Tensor, Double)] = [
                    ("logits", logits, try tensor("\(prefix).logits"), 0),
                    ("loss", Tensor([loss]), try tensor("\(prefix).loss"), 0),
                ]
                var updated = model
                try updated.applyBufferUpdates(from: cache)
                if mode.isTraining {
                    compared.append(("input_gradient", dx, try tensor("training.input_gradient"), 0))
                    for (key, g) in zip(model.parameterNames, gradients) {
                        compared.append(("grad.\(key)", g, try tensor("training.grad.\(key)"), 1e-3 * gradientScale))
                    }
                    for (key, b) in zip(updated.bufferNames, updated.buffers) {
                        compared.append((key, b, try tensor("training.\(key)"), 0))
                    }
                } else {
                    #expect(updated.buffers == model.buffers, "\(name): an evaluation pass changed buffers")
                }
                for (key, ours, theirs, floor) in compared {
                    #expect(ours.shape == theirs.shape, "\(name) \(prefix) \(key): shape \(ours.shape), PyTorch \(theirs.shape)")
                    guard ours.shape == theirs.shape else { continue }
                    if floor > 0 && maxAbs(theirs) <= Self.zeroGradientNoise * gradientScale {
                        // Zero in exact arithmetic (a bias before instance norm): rounding noise on
                        // both sides, bounded rather than compared.
                        #expect(maxAbs(ours) <= Self.zeroGradientNoise * gradientScale,
                                "\(name) \(prefix) \(context.threads) threads \(key): \(maxAbs(ours)) is not rounding noise")
                        continue
                    }
                    let error = maxDifference(ours, theirs) / max(maxAbs(theirs), floor, 1e-30)
                    #expect(error <= Self.tolerance, "\(name) \(prefix) \(context.threads) threads \(key): relative error \(error)")
                }
            }
        }
    }
}

private func maxAbs(_ t: Tensor) -> Double { t.scalars.reduce(0) { max($0, abs(Double($1))) } }

private func maxDifference(_ a: Tensor, _ b: Tensor) -> Double {
    zip(a.scalars, b.scalars).reduce(0) { max($0, abs(Double($1.0) - Double($1.1))) }
}
