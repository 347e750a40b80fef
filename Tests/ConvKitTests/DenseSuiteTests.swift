import Testing
import _ConvKitTestSupport

/// The dense layers of the benchmark suite are valid geometries with the anchors' FLOP counts.
@Suite struct DenseSuiteTests {
    @Test func denseShapesAreValid() throws {
        for spec in LayerSuite.dense + LayerSuite.quickDense {
            let g = try spec.geometry()
            let expected: Double = 2 * Double(spec.batch * spec.inputFeatures * spec.outputFeatures)
            #expect(g.flops == expected, "\(spec.name)")
        }
        #expect(LayerSuite.dense.map(\.name) == ["lenet_f5", "alexnet_fc"])
    }
}
