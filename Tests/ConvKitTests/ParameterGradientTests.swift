import ConvKit
import Testing
import _ConvKitTestSupport

/// `parameterGradients` (no input gradient for the layers fed by the model's input) returns
/// exactly `backward`'s parameter gradients.
@Suite struct ParameterGradientTests {
    func check<L: Layer>(_ model: L, input: Tensor, mode: ForwardMode = .training(seed: 3)) throws {
        var rng = SplitMix64(seed: 9)
        let context = ComputeContext(threads: 2)
        let (y, cache) = try model.forward(input, mode: mode, context: context)
        let dy = Tensor(shape: y.shape, uniformIn: -1...1, using: &rng)
        let full = try model.backward(dy, cache: cache, context: context).parameterGradients
        let only = try model.parameterGradients(dy, cache: cache, context: context)
        #expect(only.count == full.count && only.count == model.parameters.count)
        for (a, b) in zip(only, full) { #expect(a == b) }
    }

    @Test func sequentialOfGraphs() throws {
        var rng = SplitMix64(seed: 1)
        let model = try ResNet.make(block: .basic, blocks: [1, 1, 1, 1], classes: 5, stem: .smallImage, width: 8, using: &rng)
        try check(model, input: Tensor(shape: [2, 3, 16, 16], uniformIn: -1...1, using: &rng))
    }

    /// Leading parameter-free layers (reflection padding) run no backward.
    @Test func leadingLayersWithoutParameters() throws {
        var rng = SplitMix64(seed: 4)
        let model = try CycleGANGenerator.make(inputChannels: 2, outputChannels: 2, filters: 4, residualBlocks: 1, using: &rng)
        try check(model, input: Tensor(shape: [1, 2, 16, 16], uniformIn: -1...1, using: &rng))
    }

    @Test func graphWhoseFirstNodesReadTheInput() throws {
        var rng = SplitMix64(seed: 2)
        let model = try UNet.make(inputChannels: 2, classes: 3, width: 4, using: &rng)
        try check(model, input: Tensor(shape: [2, 2, 32, 32], uniformIn: -1...1, using: &rng))
    }

    @Test func denseAndConvolutionLayers() throws {
        var rng = SplitMix64(seed: 3)
        let dense = try Dense(inputFeatures: 7, outputFeatures: 4, using: &rng)
        try check(dense, input: Tensor(shape: [3, 7], uniformIn: -1...1, using: &rng), mode: .evaluation)
        let conv = try Conv2D(inputChannels: 3, outputChannels: 5, kernelSize: 3, padding: 1, using: &rng)
        try check(conv, input: Tensor(shape: [2, 3, 9, 8], uniformIn: -1...1, using: &rng), mode: .evaluation)
        let lenet = try LeNet5.make(using: &rng)
        try check(lenet, input: Tensor(shape: [2, 1, 32, 32], uniformIn: -1...1, using: &rng), mode: .evaluation)
    }
}
