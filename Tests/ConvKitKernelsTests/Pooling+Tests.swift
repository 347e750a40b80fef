import Testing
import _ConvKitTestSupport

/// One pooling shape of the test table.
struct PoolCase: Sendable, CustomTestStringConvertible {
    let name: String
    let n: Int, c: Int, h: Int, w: Int, kh: Int, kw: Int, sh: Int, sw: Int, ph: Int, pw: Int
    /// Fixed per shape (printed on failure).
    var seed: UInt64 { UInt64(n * 7919 + c * 104_729 + h * 31 + w * 17 + kh * 5 + sw) }
    var testDescription: String { "\(name) N\(n) C\(c) \(h)x\(w) k\(kh)x\(kw) s\(sh)x\(sw) p\(ph)x\(pw)" }
    func geometry() throws -> Pool2DGeometry {
        try Pool2DGeometry(batch: n, channels: c, inputHeight: h, inputWidth: w, windowHeight: kh, windowWidth: kw,
                           strideHeight: sh, strideWidth: sw, paddingHeight: ph, paddingWidth: pw)
    }
}

/// Edge cases (batch 1, odd and ragged planes; < 8, 8..15 and >= 16 interior columns, i.e. the
/// scalar, SIMD8 and paired-SIMD8 paths, with and without an overlapping last block; padding;
/// strides 1/2/3, windows equal to the input) plus the real AlexNet / VGG-style planes.
let poolCases: [PoolCase] = [
    PoolCase(name: "worked 2x2s2", n: 1, c: 1, h: 4, w: 4, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0),
    PoolCase(name: "odd 2x2s2", n: 2, c: 3, h: 7, w: 9, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0),
    PoolCase(name: "alexnet-like narrow", n: 1, c: 2, h: 13, w: 27, kh: 3, kw: 3, sh: 2, sw: 2, ph: 0, pw: 0),
    PoolCase(name: "3x3s2 pad1", n: 2, c: 2, h: 11, w: 40, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1),
    PoolCase(name: "3x3s1 pad1", n: 1, c: 3, h: 9, w: 21, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1),
    PoolCase(name: "global 5x5", n: 1, c: 1, h: 5, w: 5, kh: 5, kw: 5, sh: 1, sw: 1, ph: 0, pw: 0),
    PoolCase(name: "2x3 s1x3 (gather)", n: 2, c: 1, h: 6, w: 37, kh: 2, kw: 3, sh: 1, sw: 3, ph: 1, pw: 0),
    PoolCase(name: "3x3s2 ragged", n: 1, c: 2, h: 17, w: 53, kh: 3, kw: 3, sh: 2, sw: 2, ph: 0, pw: 0),
    PoolCase(name: "one row", n: 1, c: 1, h: 1, w: 19, kh: 1, kw: 3, sh: 1, sw: 2, ph: 0, pw: 1),
    PoolCase(name: "3x3s3 pad1", n: 3, c: 5, h: 8, w: 8, kh: 3, kw: 3, sh: 3, sw: 3, ph: 1, pw: 1),
    PoolCase(name: "pad 2 of window 3", n: 1, c: 1, h: 3, w: 3, kh: 3, kw: 3, sh: 1, sw: 1, ph: 2, pw: 2),
    PoolCase(name: "2x2s2 pad1", n: 1, c: 1, h: 12, w: 30, kh: 2, kw: 2, sh: 2, sw: 2, ph: 1, pw: 1),
    PoolCase(name: "alexnet pool1 plane", n: 1, c: 2, h: 55, w: 55, kh: 3, kw: 3, sh: 2, sw: 2, ph: 0, pw: 0),
    PoolCase(name: "vgg 2x2s2", n: 2, c: 2, h: 28, w: 28, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0),
    PoolCase(name: "3x3 s2x3 wide (gather, 16-blocks)", n: 1, c: 2, h: 7, w: 61, kh: 3, kw: 3, sh: 2, sw: 3, ph: 1, pw: 1),
    PoolCase(name: "exactly 16 columns", n: 2, c: 1, h: 5, w: 18, kh: 3, kw: 3, sh: 1, sw: 1, ph: 0, pw: 0),
    // AVX-512 blocks of 16 outputs: 16, 17, 32 and 33 interior columns, masked tails, padding,
    // rows skipped between windows (stride > window), gathered strides.
    PoolCase(name: "3x3s2 16 interior", n: 1, c: 2, h: 9, w: 33, kh: 3, kw: 3, sh: 2, sw: 2, ph: 0, pw: 0),
    PoolCase(name: "3x3s2 17 interior pad1", n: 1, c: 1, h: 10, w: 36, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1),
    PoolCase(name: "3x3s2 32 interior", n: 2, c: 1, h: 9, w: 65, kh: 3, kw: 3, sh: 2, sw: 2, ph: 0, pw: 0),
    PoolCase(name: "3x3s2 33 interior", n: 1, c: 1, h: 7, w: 67, kh: 3, kw: 3, sh: 2, sw: 2, ph: 0, pw: 0),
    PoolCase(name: "2x2s2 ragged 65", n: 2, c: 1, h: 9, w: 65, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0),
    PoolCase(name: "2x2s1 wide", n: 1, c: 1, h: 4, w: 50, kh: 2, kw: 2, sh: 1, sw: 1, ph: 1, pw: 1),
    PoolCase(name: "2x3 s3x2 rows skipped", n: 1, c: 2, h: 14, w: 41, kh: 2, kw: 3, sh: 3, sw: 2, ph: 1, pw: 1),
    PoolCase(name: "2x2s3 gather wide", n: 1, c: 1, h: 8, w: 70, kh: 2, kw: 2, sh: 3, sw: 3, ph: 0, pw: 1),
    PoolCase(name: "5x4 s2 pad2 wide", n: 1, c: 1, h: 12, w: 57, kh: 5, kw: 4, sh: 2, sw: 2, ph: 2, pw: 2),
    PoolCase(name: "alexnet pool1 pad1 batch 1", n: 1, c: 3, h: 55, w: 55, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1),
]

/// The vector-instruction levels this machine can run (portable Swift, then the C kernels).
let poolSIMDLevels = SIMDLevel.allCases.filter { $0 <= .detected }

/// Every SIMD level, each serial and split over two threads: the fast algorithm must give the
/// same results as naive in all of them.
let poolTestContexts: [ComputeContext] = poolSIMDLevels.flatMap { level in testContexts.map { $0.with(simdLevel: level) } }

/// The split context at every SIMD level.
let poolSplittingContexts: [ComputeContext] = poolSIMDLevels.map { splittingContext.with(simdLevel: $0) }

/// The serial context at every SIMD level.
let poolSerialContexts: [ComputeContext] = poolSIMDLevels.map { ComputeContext.serial.with(simdLevel: $0) }

/// Runs max pooling forward with fresh NaN-poisoned outputs (indices poisoned with Int32.min).
func maxPoolForward(_ g: Pool2DGeometry, _ algorithm: PoolingAlgorithm, _ input: [Float],
                    context: ComputeContext = .serial) -> (output: [Float], indices: [Int32]) {
    var output = [Float].poisoned(count: g.outputCount)
    var indices = [Int32](repeating: .min, count: g.outputCount)
    input.withUnsafeBufferPointer { x in
        output.withUnsafeMutableBufferPointer { y in
            indices.withUnsafeMutableBufferPointer { k in
                MaxPool2DKernel.forward(g, algorithm: algorithm, input: x, output: y, indices: k, context: context)
            }
        }
    }
    return (output, indices)
}

func maxPoolBackward(_ g: Pool2DGeometry, _ algorithm: PoolingAlgorithm, _ dy: [Float], _ indices: [Int32],
                     context: ComputeContext = .serial) -> [Float] {
    var dx = [Float].poisoned(count: g.inputCount)
    dy.withUnsafeBufferPointer { dy in
        indices.withUnsafeBufferPointer { k in
            dx.withUnsafeMutableBufferPointer { dx in
                MaxPool2DKernel.backward(g, algorithm: algorithm, outputGradient: dy, indices: k, inputGradient: dx, context: context)
            }
        }
    }
    return dx
}

func avgPoolForward(_ g: Pool2DGeometry, _ algorithm: PoolingAlgorithm, countPadding: Bool, _ input: [Float],
                    context: ComputeContext = .serial) -> [Float] {
    var output = [Float].poisoned(count: g.outputCount)
    input.withUnsafeBufferPointer { x in
        output.withUnsafeMutableBufferPointer { y in
            AvgPool2DKernel.forward(g, algorithm: algorithm, countPadding: countPadding, input: x, output: y, context: context)
        }
    }
    return output
}

func avgPoolBackward(_ g: Pool2DGeometry, _ algorithm: PoolingAlgorithm, countPadding: Bool, _ dy: [Float],
                     context: ComputeContext = .serial) -> [Float] {
    var dx = [Float].poisoned(count: g.inputCount)
    dy.withUnsafeBufferPointer { dy in
        dx.withUnsafeMutableBufferPointer { dx in
            AvgPool2DKernel.backward(g, algorithm: algorithm, countPadding: countPadding, outputGradient: dy,
                                     inputGradient: dx, context: context)
        }
    }
    return dx
}

@Suite struct MaxPoolingTests {
    /// Strides near `Int.max` (one output column, windows partly in the padding) write the
    /// output and nothing around it, at every SIMD level: the interior-column bound is a ceiling
    /// division that must not overflow.
    @Test func hugeStridesStayInsideTheOutput() throws {
        let g = try Pool2DGeometry(batch: 2, channels: 3, inputHeight: 5, inputWidth: 5, windowHeight: 3, windowWidth: 3,
                                   strideHeight: Int.max, strideWidth: Int.max, paddingHeight: 2, paddingWidth: 2)
        let x: [Float] = (0..<(2 * 3 * 25)).map { (i: Int) -> Float in Float((i * 37) % 23) - 11 }
        let n = g.outputCount, margin = 32
        for context in poolSerialContexts {
            var y = [Float](repeating: .nan, count: n + 2 * margin)
            var k = [Int32](repeating: -7, count: n + 2 * margin)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    k.withUnsafeMutableBufferPointer { kp in
                        MaxPool2DKernel.forward(g, algorithm: .simd, input: xp,
                                                output: UnsafeMutableBufferPointer(rebasing: yp[margin..<(margin + n)]),
                                                indices: UnsafeMutableBufferPointer(rebasing: kp[margin..<(margin + n)]),
                                                context: context)
                    }
                }
            }
            let outside = Array(0..<margin) + Array((margin + n)..<(n + 2 * margin))
            #expect(outside.allSatisfy { y[$0].isNaN && k[$0] == -7 }, "\(context.simdLevel)")
            // The one window covers padding and the plane's first element only.
            for plane in 0..<(2 * 3) {
                #expect(y[margin + plane] == x[plane * 25], "\(context.simdLevel) plane \(plane)")
            }
        }
    }

    @Test func workedExample() throws {
        // [[1 1 2 4],[5 6 7 8],[3 2 1 0],[1 2 3 4]], 2x2 stride 2 → [[6 8],[3 4]]; winners are
        // 6 at (1,1) = 5, 8 at (1,3) = 7, 3 at (2,0) = 8, 4 at (3,3) = 15.
        let g = try Pool2DGeometry(batch: 1, channels: 1, inputSize: 4, window: 2, stride: 2)
        let input: [Float] = [1, 1, 2, 4, 5, 6, 7, 8, 3, 2, 1, 0, 1, 2, 3, 4]
        for algorithm in PoolingAlgorithm.allCases {
            for context in poolSerialContexts {
                let (y, k) = maxPoolForward(g, algorithm, input, context: context)
                #expect(y == [6, 8, 3, 4], "\(algorithm) \(context)")
                #expect(k == [5, 7, 8, 15], "\(algorithm) \(context)")
            }
            let (_, k) = maxPoolForward(g, algorithm, input)
            let dx = maxPoolBackward(g, algorithm, [10, 20, 30, 40], k)
            #expect(dx == [0, 0, 0, 0, 0, 10, 0, 20, 30, 0, 0, 0, 0, 0, 0, 40], "\(algorithm)")
        }
    }

    /// Forward values and indices, and backward, must be bit-identical to naive (same rule, same
    /// comparisons, same summation order), for serial and split contexts at every SIMD level.
    @Test(arguments: poolCases)
    func simdMatchesNaive(_ shape: PoolCase) throws {
        let g = try shape.geometry()
        let input = [Float].random(count: g.inputCount, seed: shape.seed, in: -4...4)
        let dy = [Float].random(count: g.outputCount, seed: shape.seed + 1)
        let (y0, k0) = maxPoolForward(g, .naive, input)
        #expect(!y0.contains { $0.isNaN }, "naive left an output unwritten, seed \(shape.seed)")
        #expect(k0.allSatisfy { $0 >= 0 && Int($0) < g.inputPlane }, "naive index out of the plane, seed \(shape.seed)")
        let dx0 = maxPoolBackward(g, .naive, dy, k0)
        for context in poolTestContexts {
            let (y, k) = maxPoolForward(g, .simd, input, context: context)
            #expect(firstDifference(y, y0) == nil, "forward \(context), seed \(shape.seed): \(firstDifference(y, y0) ?? "")")
            #expect(k == k0, "indices \(context), seed \(shape.seed)")
            let dx = maxPoolBackward(g, .simd, dy, k, context: context)
            #expect(firstDifference(dx, dx0) == nil, "backward \(context), seed \(shape.seed): \(firstDifference(dx, dx0) ?? "")")
        }
    }

    /// Integer-valued inputs from {0, 1, 2} make ties in almost every window: the first maximum
    /// in row-major window order must win in both algorithms.
    @Test(arguments: poolCases)
    func tiesTakeFirstMaximum(_ shape: PoolCase) throws {
        let g = try shape.geometry()
        let input = [Float].random(count: g.inputCount, seed: shape.seed, in: 0...3).map { $0.rounded(.down) }
        let (y0, k0) = maxPoolForward(g, .naive, input)
        for context in poolSplittingContexts {
            let (y, k) = maxPoolForward(g, .simd, input, context: context)
            #expect(y == y0 && k == k0, "\(context), seed \(shape.seed)")
        }
    }

    @Test func tieRuleOnAKnownWindow() throws {
        // One 3x3 window of 1s and two 5s (at row-major positions 4 and 6): index 4 wins.
        let g = try Pool2DGeometry(batch: 1, channels: 1, inputSize: 3, window: 3, stride: 1)
        let input: [Float] = [1, 1, 1, 1, 5, 1, 5, 1, 1]
        for algorithm in PoolingAlgorithm.allCases {
            for context in poolSerialContexts {
                let (y, k) = maxPoolForward(g, algorithm, input, context: context)
                #expect(y == [5] && k == [4], "\(algorithm) \(context)")
            }
        }
    }

    /// NaN wins and propagates, at the first NaN of the window; same in both algorithms.
    @Test(arguments: poolCases)
    func nanWinsAndPropagates(_ shape: PoolCase) throws {
        let g = try shape.geometry()
        var input = [Float].random(count: g.inputCount, seed: shape.seed, in: -4...4)
        var rng = SplitMix64(seed: shape.seed + 7)
        for i in input.indices where rng.uniform(in: 0...1) < 0.08 { input[i] = .nan }
        let (y0, k0) = maxPoolForward(g, .naive, input)
        for context in poolSplittingContexts {
            let (y, k) = maxPoolForward(g, .simd, input, context: context)
            #expect(firstDifference(y, y0) == nil && k == k0, "\(context), seed \(shape.seed)")
            // Every output whose window holds a NaN is NaN, and its index points at a NaN.
            for p in 0..<g.planes {
                for o in 0..<g.outputPlane where y[p * g.outputPlane + o].isNaN {
                    #expect(input[p * g.inputPlane + Int(k[p * g.outputPlane + o])].isNaN)
                }
            }
        }
    }

    /// ±∞ (without NaN) send a plane to the general rule; −∞ windows must still report their
    /// first element, +∞ must win. Same results as naive.
    @Test(arguments: poolCases)
    func infinitiesMatchNaive(_ shape: PoolCase) throws {
        let g = try shape.geometry()
        var input = [Float].random(count: g.inputCount, seed: shape.seed, in: -4...4)
        var rng = SplitMix64(seed: shape.seed + 11)
        for i in input.indices {
            let r = rng.uniform(in: 0...1)
            if r < 0.05 { input[i] = .infinity } else if r < 0.5 { input[i] = -.infinity }
        }
        let (y0, k0) = maxPoolForward(g, .naive, input)
        for context in poolSplittingContexts {
            let (y, k) = maxPoolForward(g, .simd, input, context: context)
            #expect(firstDifference(y, y0) == nil && k == k0, "\(context), seed \(shape.seed)")
        }
    }

    /// Rows so wide that window offsets reach 2^23 use the Int32-index path (Float offsets
    /// would not be exact there): still identical to naive.
    @Test func veryWideRowsMatchNaive() throws {
        let g = try Pool2DGeometry(batch: 1, channels: 1, inputHeight: 2, inputWidth: (1 << 22) + 37,
                                   windowHeight: 2, windowWidth: 3, strideHeight: 1, strideWidth: 2)
        let input = [Float].random(count: g.inputCount, seed: 99, in: -4...4)
        let (y0, k0) = maxPoolForward(g, .naive, input)
        for context in poolSplittingContexts {
            let (y, k) = maxPoolForward(g, .simd, input, context: context)
            #expect(firstDifference(y, y0) == nil && k == k0, "\(context)")
        }
    }

    @Test func nanInWindowGivesNaNAndFirstNaNIndex() throws {
        let g = try Pool2DGeometry(batch: 1, channels: 1, inputSize: 3, window: 3, stride: 1)
        let input: [Float] = [1, 9, .nan, 1, .nan, 1, 1, 1, 1]
        for algorithm in PoolingAlgorithm.allCases {
            for context in poolSerialContexts {
                let (y, k) = maxPoolForward(g, algorithm, input, context: context)
                #expect(y[0].isNaN && k == [2], "\(algorithm) \(context)")
            }
        }
    }

    @Test func paddingNeverWinsOverNegativeInputs() throws {
        // All inputs negative with padding 1: the padded zeros must not be the maximum.
        let g = try Pool2DGeometry(batch: 1, channels: 1, inputSize: 4, window: 3, stride: 2, padding: 1)
        let input = (0..<16).map { -Float($0) - 1 }
        for algorithm in PoolingAlgorithm.allCases {
            for context in poolSerialContexts {
                let (y, k) = maxPoolForward(g, algorithm, input, context: context)
                #expect(y.allSatisfy { $0 < 0 }, "\(algorithm) \(context)")
                #expect(k.map { input[Int($0)] } == y, "\(algorithm) \(context)")
            }
        }
    }

    /// Finite differences of Σ probe·maxpool(x), with inputs spread ≥ 0.1 apart so that a step
    /// of 0.01 never changes a winner (away from the kinks); the derivative is then exact up
    /// to the rounding of x ± h, hence the 1e-3 tolerance.
    @Test(arguments: [poolCases[1], poolCases[3], poolCases[6], poolCases[10]])
    func backwardMatchesFiniteDifferences(_ shape: PoolCase) throws {
        let g = try shape.geometry()
        var rng = SplitMix64(seed: shape.seed)
        var values = (0..<g.inputCount).map { Float($0) * 0.1 - Float(g.inputCount) * 0.05 }
        values.shuffle(using: &rng)
        let probe = [Float].random(count: g.outputCount, seed: shape.seed + 3)
        let (_, k) = maxPoolForward(g, .simd, values)
        for algorithm in PoolingAlgorithm.allCases {
            let analytic = maxPoolBackward(g, algorithm, probe, k)
            let numeric = numericGradient(values, step: 0.01) { probeLoss(maxPoolForward(g, algorithm, $0).output, probe) }
            let mismatch = gradientMismatch(analytic, numeric, absolute: 1e-3, relative: 1e-3)
            #expect(mismatch == nil, "\(algorithm), seed \(shape.seed): \(mismatch ?? "")")
        }
    }
}

@Suite struct AvgPoolingTests {
    @Test func workedExample() throws {
        // 2x2 stride 2 on the worked max-pooling input: means 13/4, 21/4, 2, 2.
        let g = try Pool2DGeometry(batch: 1, channels: 1, inputSize: 4, window: 2, stride: 2)
        let input: [Float] = [1, 1, 2, 4, 5, 6, 7, 8, 3, 2, 1, 0, 1, 2, 3, 4]
        for algorithm in PoolingAlgorithm.allCases {
            for context in poolSerialContexts {
                #expect(avgPoolForward(g, algorithm, countPadding: true, input, context: context) == [3.25, 5.25, 2, 2],
                        "\(algorithm) \(context)")
            }
        }
    }

    @Test func countPaddingChangesTheDivisorAtBorders() throws {
        // 2x2 input of ones, window 2, stride 2, padding 1: every window holds one real 1.
        let g = try Pool2DGeometry(batch: 1, channels: 1, inputSize: 2, window: 2, stride: 2, padding: 1)
        for algorithm in PoolingAlgorithm.allCases {
            for context in poolSerialContexts {
                #expect(avgPoolForward(g, algorithm, countPadding: true, [1, 1, 1, 1], context: context) == [0.25, 0.25, 0.25, 0.25])
                #expect(avgPoolForward(g, algorithm, countPadding: false, [1, 1, 1, 1], context: context) == [1, 1, 1, 1])
            }
            #expect(avgPoolBackward(g, algorithm, countPadding: true, [4, 4, 4, 4]) == [1, 1, 1, 1])
            #expect(avgPoolBackward(g, algorithm, countPadding: false, [4, 4, 4, 4]) == [4, 4, 4, 4])
        }
    }

    /// Forward: bit-identical (same summation order and division) at every SIMD level. Backward: the shares are
    /// added in a different order where windows overlap, so each element may differ by the
    /// rounding of a sum of at most ⌈K/S⌉² shares: `sumTolerance(terms, Σ|share|)`.
    @Test(arguments: poolCases, [false, true])
    func simdMatchesNaive(_ shape: PoolCase, countPadding: Bool) throws {
        let g = try shape.geometry()
        let input = [Float].random(count: g.inputCount, seed: shape.seed, in: -4...4)
        let dy = [Float].random(count: g.outputCount, seed: shape.seed + 1)
        let y0 = avgPoolForward(g, .naive, countPadding: countPadding, input)
        #expect(!y0.contains { $0.isNaN }, "naive left an output unwritten")
        let dx0 = avgPoolBackward(g, .naive, countPadding: countPadding, dy)
        #expect(!dx0.contains { $0.isNaN }, "naive left a gradient unwritten")
        let magnitude = avgPoolBackward(g, .naive, countPadding: countPadding, dy.map { abs($0) })
        let overlap = ((g.windowHeight + g.strideHeight - 1) / g.strideHeight) * ((g.windowWidth + g.strideWidth - 1) / g.strideWidth)
        var previous: [Float]? = nil
        for context in poolTestContexts {
            let y = avgPoolForward(g, .simd, countPadding: countPadding, input, context: context)
            #expect(firstDifference(y, y0) == nil, "forward \(context), seed \(shape.seed): \(firstDifference(y, y0) ?? "")")
            let dx = avgPoolBackward(g, .simd, countPadding: countPadding, dy, context: context)
            let mismatch = firstMismatch(dx, dx0) { sumTolerance(terms: overlap, magnitude: magnitude[$0]) }
            #expect(mismatch == nil, "backward \(context), seed \(shape.seed): \(mismatch?.description ?? "")")
            if let previous { #expect(identical(previous, dx), "serial and split contexts differ") }
            previous = dx
        }
    }

    /// Average pooling is linear: central differences are exact up to rounding (1e-3).
    @Test(arguments: [poolCases[1], poolCases[3], poolCases[6], poolCases[10]], [false, true])
    func backwardMatchesFiniteDifferences(_ shape: PoolCase, countPadding: Bool) throws {
        let g = try shape.geometry()
        let x = [Float].random(count: g.inputCount, seed: shape.seed, in: -2...2)
        let probe = [Float].random(count: g.outputCount, seed: shape.seed + 3)
        for algorithm in PoolingAlgorithm.allCases {
            let analytic = avgPoolBackward(g, algorithm, countPadding: countPadding, probe)
            let numeric = numericGradient(x, step: 0.01) {
                probeLoss(avgPoolForward(g, algorithm, countPadding: countPadding, $0), probe)
            }
            let mismatch = gradientMismatch(analytic, numeric, absolute: 1e-3, relative: 1e-3)
            #expect(mismatch == nil, "\(algorithm), seed \(shape.seed): \(mismatch ?? "")")
        }
    }
}

/// Index-free max pooling for inference: bit-identical to the training forward's maxima.
@Suite struct MaxPoolingInferenceTests {
    static func inference(_ g: Pool2DGeometry, _ algorithm: PoolingAlgorithm, _ input: [Float],
                          context: ComputeContext = .serial) -> [Float] {
        var output = [Float].poisoned(count: g.outputCount)
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                MaxPool2DKernel.inference(g, algorithm: algorithm, input: x, output: y, context: context)
            }
        }
        return output
    }

    @Test(arguments: poolCases)
    func matchesTrainingForward(_ shape: PoolCase) throws {
        let g = try shape.geometry()
        let input = [Float].random(count: g.inputCount, seed: shape.seed, in: -4...4)
        let (expected, _) = maxPoolForward(g, .naive, input)
        for algorithm in PoolingAlgorithm.allCases {
            for context in poolTestContexts {
                let y = Self.inference(g, algorithm, input, context: context)
                #expect(firstDifference(y, expected) == nil, "\(algorithm) \(context) seed \(shape.seed): \(firstDifference(y, expected) ?? "")")
            }
        }
    }

    /// Ties (values from {0, 1, 2}) and NaN/∞ planes (scalar rule) also match.
    @Test(arguments: poolCases)
    func tiesAndNaN(_ shape: PoolCase) throws {
        let g = try shape.geometry()
        let input = [Float].random(count: g.inputCount, seed: shape.seed, in: 0...3).map { $0.rounded(.down) }
        let (tiesExpected, _) = maxPoolForward(g, .naive, input)
        var special = input
        special[special.count / 2] = .nan
        special[0] = .infinity
        let (nanExpected, _) = maxPoolForward(g, .naive, special)
        for context in poolSplittingContexts {
            #expect(firstDifference(Self.inference(g, .simd, input, context: context), tiesExpected) == nil, "\(context)")
            #expect(firstDifference(Self.inference(g, .simd, special, context: context), nanExpected) == nil, "\(context)")
        }
    }
}
