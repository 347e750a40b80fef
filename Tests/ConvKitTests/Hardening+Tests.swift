import ConvKit
import Testing
import _ConvKitTestSupport

/// Regression tests for hostile sizes and parameters given to the safe API: each one a probe that
/// used to reach memory it did not own, trap in a validator or trap in a kernel.
@Suite("Hardening: sizes and parameters")
struct HardeningTests {
    // MARK: Byte sizes

    /// `[1 << 62]` has an element count that fits `Int` but 2^64 bytes: refused before anything is
    /// allocated (it used to allocate a wrapped, tiny buffer, and `t[flat: 1 << 33]` segfaulted).
    @Test func shapeWhoseBytesOverflowIsRefused() {
        for dims in [[1 << 62], [1 << 61], [1 << 31, 1 << 31], [3, 1 << 61]] {
            let error = #expect(throws: ShapeError.self) { try Shape(dims) }
            #expect(error?.reason == .overflow, "\(dims)")
        }
        // The largest count whose bytes fit is a valid shape (not allocated here).
        #expect((try? Shape([Int.max / 4]))?.count == Int.max / 4)
    }

    /// The check does not depend on where a zero axis stands.
    @Test func zeroAxisDoesNotHideOverflow() {
        for dims in [[0, Int.max, Int.max], [Int.max, Int.max, 0], [Int.max, 0, Int.max]] {
            let error = #expect(throws: ShapeError.self) { try Shape(dims) }
            #expect(error?.reason == .overflow, "\(dims)")
        }
        #expect((try? Shape([0, 1 << 40]))?.count == 0)
        #expect((try? Shape([1 << 40, 0]))?.count == 0)
    }

    /// The probe: a 10 MB input whose padded output has 2^62 + 16,507,242 elements (fits `Int`,
    /// its bytes do not). It used to pass validation and segfault inside OpenBLAS.
    @Test(arguments: [Conv2DAlgorithm.automatic, .im2col, .naive])
    func convolutionWhoseOutputBytesOverflowThrows(_ algorithm: Conv2DAlgorithm) throws {
        let conv = try Conv2D(filter: Tensor(shape: [833, 1, 1, 2], repeating: 0.1), bias: Tensor(shape: [833]),
                              padding: (0, 1_073_718_743), algorithm: algorithm)
        let input = Tensor(shape: [2_578_067, 1, 1, 1], repeating: 1)
        let error = #expect(throws: ShapeError.self) { try conv(input, context: ComputeContext(threads: 2)) }
        #expect(error?.reason == .overflow)
        #expect(error?.message.contains("output element count") == true)
    }

    /// An output whose bytes fit `Int` but not this machine's memory is a typed error, not a
    /// failed allocation that ends the process.
    @Test func convolutionLargerThanMemoryThrows() throws {
        // 4M channels over a 46,001² padded plane: 8.9e15 floats, GEMM sizes within Int32.
        let conv = try Conv2D(filter: Tensor(shape: [1 << 22, 1, 1, 1], repeating: 1), bias: Tensor(shape: [1 << 22]),
                              padding: (23_000, 23_000))
        let error = #expect(throws: ShapeError.self) { try conv(Tensor(shape: [1, 1, 1, 1], repeating: 1)) }
        #expect(error?.reason == .overflow)
        #expect(error?.message.contains("bytes of memory") == true)
    }

    @Test func denseAndPoolingByteSizes() {
        let dense = #expect(throws: ShapeError.self) { try DenseGeometry(batch: 1 << 31, inputFeatures: 1 << 30, outputFeatures: 1) }
        #expect(dense?.reason == .overflow)
        let pool = #expect(throws: ShapeError.self) {
            try Pool2DGeometry(batch: 1 << 40, channels: 1 << 20, inputSize: 2, window: 2, stride: 1)
        }
        #expect(pool?.reason == .overflow)
    }

    /// Padding wider than every window (and strides past the padded input) leave some taps no
    /// valid output; im2col's packing used to fill a band it did not own there. Every algorithm
    /// against naive, all three directions.
    @Test(arguments: [(pad: 7, stride: 4, dilation: 1), (pad: 524_288, stride: 4, dilation: 524_290),
                      (pad: 5, stride: Int.max / 2, dilation: 3), (pad: 3, stride: 1, dilation: 1)])
    func paddingBeyondEveryWindow(_ c: (pad: Int, stride: Int, dilation: Int)) throws {
        var generator = SplitMix64(seed: 19)
        let filter = Tensor(shape: [3, 2, 3, 3], uniformIn: -1...1, using: &generator)
        let bias = Tensor(shape: [3], uniformIn: -1...1, using: &generator)
        let x = Tensor(shape: [2, 2, 5, 4], uniformIn: -1...1, using: &generator)
        func layer(_ a: Conv2DAlgorithm) throws -> Conv2D {
            try Conv2D(filter: filter, bias: bias, stride: (c.stride, 1), padding: (c.pad, 1), dilation: (c.dilation, 1), algorithm: a)
        }
        let (y0, cache0) = try layer(.naive).forward(x, context: .serial)
        let dy = Tensor(shape: y0.shape, uniformIn: -1...1, using: &generator)
        let (dx0, dw0) = try layer(.naive).backward(dy, cache: cache0, context: .serial)
        for a in Conv2DAlgorithm.allCases where a != .naive {
            let context = ComputeContext(threads: 2, minimumElementsPerThread: 1)
            let (y, cache) = try layer(a).forward(x, context: context)
            let (dx, dw) = try layer(a).backward(dy, cache: cache, context: context)
            for (name, got, want) in [("forward", y, y0), ("backwardData", dx, dx0), ("filter", dw[0], dw0[0]), ("bias", dw[1], dw0[1])] {
                let mismatch = firstMismatch(got.scalars, want.scalars) { _ in 1e-4 }
                #expect(mismatch == nil, "\(a) \(name) \(c): \(mismatch.map(String.init(describing:)) ?? "")")
            }
        }
    }

    // MARK: Validators in checked arithmetic

    @Test func dilatedExtentOverflowThrows() {
        let error = #expect(throws: ShapeError.self) {
            try Conv2DGeometry(batch: 1, inputChannels: 1, inputHeight: 8, inputWidth: 8, outputChannels: 1,
                               kernelHeight: 2, kernelWidth: 1, dilationHeight: Int.max)
        }
        #expect(error?.reason == .overflow)
        #expect(error?.message.contains("dilated kernelHeight") == true)
    }

    @Test func layerDilationOverflowThrows() {
        let error = #expect(throws: ShapeError.self) {
            try Conv2D(filter: Tensor(shape: [1, 1, 3, 3]), bias: Tensor(shape: [1]), dilation: (1 << 62, 1))
        }
        #expect(error?.reason == .overflow)
        let zero = #expect(throws: ShapeError.self) {
            try Conv2D(filter: Tensor(shape: [1, 1, 3, 3]), bias: Tensor(shape: [1]), dilation: (0, 1))
        }
        #expect(zero?.reason == .nonPositive)
        let groups = #expect(throws: ShapeError.self) {
            try Conv2D(filter: Tensor(shape: Shape([2, 1 << 58, 0, 1])), bias: Tensor(shape: [2]), groups: 2)
        }
        #expect(groups != nil)
    }

    // MARK: Public parameters validated before any kernel sees them

    @Test func convolutionParametersAreCheckedAtForwardAndBackward() throws {
        var generator = SplitMix64(seed: 17)
        let original = try Conv2D(inputChannels: 3, outputChannels: 4, kernelSize: 3, using: &generator)
        let x = Tensor(shape: [2, 3, 6, 6], uniformIn: -1...1, using: &generator)

        var shortBias = original
        shortBias.bias = Tensor(shape: [2])
        let e1 = #expect(throws: ShapeError.self) { try shortBias(x) }
        #expect(e1?.reason == .mismatch)
        #expect(e1?.message == "Conv2D bias has shape [2], expected [4]")

        var flatFilter = original
        flatFilter.filter = Tensor(shape: [4, 27])
        #expect(flatFilter.kernelHeight == 3 && flatFilter.inputChannels == 3)     // no trap
        let e2 = #expect(throws: ShapeError.self) { try flatFilter(x) }
        #expect(e2?.message == "Conv2D filter has shape [4, 27], expected [4, 3, 3, 3]")

        // Changed between forward and backward.
        var changed = original
        let (y, cache) = try changed.forward(x, context: .serial)
        changed.filter = Tensor(shape: [4, 3, 2, 2])
        let e3 = #expect(throws: ShapeError.self) { try changed.backward(y, cache: cache, context: .serial) }
        #expect(e3?.reason == .mismatch)

        // A cache from a layer of another shape.
        let other = try Conv2D(inputChannels: 3, outputChannels: 5, kernelSize: 3, using: &generator)
        let (_, otherCache) = try other.forward(x, context: .serial)
        #expect(throws: ShapeError.self) { try original.backward(y, cache: otherCache, context: .serial) }
    }

    @Test func denseParametersAreCheckedAtForwardAndBackward() throws {
        var generator = SplitMix64(seed: 18)
        var dense = try Dense(inputFeatures: 4, outputFeatures: 3, using: &generator)
        let x = Tensor(shape: [2, 4], uniformIn: -1...1, using: &generator)
        let (y, cache) = try dense.forward(x, context: .serial)
        dense.weight = Tensor(shape: [6, 4])
        let e1 = #expect(throws: ShapeError.self) { try dense(x) }
        #expect(e1?.message == "Dense weight has shape [6, 4], expected [3, 4]")
        let e2 = #expect(throws: ShapeError.self) { try dense.backward(y, cache: cache, context: .serial) }
        #expect(e2?.reason == .mismatch)
        dense.weight = Tensor(shape: [3, 4])
        dense.bias = Tensor(shape: [6])
        let e3 = #expect(throws: ShapeError.self) { try dense(x) }
        #expect(e3?.message == "Dense bias has shape [6], expected [3]")
    }

    // MARK: Kernel preconditions keep their message in release builds

    /// A raw-buffer kernel given a short workspace traps, and the message (kept by `fatalError`
    /// at `-O`, where `precondition` prints only "precondition failure") says what was needed.
    @Test func shortWorkspaceTrapSaysNeededAndGiven() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let g = try Conv2DGeometry(batch: 1, inputChannels: 8, inputSize: 12, outputChannels: 8, kernelSize: 3)
            let x = [Float](repeating: 1, count: g.inputCount), w = [Float](repeating: 1, count: g.filterCount)
            var y = [Float](repeating: 0, count: g.outputCount), ws = [Float](repeating: 0, count: 3)
            x.withUnsafeBufferPointer { x in w.withUnsafeBufferPointer { w in
            y.withUnsafeMutableBufferPointer { y in ws.withUnsafeMutableBufferPointer { ws in
                Conv2DKernel.forward(g, algorithm: .im2col, input: x, filter: w, bias: nil, output: y,
                                     workspace: ws, context: .serial)
            }}}}
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("ConvKit precondition failed: workspace holds 3 floats"), "\(stderr)")
        #expect(stderr.contains("workspaceCount gives"), "\(stderr)")
    }
}
