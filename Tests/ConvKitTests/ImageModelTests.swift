import ConvKit
import Foundation
import Testing
import _ConvKitTestSupport

/// MobileNetV2, U-Net and the CycleGAN ResNet generator: the reference implementations'
/// parameter counts and `state_dict` keys (counts and lengths printed by the PyTorch references
/// of Tools/parity/models.py), output shapes, and the typed errors for bad options and inputs.
@Suite struct ImageModelTests {
    @Test func mobileNetV2CountsAndKeys() throws {
        var rng = SplitMix64(seed: 1)
        let model = try MobileNetV2.make(using: &rng)
        #expect(model.parameterCount == 3_504_872)  // torchvision mobilenet_v2()
        #expect(model.stateNames.count == 314)      // len(mobilenet_v2().state_dict())
        let names = Set(model.stateNames)
        for key in ["features.0.0.weight", "features.0.1.running_mean", "features.1.conv.0.0.weight",
                    "features.1.conv.0.1.weight", "features.1.conv.1.weight", "features.1.conv.2.num_batches_tracked",
                    "features.2.conv.0.0.weight", "features.2.conv.1.0.weight", "features.2.conv.2.weight",
                    "features.2.conv.3.running_var", "features.17.conv.3.bias", "features.18.0.weight",
                    "features.18.1.bias", "classifier.1.weight", "classifier.1.bias"] {
            #expect(names.contains(key), "missing \(key)")
        }
        #expect(!names.contains("features.1.conv.3.weight") && !names.contains("features.0.0.bias"))
        let index = try #require(model.parameterNames.firstIndex(of: "features.2.conv.1.0.weight"))
        #expect(model.parameters[index].shape == [96, 1, 3, 3])  // depthwise, 16·6 channels
    }

    /// torchvision's `_make_divisible` and the shapes of a half-width network.
    @Test func mobileNetV2WidthMultiplier() throws {
        #expect(MobileNetV2.makeDivisible(16) == 16 && MobileNetV2.makeDivisible(12) == 16)
        #expect(MobileNetV2.makeDivisible(8) == 8 && MobileNetV2.makeDivisible(4) == 8)
        #expect(MobileNetV2.makeDivisible(1280 * 0.75) == 960 && MobileNetV2.makeDivisible(24 * 0.35) == 8)
        #expect(MobileNetV2.makeDivisible(90) == 88 && MobileNetV2.makeDivisible(36) == 40)
        var rng = SplitMix64(seed: 2)
        let model = try MobileNetV2.make(classes: 10, widthMultiplier: 0.5, using: &rng)
        let first = try #require(model.parameterNames.firstIndex(of: "features.0.0.weight"))
        #expect(model.parameters[first].shape == [16, 3, 3, 3])
        let fc = try #require(model.parameterNames.firstIndex(of: "classifier.1.weight"))
        #expect(model.parameters[fc].shape == [10, 1280])
        let x = randomTensor([2, 3, 64, 64], seed: 3)
        #expect(try model(x, context: .serial).shape == [2, 10])
        let (y, cache) = try model.forward(x, mode: .training(seed: 4), context: .serial)
        let (dx, gradients) = try model.backward(Tensor(shape: y.shape, repeating: 0.1), cache: cache, context: .serial)
        #expect(dx.shape == x.shape && gradients.map(\.shape) == model.parameters.map(\.shape))
    }

    @Test func mobileNetV2Errors() throws {
        var rng = SplitMix64(seed: 5)
        #expect((#expect(throws: ShapeError.self) { try MobileNetV2.make(widthMultiplier: 0, using: &rng) })?.reason == .invalidValue)
        #expect((#expect(throws: ShapeError.self) { try MobileNetV2.make(widthMultiplier: .nan, using: &rng) })?.reason == .invalidValue)
        #expect((#expect(throws: ShapeError.self) { try MobileNetV2.make(classes: 0, using: &rng) })?.reason == .nonPositive)
        #expect((#expect(throws: ShapeError.self) { try MobileNetV2.make(dropout: 2, using: &rng) })?.reason == .invalidValue)
        let stride = #expect(throws: ShapeError.self) {
            try MobileNetV2.invertedResidual(inputChannels: 8, outputChannels: 8, stride: 3, expansion: 6, using: &rng)
        }
        #expect(stride?.message == "MobileNetV2 inverted residual stride must be 1 or 2, got 3")
        let model = try MobileNetV2.make(classes: 3, widthMultiplier: 0.25, using: &rng)
        let channels = #expect(throws: ShapeError.self) { try model(Tensor.zeros([1, 1, 32, 32]), context: .serial) }
        #expect(channels?.reason == .mismatch)
    }

    @Test func uNetCountsKeysAndShapes() throws {
        var rng = SplitMix64(seed: 6)
        let full = try UNet.make(inputChannels: 3, classes: 2, using: &rng)
        #expect(full.parameterCount == 31_037_698)  // milesial UNet(3, 2, bilinear=False)
        #expect(full.stateNames.count == 118)       // len(UNet(3, 2).state_dict())
        let names = Set(full.stateNames)
        for key in ["inc.double_conv.0.weight", "inc.double_conv.1.running_mean", "inc.double_conv.3.weight",
                    "inc.double_conv.4.num_batches_tracked", "down1.maxpool_conv.1.double_conv.0.weight",
                    "down4.maxpool_conv.1.double_conv.4.running_var", "up1.up.weight", "up1.up.bias",
                    "up1.conv.double_conv.0.weight", "up4.conv.double_conv.4.bias", "outc.conv.weight", "outc.conv.bias"] {
            #expect(names.contains(key), "missing \(key)")
        }
        #expect(!names.contains("inc.double_conv.0.bias"))
        let up1 = try #require(full.parameterNames.firstIndex(of: "up1.up.weight"))
        #expect(full.parameters[up1].shape == [1024, 512, 2, 2])

        let model = try UNet.make(inputChannels: 1, classes: 3, width: 4, using: &rng)
        for size in [16, 48] {
            let x = randomTensor([2, 1, size, size], seed: 7)
            #expect(try model(x, context: .serial).shape == [2, 3, size, size])
        }
        let x = randomTensor([2, 1, 32, 16], seed: 8)
        let (y, cache) = try model.forward(x, mode: .training(seed: 9), context: .serial)
        let (_, dy) = try Loss.meanSquaredError(prediction: y, target: Tensor.zeros(y.shape), context: .serial)
        let (dx, gradients) = try model.backward(dy, cache: cache, context: .serial)
        #expect(dx.shape == x.shape && gradients.map(\.shape) == model.parameters.map(\.shape))
        var updated = model
        try updated.applyBufferUpdates(from: cache)
        #expect(updated.buffers != model.buffers)  // running statistics of a training pass
    }

    /// Sizes that would need the reference's padding of the skip connections are refused before
    /// any arithmetic, as are wrong channel counts and bad options.
    @Test func uNetErrors() throws {
        var rng = SplitMix64(seed: 10)
        let model = try UNet.make(inputChannels: 3, classes: 2, width: 2, using: &rng)
        let size = #expect(throws: ShapeError.self) { try model(Tensor.zeros([1, 3, 40, 64]), context: .serial) }
        #expect(size?.reason == .invalidValue)
        #expect(size?.message == "UNet input height and width must be positive multiples of 16 (four 2×2 poolings; the skip connections are not padded), got 40×64")
        let training = #expect(throws: ShapeError.self) {
            try model.forward(Tensor.zeros([2, 3, 8, 8]), mode: .training(seed: 0), context: .serial)
        }
        #expect(training?.reason == .invalidValue)
        let channels = #expect(throws: ShapeError.self) { try model(Tensor.zeros([1, 1, 16, 16]), context: .serial) }
        #expect(channels?.message == "UNet input of shape [1, 1, 16, 16] has channels = 1, expected 3")
        #expect((#expect(throws: ShapeError.self) { try model(Tensor.zeros([3, 16, 16]), context: .serial) })?.reason == .mismatch)
        #expect((#expect(throws: ShapeError.self) { try UNet.make(width: 0, using: &rng) })?.reason == .nonPositive)
        #expect((#expect(throws: ShapeError.self) { try UNet.make(classes: 0, using: &rng) })?.reason == .nonPositive)
    }

    @Test func cycleGANGeneratorCountsKeysAndShapes() throws {
        var rng = SplitMix64(seed: 11)
        let full = try CycleGANGenerator.make(using: &rng)
        #expect(full.parameterCount == 11_378_179)  // ResnetGenerator(3, 3, 64, instance norm, n_blocks=9)
        #expect(full.stateNames.count == 48)
        #expect(full.bufferNames.isEmpty)
        #expect(Array(full.parameterNames.prefix(8)) == ["model.1.weight", "model.1.bias", "model.4.weight", "model.4.bias",
                                                         "model.7.weight", "model.7.bias",
                                                         "model.10.conv_block.1.weight", "model.10.conv_block.1.bias"])
        #expect(Array(full.parameterNames.suffix(6)) == ["model.19.weight", "model.19.bias", "model.22.weight", "model.22.bias",
                                                         "model.26.weight", "model.26.bias"])
        #expect(full.parameterNames.contains("model.18.conv_block.5.weight"))
        let up = try #require(full.parameterNames.firstIndex(of: "model.19.weight"))
        #expect(full.parameters[up].shape == [256, 128, 3, 3])

        let model = try CycleGANGenerator.make(inputChannels: 1, outputChannels: 2, filters: 4, residualBlocks: 2, using: &rng)
        #expect(model.parameterNames.last == "model.19.bias")
        let x = randomTensor([1, 1, 32, 24], seed: 12)
        let y = try model(x, context: .serial)
        #expect(y.shape == [1, 2, 32, 24])
        #expect(y.scalars.allSatisfy { abs($0) < 1 })  // tanh
        // Instance norm only: training and evaluation compute the same.
        #expect(try model.forward(x, mode: .training(seed: 1), context: .serial).output == y)
    }

    @Test func cycleGANGeneratorErrors() throws {
        var rng = SplitMix64(seed: 13)
        #expect((#expect(throws: ShapeError.self) { try CycleGANGenerator.make(residualBlocks: -1, using: &rng) })?.reason == .nonPositive)
        #expect((#expect(throws: ShapeError.self) { try CycleGANGenerator.make(filters: 0, using: &rng) })?.reason == .nonPositive)
        let model = try CycleGANGenerator.make(filters: 2, residualBlocks: 0, using: &rng)
        #expect(model.parameterNames.contains("model.10.weight"))  // the first transposed convolution
        #expect((#expect(throws: ShapeError.self) { try model(Tensor.zeros([1, 1, 16, 16]), context: .serial) })?.reason == .mismatch)
        // Reflection padding of 3 needs at least 4 rows.
        #expect((#expect(throws: ShapeError.self) { try model(Tensor.zeros([1, 3, 3, 16]), context: .serial) }) != nil)
    }

    /// The grey-scale, dropout-before-fc ResNet of `train-resnet`: torchvision's keys unchanged.
    @Test func resNetInputChannelsAndDropout() throws {
        var rng = SplitMix64(seed: 14)
        let model = try ResNet.make(block: .basic, blocks: [1, 1, 1, 1], classes: 10, stem: .smallImage, width: 16,
                                    inputChannels: 1, dropout: 0.2, using: &rng)
        #expect(model.keys == ["conv1", "bn1", "relu", "layer1", "layer2", "layer3", "layer4", "avgpool", "flatten", "dropout", "fc"])
        #expect(model.parameters[0].shape == [16, 1, 3, 3])
        #expect(model.parameterCount == 308_538)
        let plain = try ResNet.make(block: .basic, blocks: [1, 1, 1, 1], classes: 10, stem: .smallImage, width: 16,
                                    inputChannels: 1, using: &rng)
        #expect(plain.stateNames == model.stateNames && !plain.keys.contains("dropout"))
        let x = randomTensor([4, 1, 32, 32], seed: 15)
        #expect(try model(x, context: .serial).shape == [4, 10])
        #expect((#expect(throws: ShapeError.self) {
            try ResNet.make(depth: 18, inputChannels: 0, using: &rng)
        })?.reason == .nonPositive)
        #expect((#expect(throws: ShapeError.self) { try ResNet.make(depth: 18, dropout: 1.5, using: &rng) })?.reason == .invalidValue)
    }
}
