import Testing
import _ConvKitTestSupport

/// The dense layers of the benchmark suite are valid geometries with the anchors' FLOP counts.
@Suite struct DenseSuiteTests {
    @Test func denseShapesAreValid() throws {
        for spec in LayerSuite.dense + LayerSuite.quickDense {
            let g = try spec.geometry()
            #expect(g.flops == 2 * Double(spec.batch) * Double(spec.inputFeatures) * Double(spec.outputFeatures), "\(spec.name)")
        }
        #expect(LayerSuite.dense.map(\.name) == ["lenet_f5", "alexnet_fc"])
    }
}
