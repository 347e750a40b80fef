import Testing
import ConvKitKernels

/// The thread-count rule of `Conv2DAlgorithm.automatic` (docs/Architecture.md, algorithm map).
struct Conv2DAutomaticThreadRuleTests {
    /// A small strided layer: its backwardData has no direct form (stride 2), so `automatic` lowers
    /// it, on any CPU.
    static let tiny = try! Conv2DGeometry(batch: 8, inputChannels: 8, inputSize: 27, outputChannels: 12,
                                          kernelSize: 5, stride: 2, padding: 1)
    static let strided = try! Conv2DGeometry(batch: 8, inputChannels: 128, inputSize: 28, outputChannels: 256,
                                             kernelSize: 3, stride: 2, padding: 1)

    /// One GEMM per chunk at 1 thread, per-image workers at 2.
    @Test func smallLayersGoImageParallelWithThreads() {
        let g = Self.tiny
        #expect(Conv2DAlgorithm.automatic.effective(for: g, direction: .backwardData, context: .serial) == .im2col)
        #expect(Conv2DAlgorithm.automatic.effective(for: g, direction: .backwardData,
                                                    context: ComputeContext(threads: 2)) == .im2colImageParallel)
        // Explicit algorithms are never rewritten.
        #expect(Conv2DAlgorithm.im2col.effective(for: g, direction: .backwardData,
                                                 context: ComputeContext(threads: 2)) == .im2col)
    }

    /// strided_3x3 (8 images): forward and backwardFilter run direct on AVX-512 CPUs; backwardData
    /// (no strided transposed form) and every direction below AVX-512 lower the images: one
    /// GEMM per chunk at 1 thread, one image per worker at 2 and 4 threads (8 splits evenly).
    @Test func largerLayersLowerPerImageWithThreads() {
        for threads in [1, 2, 4] {
            let context = ComputeContext(threads: threads)
            let lowered: Conv2DAlgorithm = threads == 1 ? .im2col : .im2colImageParallel
            #expect(Conv2DAlgorithm.automatic.effective(for: Self.strided, direction: .backwardData, context: context) == lowered)
            for direction in [Conv2DDirection.forward, .backwardFilter] {
                let picked = Conv2DAlgorithm.automatic.effective(for: Self.strided, direction: direction, context: context)
                #expect(picked == (SIMDLevel.detected >= .avx512 ? .direct : lowered))
                #expect(Conv2DAlgorithm.automatic.effective(for: Self.strided, direction: direction,
                                                            context: context.with(simdLevel: .avx2)) == lowered)
            }
        }
    }

    /// A batch that does not split evenly over the threads (3 images, 2 threads) or a single image
    /// keeps one GEMM per chunk, split by columns.
    @Test func unevenBatchesKeepOneGEMMPerChunk() throws {
        for batch in [1, 3] {
            let g = try Conv2DGeometry(batch: batch, inputChannels: 128, inputSize: 28, outputChannels: 256,
                                       kernelSize: 3, stride: 2, padding: 1)
            #expect(Conv2DAlgorithm.automatic.effective(for: g, direction: .backwardData,
                                                        context: ComputeContext(threads: 2)) == .im2col)
        }
    }

    /// A first layer (3 input channels) keeps direct for forward and backwardFilter, but its
    /// backwardData (a pass over 3 output channels) is lowered; with 16 channels every direction
    /// runs what the layer picks.
    @Test func fewInputChannelsLowerBackwardData() throws {
        guard SIMDLevel.detected >= .avx512 else { return }
        for channels in [3, 16] {
            let g = try Conv2DGeometry(batch: 1, inputChannels: channels, inputSize: 32, outputChannels: 32,
                                       kernelSize: 3, padding: 1)
            let backward = Conv2DAlgorithm.automatic.effective(for: g, direction: .backwardData, context: .serial)
            #expect(backward == (channels < 16 ? .im2col : Conv2DAlgorithm.automatic.effective(for: g)))
            #expect(Conv2DAlgorithm.automatic.effective(for: g, direction: .forward, context: .serial)
                    == Conv2DAlgorithm.automatic.effective(for: g))
        }
        let vgg = try Conv2DGeometry(batch: 1, inputChannels: 3, inputSize: 32, outputChannels: 64, kernelSize: 3, padding: 1)
        #expect(Conv2DAlgorithm.automatic.effective(for: vgg) == .direct)
        #expect(Conv2DAlgorithm.automatic.effective(for: vgg, direction: .backwardData, context: .serial) == .im2col)
        #expect(Conv2DAlgorithm.automatic.effective(for: vgg, direction: .backwardFilter, context: .serial) == .direct)
    }

    /// A GEMM split by columns needs columns: at 2 threads small planes keep im2col's batched GEMM
    /// rather than one image per worker, and a single image's forward with a small plane runs
    /// direct (its output channels split over the workers); large planes keep the old rules.
    @Test func smallPlanesKeepWideGEMMsAtSeveralThreads() throws {
        let context = ComputeContext(threads: 2)
        let late = try Conv2DGeometry(batch: 8, inputChannels: 512, inputSize: 7, outputChannels: 512, kernelSize: 3, padding: 1)
        for direction in Conv2DDirection.allCases {
            #expect(Conv2DAlgorithm.automatic.effective(for: late, direction: direction, context: context) == .im2col)
        }
        let pointwise = try Conv2DGeometry(batch: 8, inputChannels: 512, inputSize: 7, outputChannels: 512, kernelSize: 1)
        #expect(Conv2DAlgorithm.automatic.effective(for: pointwise, direction: .forward, context: context) == .im2colImageParallel)
        let single = try Conv2DGeometry(batch: 1, inputChannels: 512, inputSize: 7, outputChannels: 512, kernelSize: 3, padding: 1)
        let expected: Conv2DAlgorithm = SIMDLevel.detected >= .avx512 ? .direct : .im2col
        #expect(Conv2DAlgorithm.automatic.effective(for: single, direction: .forward, context: context) == expected)
        #expect(Conv2DAlgorithm.automatic.effective(for: single, direction: .forward, context: .serial) == .im2col)
        #expect(Conv2DAlgorithm.automatic.effective(for: single, direction: .backwardFilter, context: context) == .im2col)
        // The workspace automatic asks for covers the direct call, and a smaller one falls back.
        let count = Conv2DKernel.workspaceCount(single, algorithm: .automatic, direction: .forward)
        var rng = SplitMix64(seed: 91)
        let x = (0..<single.inputCount).map { _ in Float.random(in: -1...1, using: &rng) }
        let w = (0..<single.filterCount).map { _ in Float.random(in: -1...1, using: &rng) }
        var reference = [Float](repeating: .nan, count: single.outputCount)
        x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in reference.withUnsafeMutableBufferPointer { yp in
            Conv2DKernel.forward(single, algorithm: .naive, input: xp, filter: wp, bias: nil, output: yp,
                                 workspace: UnsafeMutableBufferPointer(start: nil, count: 0), context: .serial) } } }
        for floats in [count, Conv2DKernel.workspaceCount(single, algorithm: .im2col, direction: .forward)] {
            var ws = [Float](repeating: .nan, count: floats)
            var y = [Float](repeating: .nan, count: single.outputCount)
            x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in y.withUnsafeMutableBufferPointer { yp in
                ws.withUnsafeMutableBufferPointer { wsp in
                    Conv2DKernel.forward(single, algorithm: .automatic, input: xp, filter: wp, bias: nil, output: yp,
                                         workspace: wsp, context: context) } } } }
            let worst = zip(y, reference).map { abs($0 - $1) }.max() ?? .nan
            #expect(worst < 1e-3, "workspace \(floats): worst difference \(worst)")
        }
    }

    /// Late-stage 3×3 layers (ResNet's 256 and 512 channels at 14×14 and 7×7): Winograd needs 512
    /// output positions in the call (its filter transform is paid once per call), direct's backward
    /// directions 256; below, the call lowers (one GEMM on the whole filter).
    @Test func lateStageRulesCountOutputPositions() throws {
        func layer(_ n: Int, _ c: Int, _ size: Int) throws -> Conv2DGeometry {
            try Conv2DGeometry(batch: n, inputChannels: c, inputSize: size, outputChannels: c, kernelSize: 3, padding: 1)
        }
        let avx512 = SIMDLevel.detected >= .avx512
        let direct: Conv2DAlgorithm = avx512 ? .direct : .im2col
        for direction in Conv2DDirection.allCases {
            func picked(_ g: Conv2DGeometry) -> Conv2DAlgorithm {
                Conv2DAlgorithm.automatic.effective(for: g, direction: direction, context: .serial)
            }
            // Batch 8 at 14×14 (1568 positions): Winograd; one image (196): no Winograd.
            #expect(picked(try layer(8, 256, 14)) == (SIMDLevel.detected >= .avx2 ? .winograd4x4 : .winograd))
            #expect(picked(try layer(8, 512, 14)).isWinograd)
            #expect(picked(try layer(1, 512, 14)) == .im2col)
            #expect(picked(try layer(1, 256, 14)) == (direction == .forward ? direct : .im2col))
            // 7×7 (no Winograd at any batch): direct where C·9 <= 2400, its backward at 392 positions
            // but not at 49; 512 channels lower.
            #expect(picked(try layer(8, 256, 7)) == direct)
            #expect(picked(try layer(1, 256, 7)) == (direction == .forward ? direct : .im2col))
            #expect(picked(try layer(8, 512, 7)) == .im2col)
            #expect(picked(try layer(1, 512, 7)) == .im2col)
            // 512 channels at 14×14: F(2×2) (F(4×4)'s 36·512·512 transformed filters exceed the cap);
            // 4 images of 14×14 (784 positions, 64 tiles of 4×4): F(2×2); 7×7 planes never (under 8×8).
            #expect(picked(try layer(8, 512, 14)) == .winograd)
            #expect(picked(try layer(4, 256, 14)) == .winograd)
            #expect(!picked(try layer(16, 256, 7)).isWinograd)
            // ResNet's 56×56 stage at batch 1 (3136 positions) keeps Winograd.
            #expect(picked(try layer(1, 64, 56)).isWinograd)
        }
    }

    /// 1×1 kernels are never direct (at stride 2 too: 1.91 ms im2col against 2.81 direct measured
    /// for 8×256×28×28 → 512); a reduction above 2400 is not either.
    @Test func directRuleByKernelAndReduction() throws {
        let pointwiseStrided = try Conv2DGeometry(batch: 8, inputChannels: 256, inputSize: 28, outputChannels: 512,
                                                  kernelSize: 1, stride: 2)
        let longReduction = try Conv2DGeometry(batch: 8, inputChannels: 384, inputSize: 13, outputChannels: 256,
                                               kernelSize: 5, stride: 2, padding: 2)
        for direction in Conv2DDirection.allCases {
            #expect(Conv2DAlgorithm.automatic.effective(for: pointwiseStrided, direction: direction, context: .serial) == .im2col)
            #expect(Conv2DAlgorithm.automatic.effective(for: longReduction, direction: direction, context: .serial) == .im2col)
        }
    }

    /// Winograd's tile: F(4×4) for resnet_3x3 and vgg_3x3 (filled 4×4 tiles, 64+ channels), F(2×2)
    /// for alexnet_c3 (13×13 fills 66% of its 4×4 tiles) and for layers with fewer channels; below
    /// AVX2, F(2×2) (which fits in the workspace F(4×4) asked for).
    @Test func winogradTileRule() throws {
        let resnet = try Conv2DGeometry(batch: 8, inputChannels: 64, inputSize: 56, outputChannels: 64, kernelSize: 3, padding: 1)
        let vgg = try Conv2DGeometry(batch: 8, inputChannels: 128, inputSize: 28, outputChannels: 128, kernelSize: 3, padding: 1)
        let alexnet = try Conv2DGeometry(batch: 8, inputChannels: 256, inputSize: 13, outputChannels: 384, kernelSize: 3, padding: 1)
        let narrow = try Conv2DGeometry(batch: 8, inputChannels: 32, inputSize: 28, outputChannels: 64, kernelSize: 3, padding: 1)
        let large: Conv2DAlgorithm = SIMDLevel.detected >= .avx2 ? .winograd4x4 : .winograd
        for direction in Conv2DDirection.allCases {
            #expect(Conv2DAlgorithm.automatic.effective(for: resnet, direction: direction, context: .serial) == large)
            #expect(Conv2DAlgorithm.automatic.effective(for: vgg, direction: direction, context: .serial) == large)
            #expect(Conv2DAlgorithm.automatic.effective(for: alexnet, direction: direction, context: .serial) == .winograd)
            #expect(Conv2DAlgorithm.automatic.effective(for: narrow, direction: direction, context: .serial) == .winograd)
            #expect(Conv2DAlgorithm.automatic.effective(for: resnet, direction: direction,
                                                        context: ComputeContext.serial.with(simdLevel: .portable)) == .winograd)
            #expect(Conv2DKernel.workspaceCount(resnet, algorithm: .automatic, direction: direction)
                    >= Conv2DKernel.workspaceCount(resnet, algorithm: .winograd, direction: direction)
                    || SIMDLevel.detected < .avx2)
        }
    }

    /// The workspace `automatic` asks for runs either choice, and the image-parallel choice gives
    /// the im2col result (up to the GEMM tolerance) at 2 threads.
    @Test func workspaceFitsBothChoices() {
        let g = Self.tiny
        let count = Conv2DKernel.workspaceCount(g, algorithm: .automatic, direction: .backwardData)
        #expect(count >= Conv2DKernel.workspaceCount(g, algorithm: .im2col, direction: .backwardData))
        #expect(count >= Conv2DKernel.workspaceCount(g, algorithm: .im2colImageParallel, direction: .backwardData))
        var rng = SplitMix(seed: 7)
        let dy = (0..<g.outputCount).map { _ in rng.nextFloat() }
        let w = (0..<g.filterCount).map { _ in rng.nextFloat() }
        func run(_ algorithm: Conv2DAlgorithm, _ context: ComputeContext) -> [Float] {
            var dx = [Float](repeating: .nan, count: g.inputCount)
            var ws = [Float](repeating: .nan, count: Conv2DKernel.workspaceCount(g, algorithm: algorithm, direction: .backwardData))
            dy.withUnsafeBufferPointer { dyp in w.withUnsafeBufferPointer { wp in dx.withUnsafeMutableBufferPointer { dxp in
                ws.withUnsafeMutableBufferPointer { wsp in
                    Conv2DKernel.backwardData(g, algorithm: algorithm, outputGradient: dyp, filter: wp, inputGradient: dxp,
                                              workspace: wsp, context: context)
                } } } }
            return dx
        }
        let reference = run(.im2col, .serial)
        let automatic = run(.automatic, ComputeContext(threads: 2))
        let worst = zip(reference, automatic).map { abs($0 - $1) }.max() ?? .nan
        // Each element sums at most O·KH·KW = 300 products of values in [-1, 1): rounding stays far below 1e-4.
        #expect(worst < 1e-4, "worst difference \(worst)")
    }
}

/// SplitMix64, local to this file (values in [-1, 1)).
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func nextFloat() -> Float { Float(next() >> 40) / Float(1 << 24) * 2 - 1 }
}
