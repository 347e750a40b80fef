import Testing
import _ConvKitTestSupport

/// Subnormal flushing inside kernels, the caller's floating-point state, and NaN/∞ propagation.
@Suite("Numerics: denormals, NaN and infinities")
struct NumericsTests {
    static let tiny: Float = Float.leastNormalMagnitude / 1024     // subnormal, about 1.1e-41

    @Test func tinyIsSubnormal() { #expect(Self.tiny.isSubnormal) }

    /// With flushing (the default), subnormal inputs read as zero inside the GEMM-based kernels;
    /// without it, IEEE gradual underflow gives subnormal results.
    @Test(arguments: [Conv2DAlgorithm.im2col, .winograd, .winograd4x4])
    func subnormalInputsAreFlushedInsideKernels(_ algorithm: Conv2DAlgorithm) throws {
        let g = try Conv2DGeometry(batch: 2, inputChannels: 4, inputSize: 10, outputChannels: 3, kernelSize: 3, padding: 1)
        let x = [Float](repeating: Self.tiny, count: g.inputCount)
        let w = [Float](repeating: 0.5, count: g.filterCount)
        let flushed = Conv2DRunner.forward(g, algorithm, input: x, filter: w, bias: nil, context: .serial)
        #expect(flushed.allSatisfy { $0 == 0 })
        let ieee = Conv2DRunner.forward(g, algorithm, input: x, filter: w, bias: nil,
                                        context: ComputeContext(threads: 1, flushesDenormals: false))
        #expect(ieee.contains { $0 != 0 && $0.isSubnormal })
    }

    /// The caller's FTZ/DAZ flags are the same after a call as before, whichever they were.
    @Test func callerFloatingPointStateIsRestored() throws {
        let g = try Conv2DGeometry(batch: 1, inputChannels: 2, inputSize: 8, outputChannels: 2, kernelSize: 3)
        let x = [Float].random(count: g.inputCount, seed: 1), w = [Float].random(count: g.filterCount, seed: 2)
        #expect(!DenormalMode.isFlushingOnCurrentThread)
        _ = Conv2DRunner.forward(g, .im2col, input: x, filter: w, bias: nil, context: ComputeContext(threads: 2))
        #expect(!DenormalMode.isFlushingOnCurrentThread)
        DenormalMode.run(flushing: true) {
            _ = Conv2DRunner.forward(g, .im2col, input: x, filter: w, bias: nil,
                                     context: ComputeContext(threads: 1, flushesDenormals: false))
            #expect(DenormalMode.isFlushingOnCurrentThread)
        }
        #expect(!DenormalMode.isFlushingOnCurrentThread)
    }

    /// NaN and ∞ in the input reach exactly the outputs that read them, in every algorithm but
    /// Winograd. Winograd's transforms mix a whole 4×4 (6×6) input tile into all outputs of its 2×2
    /// (4×4) tile (and ∞ − ∞ gives NaN there), so a non-finite input also reaches the neighbours in its
    /// tiles: it is never lost (every output the reference makes non-finite is non-finite), but it
    /// spreads further. docs/Kernels.md states this.
    @Test(arguments: Conv2DAlgorithm.allCases)
    func nanAndInfinityPropagateThroughConvolution(_ algorithm: Conv2DAlgorithm) throws {
        for groups in [1, 4] {
            let g = try Conv2DGeometry(batch: 1, inputChannels: 4, inputSize: 9, outputChannels: 4, kernelSize: 3,
                                       padding: 1, groups: groups)
            var x = [Float](repeating: 1, count: g.inputCount)
            x[4 * 9 + 4] = .nan                   // channel 0, centre pixel (4, 4)
            x[g.inputPlane + 0] = .infinity       // channel 1, corner (0, 0)
            let w = [Float](repeating: 1, count: g.filterCount)
            let y = Conv2DRunner.forward(g, algorithm, input: x, filter: w, bias: nil)
            let reference = Conv2DRunner.forward(g, .naive, input: x, filter: w, bias: nil)
            let mixesTiles = algorithm.effective(for: g).isWinograd
            for i in 0..<y.count {
                if mixesTiles {
                    #expect(reference[i].isFinite || !y[i].isFinite, "winograd output \(i): \(y[i]) vs \(reference[i])")
                } else {
                    #expect(y[i].isNaN == reference[i].isNaN && y[i].isInfinite == reference[i].isInfinite,
                            "\(algorithm) groups \(groups) output \(i): \(y[i]) vs \(reference[i])")
                }
            }
            #expect(reference.contains { $0.isNaN } && reference.contains { $0.isInfinite })
        }
    }

    @Test(arguments: DenseAlgorithm.allCases)
    func nanPropagatesThroughDense(_ algorithm: DenseAlgorithm) throws {
        let g = try DenseGeometry(batch: 2, inputFeatures: 5, outputFeatures: 3)
        var x = [Float](repeating: 1, count: g.inputCount)
        x[2] = .nan                                // image 0 only
        let y = DenseRunner.forward(g, algorithm, input: x, weight: [Float](repeating: 1, count: g.weightCount), bias: nil)
        #expect(y[0..<3].allSatisfy { $0.isNaN })
        #expect(y[3..<6].allSatisfy { $0 == 5 })
    }
}
