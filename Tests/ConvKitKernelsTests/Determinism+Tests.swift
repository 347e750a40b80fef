import Dispatch
import Testing
import _ConvKitTestSupport

/// Same inputs and thread count give bit-identical results; other thread counts agree within the
/// reference tolerance; kernels that do not use BLAS are bit-identical across thread counts; many
/// concurrent callers get the same answers as serial use.
@Suite("Determinism and concurrent use")
struct DeterminismTests {
    static let geometry = try? Conv2DGeometry(batch: 4, inputChannels: 16, inputSize: 14, outputChannels: 24,
                                              kernelSize: 3, padding: 1)
    static let depthwiseGeometry = try? Conv2DGeometry(batch: 3, inputChannels: 12, inputSize: 17, outputChannels: 12,
                                                       kernelSize: 3, stride: 2, padding: 1, groups: 12)
    static let contexts: [ComputeContext] = [.serial, ComputeContext(threads: 2, minimumElementsPerThread: 1),
                                             ComputeContext(threads: 3, minimumElementsPerThread: 1)]

    @Test func geometriesExist() {
        #expect(Self.geometry != nil && Self.depthwiseGeometry != nil)
    }

    @Test(arguments: [Conv2DAlgorithm.im2col, .winograd, .winograd4x4, .depthwise, .direct, .naive])
    func sameThreadCountIsBitIdentical(_ algorithm: Conv2DAlgorithm) throws {
        let g = try #require(algorithm == .depthwise ? Self.depthwiseGeometry : Self.geometry)
        let x = [Float].random(count: g.inputCount, seed: 1)
        let w = [Float].random(count: g.filterCount, seed: 2)
        let dy = [Float].random(count: g.outputCount, seed: 3)
        for context in Self.contexts {
            let a = Conv2DRunner.forward(g, algorithm, input: x, filter: w, bias: nil, context: context)
            let b = Conv2DRunner.forward(g, algorithm, input: x, filter: w, bias: nil, context: context)
            #expect(a == b, "\(algorithm) forward \(context)")
            let da = Conv2DRunner.backwardData(g, algorithm, outputGradient: dy, filter: w, context: context)
            let db = Conv2DRunner.backwardData(g, algorithm, outputGradient: dy, filter: w, context: context)
            #expect(da == db, "\(algorithm) backwardData \(context)")
            let fa = Conv2DRunner.backwardFilter(g, algorithm, input: x, outputGradient: dy, context: context)
            let fb = Conv2DRunner.backwardFilter(g, algorithm, input: x, outputGradient: dy, context: context)
            #expect(fa.filter == fb.filter && fa.bias == fb.bias, "\(algorithm) backwardFilter \(context)")
        }
    }

    /// ConvKit's own loops (depthwise, bias reduction, naive) split work into disjoint ranges and
    /// reduce in a fixed order: bit-identical whatever the thread count.
    @Test func kernelsWithoutBLASAreBitIdenticalAcrossThreadCounts() throws {
        let g = try #require(Self.depthwiseGeometry)
        let x = [Float].random(count: g.inputCount, seed: 4)
        let w = [Float].random(count: g.filterCount, seed: 5)
        let dy = [Float].random(count: g.outputCount, seed: 6)
        let y1 = Conv2DRunner.forward(g, .depthwise, input: x, filter: w, bias: nil)
        let d1 = Conv2DRunner.backwardData(g, .depthwise, outputGradient: dy, filter: w)
        let f1 = Conv2DRunner.backwardFilter(g, .depthwise, input: x, outputGradient: dy)
        for context in Self.contexts.dropFirst() {
            #expect(Conv2DRunner.forward(g, .depthwise, input: x, filter: w, bias: nil, context: context) == y1)
            #expect(Conv2DRunner.backwardData(g, .depthwise, outputGradient: dy, filter: w, context: context) == d1)
            let f = Conv2DRunner.backwardFilter(g, .depthwise, input: x, outputGradient: dy, context: context)
            #expect(f.filter == f1.filter && f.bias == f1.bias)
        }
    }

    /// OpenBLAS may round differently with 1 and 2 threads: GEMM-based algorithms agree across
    /// thread counts within the reference tolerance (2·k·ε·Σ|a·b|).
    @Test(arguments: [Conv2DAlgorithm.im2col, .winograd, .winograd4x4])
    func gemmAlgorithmsAgreeAcrossThreadCounts(_ algorithm: Conv2DAlgorithm) throws {
        let g = try #require(Self.geometry)
        let x = [Float].random(count: g.inputCount, seed: 7)
        let w = [Float].random(count: g.filterCount, seed: 8)
        let magnitude = Conv2DRunner.forward(g, .naive, input: x.magnitudes, filter: w.magnitudes, bias: nil)
        let serial = Conv2DRunner.forward(g, algorithm, input: x, filter: w, bias: nil)
        let factor = winogradFactor(algorithm)
        for context in Self.contexts.dropFirst() {
            let parallel = Conv2DRunner.forward(g, algorithm, input: x, filter: w, bias: nil, context: context)
            #expect(firstMismatch(parallel, serial) { factor * sumTolerance(terms: g.columnRows, magnitude: magnitude[$0]) } == nil)
        }
    }

    /// Sixteen concurrent callers (serial contexts, their own outputs and workspaces) get exactly
    /// the serial answer.
    @Test(arguments: [Conv2DAlgorithm.im2col, .winograd, .automatic])
    func concurrentCallersMatchSerial(_ algorithm: Conv2DAlgorithm) throws {
        let g = try #require(Self.geometry)
        let x = [Float].random(count: g.inputCount, seed: 9)
        let w = [Float].random(count: g.filterCount, seed: 10)
        let b = [Float].random(count: g.outputChannels, seed: 11)
        let expected = Conv2DRunner.forward(g, algorithm, input: x, filter: w, bias: b)
        let callers = 16
        var results = [[Float]](repeating: [], count: callers)
        results.withUnsafeMutableBufferPointer { slots in
            let shared = SharedBuffer(slots)
            DispatchQueue.concurrentPerform(iterations: callers) { i in
                shared[i] = Conv2DRunner.forward(g, algorithm, input: x, filter: w, bias: b, context: .serial)
            }
        }
        for (i, r) in results.enumerated() { #expect(r == expected, "caller \(i)") }
    }
}
