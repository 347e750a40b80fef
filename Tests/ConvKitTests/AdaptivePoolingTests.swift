import ConvKit
import ConvKitKernels
import Testing
import _ConvKitTestSupport

/// AdaptiveAvgPool2D and Conv2D without bias: PyTorch's bin rule, the vectorised kernel against
/// the naive one, finite differences (both layers are linear in the input: step 0.5, tolerance
/// 2e-3 relative, as in LinearLayerGradientTests) and typed errors.
@Suite struct AdaptivePoolingTests {
    static let check = GradientCheck(step: 0.5, tolerance: 2e-3)

    /// Bins of PyTorch's rule: start ⌊i·H/OH⌋, end ⌈(i+1)·H/OH⌉.
    @Test func binRule() throws {
        let g = try AdaptivePool2DGeometry(batch: 1, channels: 1, inputHeight: 5, inputWidth: 7, outputHeight: 3, outputWidth: 7)
        #expect((0..<3).map(g.rows) == [0..<2, 1..<4, 3..<5])  // overlapping bins
        #expect((0..<7).map(g.columns) == (0..<7).map { $0..<($0 + 1) })  // OW = W: the identity
        let up = try AdaptivePool2DGeometry(batch: 1, channels: 1, inputHeight: 2, inputWidth: 1, outputHeight: 5, outputWidth: 1)
        #expect((0..<5).map(up.rows) == [0..<1, 0..<1, 0..<2, 1..<2, 1..<2])  // OH > H repeats rows
    }

    @Test func valuesOfAThreeByThreeOutput() throws {
        // A 4×4 plane 0…15 to 3×3: bins rows/columns [0,2) [1,3) [2,4).
        let x = try Tensor(shape: [1, 1, 4, 4], scalars: (0..<16).map(Float.init))
        let y = try AdaptiveAvgPool2D(outputSize: 3)(x)
        #expect(y.scalars == [2.5, 3.5, 4.5, 6.5, 7.5, 8.5, 10.5, 11.5, 12.5])
        let global = try AdaptiveAvgPool2D(outputSize: 1)(x)
        #expect(global.shape == [1, 1, 1, 1] && global.scalars == [7.5])
    }

    /// The vectorised kernel against the naive one, forward and backward, serial and 2 threads:
    /// global (plane sizes below, at and above the 64-value vector step), divisible, overlapping,
    /// upsampling (5×5 → 7×7, VGG's pooling of a small image) and a 1×1 input.
    @Test(arguments: [(3, 5, 5, 1, 1), (2, 9, 9, 1, 1), (2, 13, 11, 1, 1), (2, 8, 8, 2, 2), (2, 7, 6, 3, 4),
                      (1, 5, 5, 7, 7), (2, 1, 1, 6, 6), (2, 19, 17, 6, 6)])
    func simdMatchesNaive(c: Int, h: Int, w: Int, oh: Int, ow: Int) throws {
        let x = randomTensor(try Shape([2, c, h, w]), seed: UInt64(h * 100 + w))
        let naive = try AdaptiveAvgPool2D(outputHeight: oh, outputWidth: ow, algorithm: .naive)
        for context in [ComputeContext.serial, ComputeContext(threads: 2, minimumElementsPerThread: 1)] {
            let fast = try AdaptiveAvgPool2D(outputHeight: oh, outputWidth: ow, algorithm: .simd)
            let (y0, c0) = try naive.forward(x, context: .serial)
            let (y1, c1) = try fast.forward(x, context: context)
            #expect(y1.shape == [2, c, oh, ow])
            #expect(maxRelativeDifference(y1, y0) <= 1e-6)
            let dy = randomTensor(y0.shape, seed: 9)
            let dx0 = try naive.backward(dy, cache: c0, context: .serial).inputGradient
            let dx1 = try fast.backward(dy, cache: c1, context: context).inputGradient
            #expect(maxRelativeDifference(dx1, dx0) <= 1e-6)
        }
    }

    @Test(arguments: [PoolingAlgorithm.naive, .simd])
    func gradients(algorithm: PoolingAlgorithm) throws {
        let cases: [(Shape, Int, Int)] = [([2, 3, 7, 6], 3, 4), ([2, 2, 9, 9], 1, 1), ([1, 2, 3, 3], 5, 4)]
        for (k, c) in cases.enumerated() {
            let layer = try AdaptiveAvgPool2D(outputHeight: c.1, outputWidth: c.2, algorithm: algorithm)
            let failures = try Self.check.run(layer, input: randomTensor(c.0, seed: 20 + UInt64(k)), seed: 30)
            #expect(failures.isEmpty, "case \(k): \(failures.prefix(5))")
        }
    }

    @Test func errors() throws {
        let zero = #expect(throws: ShapeError.self) { try AdaptiveAvgPool2D(outputHeight: 0, outputWidth: 2) }
        #expect(zero?.reason == .nonPositive)
        let rank = #expect(throws: ShapeError.self) { try AdaptiveAvgPool2D(outputSize: 1)(Tensor.zeros([2, 3, 4])) }
        #expect(rank?.reason == .mismatch)
        let layer = try AdaptiveAvgPool2D(outputSize: 2)
        let (_, cache) = try layer.forward(Tensor.zeros([1, 2, 4, 4]), context: .serial)
        let gradient = #expect(throws: ShapeError.self) { try layer.backward(Tensor.zeros([1, 2, 3, 3]), cache: cache, context: .serial) }
        #expect(gradient?.reason == .mismatch)
    }

    /// `bias: false`: one parameter named `weight`, the same output as a zero bias, gradients by
    /// finite differences for every algorithm.
    @Test(arguments: Conv2DAlgorithm.allCases)
    func convolutionWithoutBias(algorithm: Conv2DAlgorithm) throws {
        var rng = SplitMix64(seed: 41)
        let filter = Tensor(shape: [4, 3, 3, 3], uniformIn: -1...1, using: &rng)
        let layer = try Conv2D(filter: filter, bias: nil, padding: (1, 1), algorithm: algorithm)
        #expect(layer.parameterNames == ["weight"] && layer.parameters.count == 1 && !layer.hasBias)
        let x = randomTensor([2, 3, 5, 5], seed: 42)
        let withZeroBias = try Conv2D(filter: filter, bias: Tensor.zeros([4]), padding: (1, 1), algorithm: algorithm)
        #expect(maxRelativeDifference(try layer(x), try withZeroBias(x)) <= 1e-6)
        let failures = try Self.check.run(layer, input: x, seed: 43)
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    @Test func convolutionWithoutBiasErrorsAndCheckpoint() throws {
        var rng = SplitMix64(seed: 44)
        var layer = try Conv2D(inputChannels: 2, outputChannels: 3, kernelSize: 1, bias: false, using: &rng)
        #expect(layer.bias == nil && layer.stateNames == ["weight"])
        // A bias-free checkpoint loads; one with a bias is refused (strict) naming the key.
        var withBias = try Conv2D(inputChannels: 2, outputChannels: 3, kernelSize: 1, using: &rng)
        try layer.loadParameters(from: withBias.checkpoint(), strict: false)
        #expect(layer.filter == withBias.filter)
        let extra = #expect(throws: FileFormatError.self) { try layer.loadParameters(from: withBias.checkpoint()) }
        #expect(extra?.reason == .modelMismatch && extra?.message.contains("'bias'") == true)
        let missing = #expect(throws: FileFormatError.self) { try withBias.loadParameters(from: layer.checkpoint()) }
        #expect(missing?.message.contains("lacks tensor 'bias'") == true)
        // Whether the bias exists is fixed at creation.
        layer.bias = Tensor.zeros([3])
        let added = #expect(throws: ShapeError.self) { try layer(Tensor.zeros([1, 2, 2, 2])) }
        #expect(added?.reason == .mismatch)
        withBias.bias = nil
        let removed = #expect(throws: ShapeError.self) { try withBias(Tensor.zeros([1, 2, 2, 2])) }
        #expect(removed?.reason == .mismatch)
    }
}

/// max |a − b| / max |b| (0 for equal tensors).
func maxRelativeDifference(_ a: Tensor, _ b: Tensor) -> Double {
    precondition(a.shape == b.shape, "shapes \(a.shape) and \(b.shape)")
    var difference = 0.0, scale = 0.0
    for i in 0..<a.count {
        difference = max(difference, abs(Double(a[flat: i]) - Double(b[flat: i])))
        scale = max(scale, abs(Double(b[flat: i])))
    }
    return difference == 0 ? 0 : difference / max(scale, 1e-30)
}
