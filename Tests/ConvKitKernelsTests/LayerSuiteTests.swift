import Testing
import _ConvKitTestSupport

/// The benchmark's named shapes (shared with the peers' suite.txt) must stay valid and unchanged:
/// results are compared across runs and against the anchors by name.
@Suite struct LayerSuiteTests {
    @Test func convShapesAreValidAndMatchTheAnchors() throws {
        for spec in LayerSuite.conv + LayerSuite.quickConv {
            let g = try spec.geometry()
            #expect(g.flops > 0, "\(spec.name)")
        }
        #expect(Set(LayerSuite.conv.map(\.name)).count == LayerSuite.conv.count, "layer names must be unique")
        // FLOPs = 2·N·K·OH·OW·C·R·S, as the peer measurements count them (alexnet_c1: 227 → 55 with 11×11 stride 4).
        let byName = Dictionary(uniqueKeysWithValues: LayerSuite.conv.map { ($0.name, $0) })
        let c1 = try #require(byName["alexnet_c1"]).geometry()
        #expect(c1.outputHeight == 55 && c1.outputWidth == 55)
        let expectedFlops: Double = 2 * 8 * 96 * (55 * 55) * (3 * 11 * 11)
        #expect(c1.flops == expectedFlops)
        let strided = try #require(byName["strided_3x3"]).geometry()
        #expect(strided.outputHeight == 14)
        let pointwise = try #require(byName["resnet_1x1"]).geometry()
        #expect(pointwise.isPointwise)
    }

    /// The broad suite: valid, unique names (also against the default suite's), every row within the
    /// ~2 GFLOP budget that keeps `make compare` affordable, and the per-axis fields reach the geometry.
    @Test func broadSuiteIsValidAndWithinBudget() throws {
        let names = LayerSuite.broadConv.map(\.name)
        #expect(Set(names).count == names.count, "layer names must be unique")
        #expect(Set(names).isDisjoint(with: LayerSuite.conv.map(\.name)))
        for spec in LayerSuite.broadConv {
            let g = try spec.geometry()
            #expect(g.flops > 0 && g.flops <= 2e9, "\(spec.name): \(g.flops / 1e9) GFLOP")
        }
        let byName = Dictionary(uniqueKeysWithValues: LayerSuite.broadConv.map { ($0.name, $0) })
        // Inception's 1×7 keeps 17×17 with padding (0, 3); the 7×1 with (3, 0).
        let wide = try #require(byName["incep_1x7"]).geometry()
        #expect(wide.kernelHeight == 1 && wide.kernelWidth == 7 && wide.paddingWidth == 3)
        #expect(wide.outputHeight == 17 && wide.outputWidth == 17)
        let tall = try #require(byName["incep_7x1"]).geometry()
        #expect(tall.kernelHeight == 7 && tall.kernelWidth == 1 && tall.outputHeight == 17 && tall.outputWidth == 17)
        #expect(try #require(byName["incep_1x7"]).isSquare == false)
        // DeepLab's atrous 3×3 keeps 33×33 with padding = dilation.
        let atrous = try #require(byName["deeplab_3x3_d4"]).geometry()
        #expect(atrous.dilationHeight == 4 && atrous.dilationWidth == 4 && atrous.outputHeight == 33)
        // ResNet-50 v1.5: the stride sits on the 3×3 (56 → 28); the stem halves 224 to 112.
        #expect(try #require(byName["r50_3x3_s2"]).geometry().outputHeight == 28)
        #expect(try #require(byName["r50_stem_7x7"]).geometry().outputHeight == 112)
        // ResNeXt's 32 groups; MobileNetV2's depthwise rows have one channel per group.
        #expect(try #require(byName["resnext_g32_3x3"]).geometry().inputChannelsPerGroup == 4)
        for spec in LayerSuite.broadConv where spec.name.hasPrefix("mbv2_dw") {
            #expect(try spec.geometry().inputChannelsPerGroup == 1, "\(spec.name)")
        }
    }

    /// The square initializer gives the same geometry as the per-axis one.
    @Test func squareAndPerAxisSpecsAgree() throws {
        let square = LayerSuite.ConvSpec("a", batch: 2, inputChannels: 8, inputSize: 15, outputChannels: 4, kernelSize: 3,
                                         stride: 2, padding: 2, dilation: 2, groups: 2)
        let axes = LayerSuite.ConvSpec("a", batch: 2, inputChannels: 8, inputHeight: 15, inputWidth: 15, outputChannels: 4,
                                       kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2,
                                       paddingHeight: 2, paddingWidth: 2, dilationHeight: 2, dilationWidth: 2, groups: 2)
        #expect(square == axes && square.isSquare)
        #expect(try square.geometry() == axes.geometry())
        #expect(square.inputSize == 15 && square.kernelSize == 3 && square.stride == 2 && square.padding == 2)
    }

    @Test func denseShapesAreValid() throws {
        for spec in LayerSuite.dense + LayerSuite.quickDense {
            let g = try spec.geometry()
            let expected: Double = 2 * Double(spec.batch * spec.inputFeatures * spec.outputFeatures)
            #expect(g.flops == expected, "\(spec.name)")
        }
        #expect(LayerSuite.dense.map(\.name) == ["lenet_f5", "alexnet_fc"])
    }

    @Test func poolingAndActivationShapes() {
        let pool = LayerSuite.maxPool[0]
        #expect(pool.name == "alexnet_pool1" && pool.outputSize == 27)
        #expect(pool.inputCount == 8 * 96 * 55 * 55 && pool.outputCount == 8 * 96 * 27 * 27)
        #expect(LayerSuite.relu[0].count == 16_777_216)
        for spec in LayerSuite.quickMaxPool { #expect(spec.outputSize >= 1, "\(spec.name)") }
    }
}
