import Testing
import _ConvKitTestSupport

/// Every convolution algorithm, in every direction, against the naive loops over the shape table.
///
/// Conventions (see docs/Testing.md): fixed seeds printed on failure; outputs poisoned with NaN
/// before the call; tolerance `2·k·ε·Σ|a·b|` per element, where `k` is the number of summed terms
/// and `Σ|a·b|` is obtained by running the naive kernel on absolute values (the classic
/// floating-point dot-product bound, for two independent summation orders).
@Suite("Conv2D algorithms vs naive")
struct Conv2DReferenceTests {
    static let table: [NamedConv] = (try? ConvShapeTable.all()) ?? []
    static let fastAlgorithms = Conv2DAlgorithm.allCases.filter { $0 != .naive }
    /// Serial, and a context that forces every parallel loop to split (1 element per thread minimum),
    /// at every SIMD level this CPU supports (lower levels select the portable paths).
    static let contexts: [ComputeContext] = SIMDLevel.allCases.filter { $0 <= .detected }.flatMap { level in
        [ComputeContext.serial.with(simdLevel: level),
         ComputeContext(threads: 2, minimumElementsPerThread: 1, simdLevel: level)]
    }

    /// A seed derived from the case name (FNV-1a), stable across runs and platforms.
    static func seed(_ name: String, _ salt: UInt64) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h ^ salt
    }

    /// Extra tolerance factor per algorithm (``winogradFactor(_:)``; 1 for the others).
    static func factor(_ algorithm: Conv2DAlgorithm, _ g: Conv2DGeometry) -> Float {
        winogradFactor(algorithm.effective(for: g))
    }

    @Test func tableIsPopulated() throws {
        // The parameterised tests below iterate over `table`; make sure it was built.
        let all = try ConvShapeTable.all()
        #expect(all.count == Self.table.count)
        #expect(all.count >= 20)
        // Winograd must run as itself (not fall back) on part of the table.
        #expect(all.filter { Conv2DAlgorithm.winograd.supports($0.geometry) }.count >= 6)
        #expect(all.filter { Conv2DAlgorithm.depthwise.supports($0.geometry) }.count >= 4)
        // The automatic choice picks each algorithm somewhere in the table.
        let picked = Set(all.map { Conv2DAlgorithm.automatic.effective(for: $0.geometry) })
        let large: Set<Conv2DAlgorithm> = SIMDLevel.detected >= .avx2 ? [.winograd4x4] : []
        let base: Set<Conv2DAlgorithm> = SIMDLevel.detected >= .avx512 ? [.im2col, .winograd, .depthwise, .direct]
                                                                         : [.im2col, .winograd, .depthwise]
        #expect(picked == base.union(large))
        // `direct` runs as itself on part of the table (where the CPU has AVX-512).
        if SIMDLevel.detected >= .avx512 {
            #expect(all.filter { Conv2DAlgorithm.direct.supports($0.geometry) }.count >= 20)
        }
    }

    @Test(arguments: table, fastAlgorithms)
    func forward(_ shape: NamedConv, _ algorithm: Conv2DAlgorithm) {
        let g = shape.geometry
        let s = Self.seed(shape.name, 1)
        let x = [Float].random(count: g.inputCount, seed: s)
        let w = [Float].random(count: g.filterCount, seed: s + 1)
        let b = [Float].random(count: g.outputChannels, seed: s + 2)
        let expected = Conv2DRunner.forward(g, .naive, input: x, filter: w, bias: b)
        let magnitude = Conv2DRunner.forward(g, .naive, input: x.magnitudes, filter: w.magnitudes, bias: b.magnitudes)
        for context in Self.contexts {
            let actual = Conv2DRunner.forward(g, algorithm, input: x, filter: w, bias: b, context: context)
            let f = Self.factor(algorithm, g)
            let bad = firstMismatch(actual, expected) { f * sumTolerance(terms: g.columnRows + 1, magnitude: magnitude[$0]) }
            #expect(bad == nil, "\(shape) \(algorithm) \(context) seed \(s): \(bad.map(String.init(describing:)) ?? "")")
        }
        // Without bias as well.
        let noBias = Conv2DRunner.forward(g, algorithm, input: x, filter: w, bias: nil)
        let expectedNoBias = Conv2DRunner.forward(g, .naive, input: x, filter: w, bias: nil)
        let f = Self.factor(algorithm, g)
        let bad = firstMismatch(noBias, expectedNoBias) { f * sumTolerance(terms: g.columnRows, magnitude: magnitude[$0]) }
        #expect(bad == nil, "\(shape) \(algorithm) (no bias) seed \(s): \(bad.map(String.init(describing:)) ?? "")")
    }

    /// The fused ReLU (`z < 0 ? 0 : z` after the bias) matches naive's, at every SIMD level.
    @Test(arguments: table, fastAlgorithms)
    func forwardReLU(_ shape: NamedConv, _ algorithm: Conv2DAlgorithm) {
        let g = shape.geometry
        let s = Self.seed(shape.name, 4)
        let x = [Float].random(count: g.inputCount, seed: s)
        let w = [Float].random(count: g.filterCount, seed: s + 1)
        let b = [Float].random(count: g.outputChannels, seed: s + 2)
        let expected = Conv2DRunner.forward(g, .naive, input: x, filter: w, bias: b, activation: .relu)
        let magnitude = Conv2DRunner.forward(g, .naive, input: x.magnitudes, filter: w.magnitudes, bias: b.magnitudes)
        for level in SIMDLevel.allCases where level <= .detected {
            let context = ComputeContext(threads: 2, minimumElementsPerThread: 1, simdLevel: level)
            let actual = Conv2DRunner.forward(g, algorithm, input: x, filter: w, bias: b, activation: .relu, context: context)
            let f = Self.factor(algorithm, g)
            let bad = firstMismatch(actual, expected) { f * sumTolerance(terms: g.columnRows + 1, magnitude: magnitude[$0]) }
            #expect(bad == nil, "\(shape) \(algorithm) relu \(context) seed \(s): \(bad.map(String.init(describing:)) ?? "")")
        }
    }

    @Test(arguments: table, fastAlgorithms)
    func backwardData(_ shape: NamedConv, _ algorithm: Conv2DAlgorithm) {
        let g = shape.geometry
        let s = Self.seed(shape.name, 2)
        let dy = [Float].random(count: g.outputCount, seed: s)
        let w = [Float].random(count: g.filterCount, seed: s + 1)
        let expected = Conv2DRunner.backwardData(g, .naive, outputGradient: dy, filter: w)
        let magnitude = Conv2DRunner.backwardData(g, .naive, outputGradient: dy.magnitudes, filter: w.magnitudes)
        // Each input element receives at most Og·KH·KW contributions.
        let terms = g.outputChannelsPerGroup * g.kernelPlane
        for context in Self.contexts {
            let actual = Conv2DRunner.backwardData(g, algorithm, outputGradient: dy, filter: w, context: context)
            let f = Self.factor(algorithm, g)
            let bad = firstMismatch(actual, expected) { f * sumTolerance(terms: terms, magnitude: magnitude[$0]) }
            #expect(bad == nil, "\(shape) \(algorithm) \(context) seed \(s): \(bad.map(String.init(describing:)) ?? "")")
        }
    }

    @Test(arguments: table, fastAlgorithms)
    func backwardFilter(_ shape: NamedConv, _ algorithm: Conv2DAlgorithm) {
        let g = shape.geometry
        let s = Self.seed(shape.name, 3)
        let x = [Float].random(count: g.inputCount, seed: s)
        let dy = [Float].random(count: g.outputCount, seed: s + 1)
        let expected = Conv2DRunner.backwardFilter(g, .naive, input: x, outputGradient: dy)
        let magnitude = Conv2DRunner.backwardFilter(g, .naive, input: x.magnitudes, outputGradient: dy.magnitudes)
        // Each filter element sums N·OH·OW products; each bias element N·OH·OW terms.
        let terms = g.batch * g.outputPlane
        for context in Self.contexts {
            let actual = Conv2DRunner.backwardFilter(g, algorithm, input: x, outputGradient: dy, context: context)
            let f = Self.factor(algorithm, g)
            let badW = firstMismatch(actual.filter, expected.filter) { f * sumTolerance(terms: terms, magnitude: magnitude.filter[$0]) }
            let badB = firstMismatch(actual.bias, expected.bias) { sumTolerance(terms: terms, magnitude: magnitude.bias[$0]) }
            #expect(badW == nil, "\(shape) \(algorithm) \(context) filter seed \(s): \(badW.map(String.init(describing:)) ?? "")")
            #expect(badB == nil, "\(shape) \(algorithm) \(context) bias seed \(s): \(badB.map(String.init(describing:)) ?? "")")
        }
    }

    /// `accumulate: true` adds to what is there (checked against overwrite + the initial values).
    @Test(arguments: Conv2DAlgorithm.allCases)
    func backwardFilterAccumulates(_ algorithm: Conv2DAlgorithm) throws {
        let g = try Conv2DGeometry(batch: 2, inputChannels: 3, inputHeight: 7, inputWidth: 6, outputChannels: 4,
                                   kernelHeight: 3, kernelWidth: 2, paddingHeight: 1, paddingWidth: 0)
        let x = [Float].random(count: g.inputCount, seed: 11)
        let dy = [Float].random(count: g.outputCount, seed: 12)
        let initialW = [Float].random(count: g.filterCount, seed: 13)
        let initialB = [Float].random(count: g.outputChannels, seed: 14)
        let fresh = Conv2DRunner.backwardFilter(g, algorithm, input: x, outputGradient: dy)
        let summed = Conv2DRunner.backwardFilter(g, algorithm, input: x, outputGradient: dy, initial: (initialW, initialB))
        for i in 0..<g.filterCount {
            #expect(abs(summed.filter[i] - (initialW[i] + fresh.filter[i])) <= 1e-5 * (1 + abs(fresh.filter[i])))
        }
        for o in 0..<g.outputChannels {
            #expect(abs(summed.bias[o] - (initialB[o] + fresh.bias[o])) <= 1e-5 * (1 + abs(fresh.bias[o])))
        }
    }

    /// The whole batch computed at once equals each image computed alone (batch indexing).
    @Test(arguments: fastAlgorithms)
    func batchEqualsPerImage(_ algorithm: Conv2DAlgorithm) throws {
        let g = try Conv2DGeometry(batch: 3, inputChannels: 2, inputHeight: 9, inputWidth: 8, outputChannels: 3,
                                   kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2,
                                   paddingHeight: 1, paddingWidth: 1)
        let one = try g.withBatch(1)
        let x = [Float].random(count: g.inputCount, seed: 21)
        let w = [Float].random(count: g.filterCount, seed: 22)
        let all = Conv2DRunner.forward(g, algorithm, input: x, filter: w, bias: nil)
        for n in 0..<g.batch {
            let xi = Array(x[(n * one.inputCount)..<((n + 1) * one.inputCount)])
            let yi = Conv2DRunner.forward(one, algorithm, input: xi, filter: w, bias: nil)
            #expect(Array(all[(n * one.outputCount)..<((n + 1) * one.outputCount)]) == yi)
        }
    }
}
