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
        // FLOPs = 2·N·K·OH·OW·C·R·S, as in shared/anchors/suite.txt (alexnet_c1: 227 → 55 with 11×11 stride 4).
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
