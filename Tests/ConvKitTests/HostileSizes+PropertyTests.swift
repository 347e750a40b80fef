import ConvKit
import Testing
import _ConvKitTestSupport

/// Property: every public initialiser and entry point that takes sizes ends in a typed error or a
/// correct result, whatever the sizes: huge, negative, zero, near `Int32.max` or `Int.max`, mixed
/// with small ones. Draws come from a seeded generator (reproducible); a failure names its seed
/// and draw.
@Suite("Hostile sizes (property)")
struct HostileSizesPropertyTests {
    /// A size drawn from the values that break arithmetic, mixed with ordinary small ones.
    static func size(_ r: inout SplitMix64) -> Int {
        switch r.next() % 12 {
        case 0: return 0
        case 1: return -Int(r.next() % 3) - 1
        case 2: return Int.max - Int(r.next() % 3)
        case 3: return 1 << Int(r.next() % 63)
        case 4: return (1 << Int(r.next() % 62)) + Int(r.next() % 5) - 2
        case 5: return Int(Int32.max) + Int(r.next() % 5) - 2
        case 6: return Int.max / (2 + Int(r.next() % 8))
        default: return 1 + Int(r.next() % 6)
        }
    }

    /// The product of `dims` as a byte count, or nil when it overflows.
    static func bytes(_ dims: [Int]) -> Int? {
        var b = 4
        for d in dims where d != 0 {
            let (p, o) = b.multipliedReportingOverflow(by: d)
            if o || p < 0 { return nil }
            b = p
        }
        return b
    }

    @Test func shapesAndTensors() {
        var r = SplitMix64(seed: 1)
        for draw in 0..<20_000 {
            let dims = (0..<Int(r.next() % 6)).map { _ in Self.size(&r) }
            do {
                let shape = try Shape(dims)
                #expect(dims.allSatisfy { $0 >= 0 }, "draw \(draw): \(dims)")
                #expect(Self.bytes(dims) != nil, "draw \(draw): \(dims) accepted, bytes overflow")
                #expect(shape.count == (dims.contains(0) ? 0 : dims.reduce(1, *)), "draw \(draw): \(dims)")
                if shape.count <= 1 << 16 {
                    let t = Tensor.zeros(shape)
                    #expect(t.count == shape.count)
                    let flat = try t.reshaped(to: Shape([shape.count]))
                    #expect(flat.count == shape.count)
                    #expect(throws: ShapeError.self) { try t.reshaped(to: Shape([shape.count + 1])) }
                }
            } catch {
                #expect(!error.message.isEmpty)
                let valid = dims.allSatisfy { $0 >= 0 } && Self.bytes(dims) != nil
                #expect(!valid, "draw \(draw): \(dims) refused: \(error)")
            }
        }
    }

    /// Geometries and every workspace and GEMM query on them; a small accepted geometry is
    /// also run (automatic against naive), so "accepted" means "computes the right thing".
    @Test func convolutionGeometriesAndQueries() throws {
        var r = SplitMix64(seed: 2)
        var accepted = 0, ran = 0
        for draw in 0..<20_000 {
            // Half the draws keep channels small so that huge spatial sizes are reached too.
            let small = draw % 2 == 0
            func pick(_ ordinary: Int) -> Int { r.next() % 3 == 0 ? Self.size(&r) : ordinary }
            let n = pick(1 + Int(r.next() % 2)), c = small ? 1 + Int(r.next() % 4) : Self.size(&r)
            let h = pick(1 + Int(r.next() % 9)), w = pick(1 + Int(r.next() % 9))
            let o = small ? 1 + Int(r.next() % 4) : Self.size(&r)
            let kh = pick(1 + Int(r.next() % 3)), kw = pick(1 + Int(r.next() % 3))
            let sh = pick(1 + Int(r.next() % 2)), sw = pick(1 + Int(r.next() % 2))
            let ph = pick(Int(r.next() % 2)), pw = pick(Int(r.next() % 2))
            let dh = pick(1), dw = pick(1), groups = r.next() % 4 == 0 ? c : pick(1)
            let g: Conv2DGeometry
            do {
                g = try Conv2DGeometry(batch: n, inputChannels: c, inputHeight: h, inputWidth: w, outputChannels: o,
                                       kernelHeight: kh, kernelWidth: kw, strideHeight: sh, strideWidth: sw,
                                       paddingHeight: ph, paddingWidth: pw, dilationHeight: dh, dilationWidth: dw,
                                       groups: groups)
            } catch {
                #expect(!error.message.isEmpty)
                continue
            }
            accepted += 1
            let args = "draw \(draw): \(g)"
            #expect(g.outputHeight >= 1 && g.outputWidth >= 1, "\(args)")
            #expect(Self.bytes([g.batch, g.inputChannels, g.inputHeight, g.inputWidth]) != nil, "\(args)")
            #expect(Self.bytes([g.batch, g.outputChannels, g.outputHeight, g.outputWidth]) != nil, "\(args)")
            #expect(Self.bytes([g.outputChannels, g.inputChannelsPerGroup, g.kernelHeight, g.kernelWidth]) != nil, "\(args)")
            #expect(g.inputCount >= 1 && g.outputCount >= 1 && g.filterCount >= 1, "\(args)")
            for algorithm in Conv2DAlgorithm.allCases {
                for direction in Conv2DDirection.allCases {
                    let count = Conv2DKernel.workspaceCount(g, algorithm: algorithm, direction: direction)
                    #expect(count >= 0 && Self.bytes([count]) != nil, "\(args) \(algorithm) \(direction)")
                    for call in Conv2DKernel.gemmCalls(g, algorithm: algorithm, direction: direction) {
                        #expect(BLAS.fits(call.m) && BLAS.fits(call.n) && BLAS.fits(call.k), "\(args) \(algorithm)")
                    }
                }
            }
            // A caller's own workspace budget, hostile too.
            let budget = Self.size(&r)
            for algorithm in Conv2DAlgorithm.allCases {
                let count = Conv2DKernel.workspaceCount(g, algorithm: algorithm, direction: .forward, capBytes: budget)
                #expect(count >= 0 && Self.bytes([count]) != nil, "\(args) \(algorithm) budget \(budget)")
            }
            if g.inputCount + g.outputCount + g.filterCount <= 1 << 12, ran < 150 {
                ran += 1
                try Self.runAgainstNaive(g, &r, args)
            }
        }
        #expect(accepted > 500 && ran >= 100, "accepted \(accepted), ran \(ran): the generator must reach both sides")
    }

    static func runAgainstNaive(_ g: Conv2DGeometry, _ r: inout SplitMix64, _ args: String) throws {
        let filter = Tensor(shape: try Shape([g.outputChannels, g.inputChannelsPerGroup, g.kernelHeight, g.kernelWidth]),
                            uniformIn: -1...1, using: &r)
        let bias = Tensor(shape: try Shape([g.outputChannels]), uniformIn: -1...1, using: &r)
        let input = Tensor(shape: try Shape([g.batch, g.inputChannels, g.inputHeight, g.inputWidth]), uniformIn: -1...1, using: &r)
        func layer(_ a: Conv2DAlgorithm) throws -> Conv2D {
            try Conv2D(filter: filter, bias: bias, stride: (g.strideHeight, g.strideWidth),
                       padding: (g.paddingHeight, g.paddingWidth), dilation: (g.dilationHeight, g.dilationWidth),
                       groups: g.groups, algorithm: a)
        }
        let naive = try layer(.naive)
        let (reference, cache) = try naive.forward(input, context: .serial)
        let outputGradient = Tensor(shape: reference.shape, uniformIn: -1...1, using: &r)
        let (dx, dθ) = try naive.backward(outputGradient, cache: cache, context: .serial)
        // Loose bounds (inputs in [-1, 1)): this checks "the right thing", the reference tests check rounding.
        let terms = max(g.forwardReductionLength, g.outputChannelsPerGroup * g.kernelPlane, g.batch * g.outputPlane)
        let bound = sumTolerance(terms: terms, magnitude: Float(terms + 1)) * 256
        for algorithm in Conv2DAlgorithm.allCases where algorithm != .naive {
            let fast = try layer(algorithm)
            let (y, c) = try fast.forward(input, context: ComputeContext(threads: 2, minimumElementsPerThread: 1))
            let (fdx, fdθ) = try fast.backward(outputGradient, cache: c, context: ComputeContext(threads: 2, minimumElementsPerThread: 1))
            for (name, a, b) in [("forward", y, reference), ("backwardData", fdx, dx), ("filter", fdθ[0], dθ[0]), ("bias", fdθ[1], dθ[1])] {
                let mismatch = firstMismatch(a.scalars, b.scalars) { _ in bound }
                #expect(mismatch == nil, "\(args) \(algorithm) \(name): \(mismatch.map(String.init(describing:)) ?? "")")
            }
        }
    }

    @Test func denseAndPoolingGeometries() {
        var r = SplitMix64(seed: 3)
        for draw in 0..<20_000 {
            let (b, i, o) = (Self.size(&r), Self.size(&r), Self.size(&r))
            if let g = try? DenseGeometry(batch: b, inputFeatures: i, outputFeatures: o) {
                #expect(Self.bytes([g.batch, g.inputFeatures]) != nil && Self.bytes([g.batch, g.outputFeatures]) != nil
                        && Self.bytes([g.outputFeatures, g.inputFeatures]) != nil, "draw \(draw)")
                #expect(BLAS.fits(g.batch) && BLAS.fits(g.inputFeatures) && BLAS.fits(g.outputFeatures))
            }
            let dims = (0..<9).map { k in k < 4 || r.next() % 3 == 0 ? Self.size(&r) : 1 + Int(r.next() % 3) }
            if let p = try? Pool2DGeometry(batch: dims[0], channels: dims[1], inputHeight: dims[2], inputWidth: dims[3],
                                           windowHeight: dims[4], windowWidth: dims[5], strideHeight: dims[6],
                                           strideWidth: dims[7], paddingHeight: dims[8] % 2, paddingWidth: 0) {
                #expect(p.outputHeight >= 1 && p.outputWidth >= 1, "draw \(draw)")
                #expect(Self.bytes([p.batch, p.channels, p.inputHeight, p.inputWidth]) != nil
                        && Self.bytes([p.batch, p.channels, p.outputHeight, p.outputWidth]) != nil, "draw \(draw)")
            }
        }
    }

    /// Layer initialisers and forward passes with hostile hyper-parameters on small inputs.
    @Test func layersWithHostileHyperParameters() throws {
        var r = SplitMix64(seed: 4)
        let input = Tensor(shape: [2, 4, 5, 5], uniformIn: -1...1, using: &r)
        var ran = 0
        for _ in 0..<3_000 {
            let (k, s, p, d, groups) = (Self.size(&r), Self.size(&r), Self.size(&r), Self.size(&r), r.next() % 2 == 0 ? 1 : Self.size(&r))
            let kernel = min(max(k, 0), 4)
            guard let filterShape = try? Shape([2 * max(1, min(groups, 2)), 4 / max(1, min(groups, 2)), kernel, kernel]) else { continue }
            let filter = Tensor(shape: filterShape, uniformIn: -1...1, using: &r)
            let bias = Tensor(shape: try Shape([filterShape[0]]), repeating: 0.5)
            if let conv = try? Conv2D(filter: filter, bias: bias, stride: (s, 1), padding: (p, 0), dilation: (d, 1), groups: groups) {
                do {
                    // Large valid outputs are the geometry tests' business; here the run must stay cheap.
                    if try conv.outputShape(for: input.shape).count > 1 << 16 { continue }
                    let y = try conv(input)
                    ran += 1
                    #expect(y.shape[0] == 2 && y.shape[1] == filterShape[0])
                    #expect(!y.scalars.contains { $0.isNaN })
                } catch {
                    #expect(!error.message.isEmpty)
                }
            }
            if let pool = try? MaxPool2D(window: k, stride: s, padding: p),
               let g = try? pool.geometry(for: input.shape), g.outputCount <= 1 << 16 {
                if let y = try? pool(input) { #expect(y.shape[0] == 2 && y.shape[1] == 4) }
            }
            if let pool = try? AvgPool2D(window: k, stride: s, padding: p),
               let g = try? pool.geometry(for: input.shape), g.outputCount <= 1 << 16 {
                if let y = try? pool(input) { #expect(y.shape[0] == 2 && y.shape[1] == 4) }
            }
            if let dense = try? Dense(inputFeatures: 100, outputFeatures: max(1, min(k, 3)), using: &r) {
                #expect(throws: ShapeError.self) { try dense(Tensor(shape: [2, max(0, min(s, 50))])) }
            }
        }
        #expect(ran > 50, "only \(ran) convolutions ran")
    }
}
