import Testing
import _ConvKitTestSupport

/// The depthwise kernels (AVX-512, AVX2 and portable paths) against the naive loops over a grid of
/// small shapes: 3×3 and 5×5, stride 1 and 2, padding 0–2, output widths with every vector tail,
/// tiny planes, dilation, channel multiplier 2, odd strides; 1 and 2 workers (bit-identical).
@Suite("Conv2D depthwise vs naive")
struct Conv2DDepthwiseTests {
    struct Case: CustomStringConvertible, Sendable {
        let name: String
        let geometry: Conv2DGeometry
        var description: String { name }
    }

    static func make(_ n: Int, _ c: Int, _ h: Int, _ w: Int, k: (Int, Int), s: (Int, Int) = (1, 1), p: (Int, Int),
                     d: (Int, Int) = (1, 1), multiplier: Int = 1) -> Case? {
        guard let g = try? Conv2DGeometry(batch: n, inputChannels: c, inputHeight: h, inputWidth: w,
                                          outputChannels: c * multiplier, kernelHeight: k.0, kernelWidth: k.1,
                                          strideHeight: s.0, strideWidth: s.1, paddingHeight: p.0, paddingWidth: p.1,
                                          dilationHeight: d.0, dilationWidth: d.1, groups: c)
        else { return nil }
        let name = "\(n)x\(c)x\(h)x\(w) k\(k.0)x\(k.1) s\(s.0),\(s.1) p\(p.0),\(p.1) d\(d.0),\(d.1) m\(multiplier)"
        return Case(name: name, geometry: g)
    }

    /// Square kernels 3 and 5, strides 1 and 2, paddings 0–2, on planes whose output widths hit
    /// the vector tails (1, 7, 15, 17, 33) and on tiny planes (1×1, 2×3).
    static let grid: [Case] = {
        var cases: [Case] = []
        let planes = [(1, 1), (2, 3), (5, 7), (4, 15), (6, 17), (3, 33), (9, 34), (8, 66), (5, 97)]
        for k in [3, 5] {
            for s in [1, 2] {
                for p in [0, 1, 2] {
                    for (h, w) in planes {
                        if let c = make(2, 3, h, w, k: (k, k), s: (s, s), p: (p, p)) { cases.append(c) }
                    }
                }
            }
        }
        return cases
    }()

    /// Dilation, channel multiplier 2, non-square kernels, stride 3 and mixed strides.
    static let special: [Case] = [
        make(2, 3, 11, 19, k: (3, 3), p: (2, 2), d: (2, 2)),
        make(1, 2, 13, 21, k: (5, 5), s: (2, 2), p: (4, 4), d: (2, 2)),
        make(2, 3, 9, 17, k: (3, 3), p: (1, 1), multiplier: 2),
        make(2, 3, 9, 17, k: (3, 3), s: (2, 2), p: (1, 1), multiplier: 2),
        make(1, 2, 10, 23, k: (5, 5), s: (2, 2), p: (2, 2), multiplier: 3),
        make(2, 2, 8, 19, k: (1, 3), p: (0, 1)),
        make(2, 2, 9, 18, k: (3, 5), s: (1, 2), p: (1, 2)),
        make(1, 3, 14, 29, k: (3, 3), s: (3, 3), p: (1, 1)),
        make(1, 2, 12, 40, k: (7, 7), s: (2, 2), p: (3, 3)),
        make(1, 2, 8, 9, k: (3, 3), p: (3, 3)),
        make(1, 2, 8, 9, k: (3, 3), s: (2, 1), p: (0, 2), d: (1, 2)),
        make(1, 4, 28, 28, k: (3, 3), s: (2, 2), p: (1, 1)),
        // One image, one channel, on MobileNet's planes and odd ones: the straight row copies
        // (rows wider than two vectors, tails at every width), passes of several output rows
        // cut short at the bottom, odd and even left padding at stride 2.
        make(1, 1, 56, 56, k: (3, 3), s: (2, 2), p: (1, 1)),
        make(1, 1, 57, 57, k: (3, 3), s: (2, 2), p: (0, 0)),
        make(1, 1, 45, 71, k: (3, 3), s: (2, 2), p: (2, 2)),
        make(1, 1, 38, 53, k: (3, 3), p: (1, 1)),
        make(1, 1, 39, 50, k: (5, 5), p: (2, 2)),
        make(1, 1, 41, 66, k: (5, 5), s: (2, 2), p: (2, 2)),
        make(1, 2, 35, 35, k: (3, 3), s: (2, 2), p: (1, 1), multiplier: 2),
        // Strides wider than the plane (every column phase past the first is empty) and huge ones.
        make(1, 2, 3, 2, k: (1, 1), s: (1, 7), p: (1, 0), multiplier: 3),
        make(1, 2, 5, 9, k: (3, 3), s: (2, 7), p: (1, 1)),
        make(1, 2, 3, 2, k: (1, 1), s: (1, 1000), p: (1, 0), multiplier: 3),
        make(1, 1, 4, 4, k: (3, 3), s: (1 << 40, 1 << 40), p: (1, 1)),
    ].compactMap { $0 }

    static let cases = grid + special

    /// Per SIMD level this CPU supports: one worker, and two workers forced to split.
    static let levels = SIMDLevel.allCases.filter { $0 <= .detected }

    static func contexts(_ level: SIMDLevel) -> [ComputeContext] {
        [ComputeContext.serial.with(simdLevel: level), ComputeContext(threads: 2, minimumElementsPerThread: 1, simdLevel: level)]
    }

    static func seed(_ name: String, _ salt: UInt64) -> UInt64 { Conv2DReferenceTests.seed(name, salt) }

    @Test func gridCoversTheCases() {
        #expect(Self.grid.count >= 80)
        #expect(Self.cases.allSatisfy { Conv2DAlgorithm.depthwise.supports($0.geometry) })
    }

    @Test(arguments: cases)
    func forward(_ shape: Case) {
        let g = shape.geometry, s = Self.seed(shape.name, 1)
        let x = [Float].random(count: g.inputCount, seed: s)
        let w = [Float].random(count: g.filterCount, seed: s + 1)
        let b = [Float].random(count: g.outputChannels, seed: s + 2)
        let magnitude = Conv2DRunner.forward(g, .naive, input: x.magnitudes, filter: w.magnitudes, bias: b.magnitudes)
        for activation in FusedActivation.allCases {
            for bias in [b, nil] {
                let expected = Conv2DRunner.forward(g, .naive, input: x, filter: w, bias: bias, activation: activation)
                for level in Self.levels {
                    let results = Self.contexts(level).map {
                        Conv2DRunner.forward(g, .depthwise, input: x, filter: w, bias: bias, activation: activation, context: $0)
                    }
                    let bad = firstMismatch(results[0], expected) { sumTolerance(terms: g.kernelPlane + 1, magnitude: magnitude[$0]) }
                    #expect(bad == nil, "\(shape) \(level) \(activation) bias \(bias != nil) seed \(s): \(bad.map(String.init(describing:)) ?? "")")
                    #expect(results[0] == results[1], "\(shape) \(level): 1 and 2 workers differ")
                }
            }
        }
    }

    @Test(arguments: cases)
    func backwardData(_ shape: Case) {
        let g = shape.geometry, s = Self.seed(shape.name, 2)
        let dy = [Float].random(count: g.outputCount, seed: s)
        let w = [Float].random(count: g.filterCount, seed: s + 1)
        let expected = Conv2DRunner.backwardData(g, .naive, outputGradient: dy, filter: w)
        let magnitude = Conv2DRunner.backwardData(g, .naive, outputGradient: dy.magnitudes, filter: w.magnitudes)
        let terms = g.outputChannelsPerGroup * g.kernelPlane
        for level in Self.levels {
            let results = Self.contexts(level).map {
                Conv2DRunner.backwardData(g, .depthwise, outputGradient: dy, filter: w, context: $0)
            }
            let bad = firstMismatch(results[0], expected) { sumTolerance(terms: terms, magnitude: magnitude[$0]) }
            #expect(bad == nil, "\(shape) \(level) seed \(s): \(bad.map(String.init(describing:)) ?? "")")
            #expect(results[0] == results[1], "\(shape) \(level): 1 and 2 workers differ")
        }
    }

    @Test(arguments: cases)
    func backwardFilter(_ shape: Case) {
        let g = shape.geometry, s = Self.seed(shape.name, 3)
        let x = [Float].random(count: g.inputCount, seed: s)
        let dy = [Float].random(count: g.outputCount, seed: s + 1)
        let expected = Conv2DRunner.backwardFilter(g, .naive, input: x, outputGradient: dy)
        let magnitude = Conv2DRunner.backwardFilter(g, .naive, input: x.magnitudes, outputGradient: dy.magnitudes)
        let initial = ([Float].random(count: g.filterCount, seed: s + 2), [Float].random(count: g.outputChannels, seed: s + 3))
        let terms = g.batch * g.outputPlane
        for level in Self.levels {
            let results = Self.contexts(level).map {
                Conv2DRunner.backwardFilter(g, .depthwise, input: x, outputGradient: dy, context: $0)
            }
            let badW = firstMismatch(results[0].filter, expected.filter) { sumTolerance(terms: terms, magnitude: magnitude.filter[$0]) }
            let badB = firstMismatch(results[0].bias, expected.bias) { sumTolerance(terms: terms, magnitude: magnitude.bias[$0]) }
            #expect(badW == nil, "\(shape) \(level) filter seed \(s): \(badW.map(String.init(describing:)) ?? "")")
            #expect(badB == nil, "\(shape) \(level) bias seed \(s): \(badB.map(String.init(describing:)) ?? "")")
            #expect(results[0].filter == results[1].filter, "\(shape) \(level): 1 and 2 workers differ")
            // accumulate: true adds the same sums to what is there.
            let summed = Conv2DRunner.backwardFilter(g, .depthwise, input: x, outputGradient: dy, initial: initial,
                                                     context: Self.contexts(level)[1])
            for i in 0..<g.filterCount {
                #expect(summed.filter[i] == initial.0[i] + results[0].filter[i], "\(shape) \(level) accumulate element \(i)")
            }
        }
    }
}
