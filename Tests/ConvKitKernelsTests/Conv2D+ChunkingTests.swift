import Testing
import _ConvKitTestSupport

/// The im2col lowering under workspace budgets that force every chunking mode: several images
/// per GEMM (with a smaller last chunk), one image per GEMM, and bands of output rows of one image
/// (with a smaller last band). Each is compared with the naive loops, like the shape table.
@Suite("Conv2D im2col chunking")
struct Conv2DChunkingTests {
    struct Case: Sendable, CustomStringConvertible {
        let name: String
        let geometry: Conv2DGeometry
        let workspace: Int
        let expectImages: Int
        let expectRows: Int
        var description: String { "\(name): \(Conv2DLoweringPlan(geometry, workspaceFloats: workspace))" }
    }

    static let cases: [Case] = {
        guard let g = try? Conv2DGeometry(batch: 5, inputChannels: 3, inputHeight: 9, inputWidth: 7, outputChannels: 4,
                                          kernelHeight: 3, kernelWidth: 2, strideHeight: 2, strideWidth: 1,
                                          paddingHeight: 1, paddingWidth: 1),
              let grouped = try? Conv2DGeometry(batch: 3, inputChannels: 4, inputHeight: 8, inputWidth: 8, outputChannels: 6,
                                                kernelHeight: 3, kernelWidth: 3, paddingHeight: 1, paddingWidth: 1, groups: 2)
        else { return [] }
        let K = g.columnRows, P = g.outputPlane, Og = g.outputChannelsPerGroup, OW = g.outputWidth
        let Kg = grouped.columnRows, Pg = grouped.outputPlane, Ogg = grouped.outputChannelsPerGroup
        return [
            Case(name: "all five images", geometry: g, workspace: 5 * (K + Og) * P, expectImages: 5, expectRows: g.outputHeight),
            Case(name: "three images, then two", geometry: g, workspace: 3 * (K + Og) * P, expectImages: 3, expectRows: g.outputHeight),
            Case(name: "one image", geometry: g, workspace: K * P, expectImages: 1, expectRows: g.outputHeight),
            Case(name: "bands of two rows, last band one", geometry: g, workspace: 2 * K * OW, expectImages: 1, expectRows: 2),
            Case(name: "bands of one row", geometry: g, workspace: K * OW, expectImages: 1, expectRows: 1),
            Case(name: "grouped, two images then one", geometry: grouped, workspace: 2 * (Kg + Ogg) * Pg, expectImages: 2,
                 expectRows: grouped.outputHeight),
            Case(name: "grouped, bands of three rows", geometry: grouped, workspace: 3 * Kg * grouped.outputWidth, expectImages: 1,
                 expectRows: 3),
        ]
    }()

    @Test func casesArePopulated() { #expect(Self.cases.count == 7) }

    @Test(arguments: cases)
    func chunkedMatchesNaive(_ c: Case) {
        let g = c.geometry
        let plan = Conv2DLoweringPlan(g, workspaceFloats: c.workspace)
        #expect(plan.imagesPerChunk == c.expectImages && plan.rowsPerChunk == c.expectRows, "\(c)")
        #expect(plan.workspaceCount <= c.workspace)

        let x = [Float].random(count: g.inputCount, seed: 1)
        let w = [Float].random(count: g.filterCount, seed: 2)
        let b = [Float].random(count: g.outputChannels, seed: 3)
        let dy = [Float].random(count: g.outputCount, seed: 4)
        let context = ComputeContext(threads: 2, minimumElementsPerThread: 1)

        let y0 = Conv2DRunner.forward(g, .naive, input: x, filter: w, bias: b)
        let yMag = Conv2DRunner.forward(g, .naive, input: x.magnitudes, filter: w.magnitudes, bias: b.magnitudes)
        let y = Conv2DRunner.forward(g, .im2col, input: x, filter: w, bias: b, context: context, workspaceCount: c.workspace)
        let e1 = firstMismatch(y, y0) { sumTolerance(terms: g.columnRows + 1, magnitude: yMag[$0]) }
        #expect(e1 == nil, "forward \(c): \(e1.map(String.init(describing:)) ?? "")")

        let dx0 = Conv2DRunner.backwardData(g, .naive, outputGradient: dy, filter: w)
        let dxMag = Conv2DRunner.backwardData(g, .naive, outputGradient: dy.magnitudes, filter: w.magnitudes)
        let dx = Conv2DRunner.backwardData(g, .im2col, outputGradient: dy, filter: w, context: context, workspaceCount: c.workspace)
        let e2 = firstMismatch(dx, dx0) { sumTolerance(terms: g.outputChannelsPerGroup * g.kernelPlane, magnitude: dxMag[$0]) }
        #expect(e2 == nil, "backwardData \(c): \(e2.map(String.init(describing:)) ?? "")")

        let dw0 = Conv2DRunner.backwardFilter(g, .naive, input: x, outputGradient: dy)
        let dwMag = Conv2DRunner.backwardFilter(g, .naive, input: x.magnitudes, outputGradient: dy.magnitudes)
        let dw = Conv2DRunner.backwardFilter(g, .im2col, input: x, outputGradient: dy, context: context, workspaceCount: c.workspace)
        let e3 = firstMismatch(dw.filter, dw0.filter) { sumTolerance(terms: g.batch * g.outputPlane, magnitude: dwMag.filter[$0]) }
        #expect(e3 == nil, "backwardFilter \(c): \(e3.map(String.init(describing:)) ?? "")")
    }

    /// The GEMM list the benchmark uses adds up to the convolution's FLOPs.
    @Test(arguments: cases)
    func gemmCallsCoverTheFlops(_ c: Case) {
        for direction in Conv2DDirection.allCases {
            let calls = Conv2DKernel.gemmCalls(c.geometry, algorithm: .im2col, direction: direction, workspaceCount: c.workspace)
            let flops = calls.reduce(0) { $0 + $1.flops }
            #expect(flops == c.geometry.flops, "\(c) \(direction): \(calls)")
        }
    }

    /// The default plan never asks for more than 32 MiB when one output row fits in it.
    @Test func defaultCapHolds() throws {
        // VGG conv1_2: 64 channels at 224x224, 3x3: 115 MB of columns per image.
        let g = try Conv2DGeometry(batch: 32, inputChannels: 64, inputSize: 224, outputChannels: 64, kernelSize: 3, padding: 1)
        let floats = Conv2DKernel.workspaceCount(g, algorithm: .im2col, direction: .forward)
        #expect(floats * 4 <= Conv2DLoweringPlan.defaultWorkspaceCapBytes)
        #expect(Conv2DLoweringPlan(g).rowsPerChunk < g.outputHeight)
    }

    /// Bias and ReLU fused into the output pass equal ReLU applied to the naive result.
    @Test(arguments: [0, 2])
    func fusedReLU(_ chunkIndex: Int) {
        let c = Self.cases[chunkIndex]
        let g = c.geometry
        let x = [Float].random(count: g.inputCount, seed: 5)
        let w = [Float].random(count: g.filterCount, seed: 6)
        let b = [Float].random(count: g.outputChannels, seed: 7)
        let reference = Conv2DRunner.forward(g, .naive, input: x, filter: w, bias: b, activation: .relu)
        let unfused = Conv2DRunner.forward(g, .naive, input: x, filter: w, bias: b)
        #expect(reference == unfused.map { $0 < 0 ? 0 : $0 })
        let magnitude = Conv2DRunner.forward(g, .naive, input: x.magnitudes, filter: w.magnitudes, bias: b.magnitudes)
        let fused = Conv2DRunner.forward(g, .im2col, input: x, filter: w, bias: b, activation: .relu, workspaceCount: c.workspace)
        let e = firstMismatch(fused, reference) { sumTolerance(terms: g.columnRows + 1, magnitude: magnitude[$0]) }
        #expect(e == nil, "\(c): \(e.map(String.init(describing:)) ?? "")")
    }
}

/// Winograd (F(2×2) and F(4×4)) with the workspace of a one-image call: at most one image's tiles
/// in flight, so three images take at least three blocks (more when the one-image plan splits an
/// image between workers).
@Suite("Conv2D Winograd chunking")
struct Conv2DWinogradChunkingTests {
    @Test(arguments: [Conv2DAlgorithm.winograd, .winograd4x4], [0, 1, 2])
    func oneImagePerChunk(_ algorithm: Conv2DAlgorithm, _ padding: Int) throws {
        let g = try Conv2DGeometry(batch: 3, inputChannels: 4, inputHeight: 7, inputWidth: 6, outputChannels: 5,
                                   kernelHeight: 3, kernelWidth: 3, paddingHeight: padding, paddingWidth: padding)
        #expect(algorithm.supports(g))
        let positions = algorithm == .winograd4x4 ? 36 : 16
        let factor = winogradFactor(algorithm)
        let x = [Float].random(count: g.inputCount, seed: 41)
        let w = [Float].random(count: g.filterCount, seed: 42)
        let b = [Float].random(count: g.outputChannels, seed: 43)
        let dy = [Float].random(count: g.outputCount, seed: 44)
        // Small budget: the filters, a zero row and at most one image's tiles over all workers.
        let budget = { (direction: Conv2DDirection) -> Int in
            Conv2DKernel.workspaceCount(g.withBatchOne, algorithm: algorithm, direction: direction)
        }
        for direction in Conv2DDirection.allCases {
            let calls = Conv2DKernel.gemmCalls(g, algorithm: algorithm, direction: direction, workspaceCount: budget(direction))
            let count = calls.reduce(0) { $0 + $1.count }
            // 16 (36) GEMMs x (3 or more) blocks.
            #expect(count >= 3 * positions && count % positions == 0, "\(algorithm) \(direction): \(calls)")
        }
        let y0 = Conv2DRunner.forward(g, .naive, input: x, filter: w, bias: b)
        let yMag = Conv2DRunner.forward(g, .naive, input: x.magnitudes, filter: w.magnitudes, bias: b.magnitudes)
        let y = Conv2DRunner.forward(g, algorithm, input: x, filter: w, bias: b, workspaceCount: budget(.forward))
        #expect(firstMismatch(y, y0) { factor * sumTolerance(terms: g.columnRows + 1, magnitude: yMag[$0]) } == nil)

        let dx0 = Conv2DRunner.backwardData(g, .naive, outputGradient: dy, filter: w)
        let dxMag = Conv2DRunner.backwardData(g, .naive, outputGradient: dy.magnitudes, filter: w.magnitudes)
        let dx = Conv2DRunner.backwardData(g, algorithm, outputGradient: dy, filter: w, workspaceCount: budget(.backwardData))
        #expect(firstMismatch(dx, dx0) { factor * sumTolerance(terms: g.outputChannels * 9, magnitude: dxMag[$0]) } == nil)

        let dw0 = Conv2DRunner.backwardFilter(g, .naive, input: x, outputGradient: dy)
        let dwMag = Conv2DRunner.backwardFilter(g, .naive, input: x.magnitudes, outputGradient: dy.magnitudes)
        let dw = Conv2DRunner.backwardFilter(g, algorithm, input: x, outputGradient: dy, workspaceCount: budget(.backwardFilter))
        #expect(firstMismatch(dw.filter, dw0.filter) { factor * sumTolerance(terms: g.batch * g.outputPlane, magnitude: dwMag.filter[$0]) } == nil)
        #expect(firstMismatch(dw.bias, dw0.bias) { sumTolerance(terms: g.batch * g.outputPlane, magnitude: dwMag.bias[$0]) } == nil)
    }
}

extension Conv2DGeometry {
    /// The same geometry with batch 1 (for workspace budgets of one image).
    var withBatchOne: Conv2DGeometry { (try? withBatch(1)) ?? self }
}

/// Winograd blocks that start and end inside images (a workspace sized for 3 of the 4 tile rows of
/// an image), rows wider than one 16-tile vector with a tail, odd sizes, fused bias + ReLU, at every
/// vector level this CPU supports, serial and with 2 workers; F(2×2) and F(4×4).
@Suite("Conv2D Winograd blocks")
struct Conv2DWinogradBlockTests {
    static let levels = SIMDLevel.allCases.filter { $0 <= .detected }

    @Test(arguments: [Conv2DAlgorithm.winograd, .winograd4x4], [0, 1, 2])
    func blocksSpanImages(_ algorithm: Conv2DAlgorithm, _ padding: Int) throws {
        // F(2×2): output 7 − 2 + 2P rows, TH = 3, 4, 4 (P = 0, 1, 2); 37 − 2 + 2P columns, TW = 18, 19, 20.
        // F(4×4): output 13 − 2 + 2P rows, TH = 3, 4, 4; 71 − 2 + 2P columns, TW = 18, 18, 19.
        let wide = algorithm == .winograd4x4
        let height = wide ? 13 : 7, width = wide ? 71 : 37
        let positions = wide ? 36 : 16
        let factor = winogradFactor(algorithm)
        let g = try Conv2DGeometry(batch: 3, inputChannels: 5, inputHeight: height, inputWidth: width, outputChannels: 6,
                                   kernelHeight: 3, kernelWidth: 3, paddingHeight: padding, paddingWidth: padding)
        let small = try Conv2DGeometry(batch: 1, inputChannels: 5, inputHeight: height - (wide ? 4 : 2), inputWidth: width,
                                       outputChannels: 6, kernelHeight: 3, kernelWidth: 3, paddingHeight: padding,
                                       paddingWidth: padding)
        try Self.checkBlocks(g, small: small, algorithm: algorithm, positions: positions, factor: factor)
    }

    /// F(4×4) rows of at most 8 tiles: the AVX-512 transforms pack 2 or 4 tile rows into a vector
    /// (groups of 8 or 4 lanes) and compact or expand them; blocks start inside images, so groups
    /// also end early (TH = 6, blocks of at most 4 tile rows). Padding 1, so output width = input
    /// width: TW = 3, 4, 5, 7, 8.
    @Test(arguments: [11, 15, 19, 27, 32])
    func narrowRowsF4x4(_ width: Int) throws {
        let g = try Conv2DGeometry(batch: 3, inputChannels: 5, inputHeight: 21, inputWidth: width, outputChannels: 6,
                                   kernelHeight: 3, kernelWidth: 3, paddingHeight: 1, paddingWidth: 1)
        let small = try Conv2DGeometry(batch: 1, inputChannels: 5, inputHeight: 14, inputWidth: width, outputChannels: 6,
                                       kernelHeight: 3, kernelWidth: 3, paddingHeight: 1, paddingWidth: 1)
        try Self.checkBlocks(g, small: small, algorithm: .winograd4x4, positions: 36,
                             factor: winogradFactor(.winograd4x4))
    }

    /// `g` with a workspace sized for `small` (more blocks than images), against naive in every
    /// direction (forward with bias and ReLU), at every level, serial and with 2 workers.
    static func checkBlocks(_ g: Conv2DGeometry, small: Conv2DGeometry, algorithm: Conv2DAlgorithm, positions: Int,
                            factor: Float) throws {
        let budget = { (direction: Conv2DDirection) -> Int in
            Conv2DKernel.workspaceCount(small, algorithm: algorithm, direction: direction)
        }
        for direction in Conv2DDirection.allCases {
            let calls = Conv2DKernel.gemmCalls(g, algorithm: algorithm, direction: direction, workspaceCount: budget(direction))
            #expect(calls.reduce(0) { $0 + $1.count } > positions * g.batch, "\(algorithm) \(direction): \(calls)")
        }
        let x = [Float].random(count: g.inputCount, seed: 51)
        let w = [Float].random(count: g.filterCount, seed: 52)
        let b = [Float].random(count: g.outputChannels, seed: 53)
        let dy = [Float].random(count: g.outputCount, seed: 54)
        let y0 = Conv2DRunner.forward(g, .naive, input: x, filter: w, bias: b, activation: .relu)
        let yMag = Conv2DRunner.forward(g, .naive, input: x.magnitudes, filter: w.magnitudes, bias: b.magnitudes)
        let dx0 = Conv2DRunner.backwardData(g, .naive, outputGradient: dy, filter: w)
        let dxMag = Conv2DRunner.backwardData(g, .naive, outputGradient: dy.magnitudes, filter: w.magnitudes)
        let dw0 = Conv2DRunner.backwardFilter(g, .naive, input: x, outputGradient: dy)
        let dwMag = Conv2DRunner.backwardFilter(g, .naive, input: x.magnitudes, outputGradient: dy.magnitudes)
        for level in Self.levels {
            for context in [ComputeContext.serial, ComputeContext(threads: 2, minimumElementsPerThread: 1)] {
                let c = context.with(simdLevel: level)
                let y = Conv2DRunner.forward(g, algorithm, input: x, filter: w, bias: b, activation: .relu, context: c,
                                             workspaceCount: budget(.forward))
                #expect(firstMismatch(y, y0) { factor * sumTolerance(terms: g.columnRows + 1, magnitude: yMag[$0]) } == nil,
                        "\(algorithm) \(c)")
                let dx = Conv2DRunner.backwardData(g, algorithm, outputGradient: dy, filter: w, context: c,
                                                   workspaceCount: budget(.backwardData))
                #expect(firstMismatch(dx, dx0) { factor * sumTolerance(terms: g.outputChannels * 9, magnitude: dxMag[$0]) } == nil,
                        "\(algorithm) \(c)")
                let dw = Conv2DRunner.backwardFilter(g, algorithm, input: x, outputGradient: dy, context: c,
                                                     workspaceCount: budget(.backwardFilter))
                let terms = g.batch * g.outputPlane
                #expect(firstMismatch(dw.filter, dw0.filter) { factor * sumTolerance(terms: terms, magnitude: dwMag.filter[$0]) } == nil, "\(c)")
                #expect(firstMismatch(dw.bias, dw0.bias) { sumTolerance(terms: terms, magnitude: dwMag.bias[$0]) } == nil, "\(c)")
            }
        }
    }

    /// `accumulate: true` adds the filter gradient to what is there, through every level's
    /// filter-gradient transform (C kernels and Swift), serial and with 2 workers (two `dU` summed).
    @Test(arguments: [Conv2DAlgorithm.winograd, .winograd4x4])
    func filterGradientAccumulates(_ algorithm: Conv2DAlgorithm) throws {
        let g = try Conv2DGeometry(batch: 2, inputChannels: 3, inputSize: 11, outputChannels: 7, kernelSize: 3, padding: 1)
        let x = [Float].random(count: g.inputCount, seed: 71)
        let dy = [Float].random(count: g.outputCount, seed: 72)
        let initialW = [Float].random(count: g.filterCount, seed: 73)
        let initialB = [Float].random(count: g.outputChannels, seed: 74)
        for level in Self.levels {
            for context in [ComputeContext.serial, ComputeContext(threads: 2, minimumElementsPerThread: 1)] {
                let c = context.with(simdLevel: level)
                let fresh = Conv2DRunner.backwardFilter(g, algorithm, input: x, outputGradient: dy, context: c)
                let summed = Conv2DRunner.backwardFilter(g, algorithm, input: x, outputGradient: dy,
                                                         initial: (initialW, initialB), context: c)
                for i in 0..<g.filterCount {
                    #expect(abs(summed.filter[i] - (initialW[i] + fresh.filter[i])) <= 1e-5 * (1 + abs(fresh.filter[i])),
                            "\(algorithm) \(c) \(i)")
                }
            }
        }
    }

    /// The default workspace stays under the 32 MiB cap in every direction, whatever the batch
    /// (blocks of tile rows, not images), including backwardData's flipped filter (9·O·C floats).
    @Test(arguments: [Conv2DAlgorithm.winograd, .winograd4x4])
    func defaultCapHolds(_ algorithm: Conv2DAlgorithm) throws {
        let layers = [try Conv2DGeometry(batch: 32, inputChannels: 64, inputSize: 224, outputChannels: 64, kernelSize: 3, padding: 1),
                      try Conv2DGeometry(batch: 8, inputChannels: 256, inputSize: 13, outputChannels: 384, kernelSize: 3, padding: 1)]
        for g in layers {
            for direction in Conv2DDirection.allCases {
                let floats = Conv2DKernel.workspaceCount(g, algorithm: algorithm, direction: direction)
                #expect(floats * 4 <= Conv2DLoweringPlan.defaultWorkspaceCapBytes, "\(g) \(direction): \(floats * 4) bytes")
            }
        }
    }

    /// NaN and infinity in the input reach the outputs they touch through the AVX-512 transforms
    /// and the fused ReLU (which must not turn NaN into 0).
    @Test(arguments: [Conv2DAlgorithm.winograd, .winograd4x4])
    func nanPropagates(_ algorithm: Conv2DAlgorithm) throws {
        let g = try Conv2DGeometry(batch: 1, inputChannels: 2, inputHeight: 6, inputWidth: 40, outputChannels: 3,
                                   kernelHeight: 3, kernelWidth: 3, paddingHeight: 1, paddingWidth: 1)
        var x = [Float].random(count: g.inputCount, seed: 61)
        x[2 * 40 + 20] = .nan     // channel 0, row 2, column 20
        let w = [Float].random(count: g.filterCount, seed: 62)
        for level in Self.levels {
            let y = Conv2DRunner.forward(g, algorithm, input: x, filter: w, bias: nil, activation: .relu,
                                         context: ComputeContext.serial.with(simdLevel: level))
            for o in 0..<3 {
                #expect(y[o * 240 + 2 * 40 + 20].isNaN, "\(level) o=\(o)")   // output row 2, column 20
                #expect(!y[o * 240 + 5 * 40 + 0].isNaN, "\(level) o=\(o)")   // far away: finite
            }
        }
    }
}
