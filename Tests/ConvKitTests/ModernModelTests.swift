import ConvKit
import Foundation
import Testing
import _ConvKitTestSupport

/// ResNet, VGG and torchvision's AlexNet: torchvision's parameter counts and `state_dict` keys
/// (counts printed by the PyTorch references of Tools/parity/models.py), shapes and
/// initialisation.
@Suite struct ModernModelTests {
    @Test func resNet18CountsKeysAndShapes() throws {
        var rng = SplitMix64(seed: 1)
        let model = try ResNet.make(depth: 18, using: &rng)
        #expect(model.parameterCount == 11_689_512)  // torchvision resnet18()
        #expect(model.stateNames.count == 122)       // len(resnet18().state_dict())
        let names = Set(model.stateNames)
        for key in ["conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight", "layer1.1.bn2.num_batches_tracked",
                    "layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_var", "layer4.1.bn2.bias",
                    "fc.weight", "fc.bias"] {
            #expect(names.contains(key), "missing \(key)")
        }
        #expect(!names.contains("layer1.0.downsample.0.weight") && !names.contains("conv1.bias"))
        #expect(model.bufferKinds.filter { $0 == .integer }.count == 20)  // one num_batches_tracked per batch norm
        #expect(try model(Tensor(shape: [1, 3, 64, 64], repeating: 0.5)).shape == [1, 1000])
    }

    @Test func resNet34And50Counts() throws {
        var rng = SplitMix64(seed: 2)
        let r34 = try ResNet.make(depth: 34, using: &rng)
        #expect(r34.parameterCount == 21_797_672)
        let r50 = try ResNet.make(depth: 50, using: &rng)
        #expect(r50.parameterCount == 25_557_032)
        #expect(r50.stateNames.count == 320)
        #expect(Set(r50.stateNames).isSuperset(of: ["layer1.0.conv3.weight", "layer1.0.downsample.0.weight", "layer4.2.bn3.weight"]))
        #expect(r50.parameterNames.last == "fc.bias")
        let bad = #expect(throws: ShapeError.self) { try ResNet.make(depth: 20, using: &rng) }
        #expect(bad?.reason == .invalidValue)
    }

    /// The small-image stem keeps the image size up to `layer1` (32×32 → 4×4 before pooling).
    @Test func smallImageStemAndZeroInitResidual() throws {
        var rng = SplitMix64(seed: 3)
        let model = try ResNet.make(depth: 18, classes: 10, stem: .smallImage, width: 8, zeroInitResidual: true, using: &rng)
        let conv1 = try #require(model.layers[0] as? Conv2D)
        #expect(conv1.filter.shape == [8, 3, 3, 3] && conv1.strideHeight == 1 && !conv1.hasBias)
        #expect(!model.keys.contains("maxpool"))
        let x = randomTensor([2, 3, 32, 32], seed: 4)
        var y = x
        for layer in model.layers.prefix(7) { y = try layer(y) }  // up to layer4
        #expect(y.shape == [2, 64, 4, 4])
        #expect(try model(x).shape == [2, 10])
        // zero_init_residual: the last batch norm of every block starts with weight 0.
        for (name, p) in zip(model.parameterNames, model.parameters) where name.hasPrefix("layer") && name.hasSuffix(".weight") {
            let zero = p.scalars.allSatisfy { $0 == 0 }
            #expect(zero == name.hasSuffix("bn2.weight"), "\(name)")
        }
        let bottleneck = try ResNet.make(depth: 50, classes: 2, width: 4, zeroInitResidual: true, using: &rng)
        let bn3 = zip(bottleneck.parameterNames, bottleneck.parameters).filter { $0.0.hasSuffix("bn3.weight") }
        #expect(bn3.count == 16 && bn3.allSatisfy { $0.1.scalars.allSatisfy { $0 == 0 } })
    }

    /// torchvision's initialisation: convolutions N(0, 2/fanOut), batch norm 1 and 0.
    @Test func resNetInitialisation() throws {
        var rng = SplitMix64(seed: 5)
        let model = try ResNet.make(depth: 18, classes: 10, width: 16, using: &rng)
        let index = try #require(model.parameterNames.firstIndex(of: "layer1.0.conv1.weight"))
        let values = model.parameters[index].scalars.map(Double.init)  // fanOut = 16·3·3 = 144
        let variance = values.reduce(0) { $0 + $1 * $1 } / Double(values.count)
        #expect(abs(variance - 2.0 / 144) < 0.2 * 2.0 / 144, "variance \(variance)")
        let bn = try #require(model.layers[1] as? BatchNorm2D)
        #expect(bn.weight.scalars.allSatisfy { $0 == 1 } && bn.bias.scalars.allSatisfy { $0 == 0 })
    }

    @Test func vgg16BatchNormKeysAndShapes() throws {
        var rng = SplitMix64(seed: 6)
        let model = try VGG.make(depth: 16, classes: 10, width: 16, hiddenFeatures: 256, using: &rng)
        #expect(model.parameterCount == 2_597_146)  // the PyTorch reference at the same sizes
        #expect(model.stateNames.count == 97)
        let names = Set(model.stateNames)
        for key in ["features.0.weight", "features.0.bias", "features.1.running_var", "features.41.num_batches_tracked",
                    "classifier.0.weight", "classifier.3.bias", "classifier.6.weight"] {
            #expect(names.contains(key), "missing \(key)")
        }
        #expect(try model(randomTensor([2, 3, 32, 32], seed: 7)).shape == [2, 10])
        let small = #expect(throws: ShapeError.self) { try model(Tensor.zeros([1, 3, 16, 16])) }
        #expect(small != nil)
        let plain = try VGG.make(depth: 11, batchNorm: false, classes: 3, width: 8, hiddenFeatures: 16, using: &rng)
        #expect(Set(plain.stateNames).isSuperset(of: ["features.0.weight", "features.3.weight", "features.18.bias"]))
        #expect(plain.bufferNames.isEmpty)
    }

    @Test func torchvisionAlexNet() throws {
        var rng = SplitMix64(seed: 8)
        #expect(AlexNet.parameterCount() == 61_100_840)  // torchvision alexnet()
        let model = try AlexNet.make(classes: 10, hiddenFeatures: 512, using: &rng)
        #expect(model.parameterCount == AlexNet.parameterCount(classes: 10, hiddenFeatures: 512))
        #expect(model.parameterNames == ["features.0.weight", "features.0.bias", "features.3.weight", "features.3.bias",
                                         "features.6.weight", "features.6.bias", "features.8.weight", "features.8.bias",
                                         "features.10.weight", "features.10.bias", "classifier.1.weight", "classifier.1.bias",
                                         "classifier.4.weight", "classifier.4.bias", "classifier.6.weight", "classifier.6.bias"])
        let x = randomTensor([2, 3, 64, 64], seed: 9)
        #expect(try model(x).shape == [2, 10])
        // Dropout is active in training only: two seeds, two outputs; evaluation is deterministic.
        let a = try model.forward(x, mode: .training(seed: 1), context: .serial).output
        let b = try model.forward(x, mode: .training(seed: 2), context: .serial).output
        #expect(a != b)
        #expect(try model(x) == model(x))
    }
}
