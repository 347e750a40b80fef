import Foundation
import Testing
import _ConvKitTestSupport

/// The element-wise activations, each as forward + backward closures over arrays, so one
/// parameterised test covers all of them.
struct ActivationCase: Sendable, CustomTestStringConvertible {
    let name: String
    /// Extra ulps allowed between `simd` and `naive` forward (the VectorMath bound + 1 ulp for
    /// libm, which is within 1 ulp itself); 0 means the same arithmetic, so bit-identical.
    let forwardUlps: Float
    /// Whether backward takes the forward output (sigmoid, tanh) instead of the input.
    let backwardFromOutput: Bool
    let forward: @Sendable (ActivationAlgorithm, UnsafeBufferPointer<Float>, UnsafeMutableBufferPointer<Float>, ComputeContext) -> Void
    let backward: @Sendable (ActivationAlgorithm, UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>,
                             UnsafeMutableBufferPointer<Float>, ComputeContext) -> Void
    var testDescription: String { name }

    func runForward(_ algorithm: ActivationAlgorithm, _ x: [Float], context: ComputeContext = .serial) -> [Float] {
        var y = [Float].poisoned(count: x.count)
        x.withUnsafeBufferPointer { x in y.withUnsafeMutableBufferPointer { y in forward(algorithm, x, y, context) } }
        return y
    }

    /// `saved` is the forward input or output, as the kernel wants.
    func runBackward(_ algorithm: ActivationAlgorithm, saved: [Float], _ dy: [Float], context: ComputeContext = .serial) -> [Float] {
        var dx = [Float].poisoned(count: dy.count)
        saved.withUnsafeBufferPointer { s in
            dy.withUnsafeBufferPointer { dy in dx.withUnsafeMutableBufferPointer { dx in backward(algorithm, s, dy, dx, context) } }
        }
        return dx
    }
}

let activationCases: [ActivationCase] = [
    ActivationCase(name: "relu", forwardUlps: 0, backwardFromOutput: false,
        forward: { ReLUKernel.forward(algorithm: $0, input: $1, output: $2, context: $3) },
        backward: { ReLUKernel.backward(algorithm: $0, input: $1, outputGradient: $2, inputGradient: $3, context: $4) }),
    ActivationCase(name: "leaky relu 0.01", forwardUlps: 0, backwardFromOutput: false,
        forward: { LeakyReLUKernel.forward(algorithm: $0, slope: 0.01, input: $1, output: $2, context: $3) },
        backward: { LeakyReLUKernel.backward(algorithm: $0, slope: 0.01, input: $1, outputGradient: $2, inputGradient: $3, context: $4) }),
    ActivationCase(name: "sigmoid", forwardUlps: 4, backwardFromOutput: true,
        forward: { SigmoidKernel.forward(algorithm: $0, input: $1, output: $2, context: $3) },
        backward: { SigmoidKernel.backward(algorithm: $0, output: $1, outputGradient: $2, inputGradient: $3, context: $4) }),
    ActivationCase(name: "tanh", forwardUlps: 3, backwardFromOutput: true,
        forward: { TanhKernel.forward(algorithm: $0, input: $1, output: $2, context: $3) },
        backward: { TanhKernel.backward(algorithm: $0, output: $1, outputGradient: $2, inputGradient: $3, context: $4) }),
]

/// Ragged sizes around the 16-lane vectors and chunk boundaries.
let activationSizes = [1, 7, 15, 16, 17, 31, 33, 100, 1000, 4097]

/// `|a − e| <= ulps · ulp(e)` element-wise (NaN must match NaN).
func ulpMismatch(_ actual: [Float], _ expected: [Float], ulps: Float) -> Mismatch? {
    firstMismatch(actual, expected) { ulps * max(expected[$0].magnitude.ulp, Float.leastNonzeroMagnitude) }
}

@Suite struct ActivationTests {
    /// simd vs naive, forward and backward, serial and split contexts (which must agree bit for bit).
    @Test(arguments: activationCases, activationSizes)
    func simdMatchesNaive(_ op: ActivationCase, count: Int) {
        let seed = UInt64(count * 31 + op.name.count)
        let x = [Float].random(count: count, seed: seed, in: -6...6)
        let dy = [Float].random(count: count, seed: seed + 1)
        let y0 = op.runForward(.naive, x)
        #expect(!y0.contains { $0.isNaN }, "naive left an output unwritten")
        let saved = op.backwardFromOutput ? y0 : x
        let dx0 = op.runBackward(.naive, saved: saved, dy)
        #expect(!dx0.contains { $0.isNaN }, "naive left a gradient unwritten")
        var previous: ([Float], [Float])? = nil
        for context in testContexts {
            let y = op.runForward(.simd, x, context: context)
            let mismatch = ulpMismatch(y, y0, ulps: op.forwardUlps)
            #expect(mismatch == nil, "\(op.name) forward \(context), seed \(seed): \(mismatch?.description ?? "")")
            // Backward is the same arithmetic on the same saved values: bit-identical.
            let dx = op.runBackward(.simd, saved: saved, dy, context: context)
            #expect(firstDifference(dx, dx0) == nil, "\(op.name) backward \(context), seed \(seed): \(firstDifference(dx, dx0) ?? "")")
            if let (py, pdx) = previous { #expect(identical(py, y) && identical(pdx, dx), "serial and split differ") }
            previous = (y, dx)
        }
    }

    /// NaN in gives NaN out at the same positions, for both algorithms (no silent clamping),
    /// and ±∞ give the exact limits.
    @Test(arguments: activationCases)
    func nanPropagatesAndInfinitiesHitLimits(_ op: ActivationCase) {
        var x = [Float].random(count: 37, seed: 5, in: -3...3)
        for i in [0, 16, 17, 36] { x[i] = .nan }
        x[3] = .infinity
        x[20] = -.infinity
        for algorithm in ActivationAlgorithm.allCases {
            let y = op.runForward(algorithm, x, context: splittingContext)
            for i in x.indices { #expect(y[i].isNaN == x[i].isNaN, "\(op.name) \(algorithm) element \(i): \(x[i]) → \(y[i])") }
            let limits: [String: (Float, Float)] = ["relu": (.infinity, 0), "leaky relu 0.01": (.infinity, -.infinity),
                                                     "sigmoid": (1, 0), "tanh": (1, -1)]
            if let (up, down) = limits[op.name] {
                #expect(y[3] == up && y[20] == down, "\(op.name) \(algorithm): f(±∞) = \(y[3]), \(y[20])")
            }
        }
    }

    /// In place (output = input, inputGradient = outputGradient) gives the out-of-place result.
    @Test(arguments: activationCases)
    func inPlaceMatchesOutOfPlace(_ op: ActivationCase) {
        let x = [Float].random(count: 1001, seed: 9, in: -4...4)
        let dy = [Float].random(count: 1001, seed: 10)
        for algorithm in ActivationAlgorithm.allCases {
            let y = op.runForward(algorithm, x)
            var inPlace = x
            inPlace.withUnsafeMutableBufferPointer { b in
                op.forward(algorithm, UnsafeBufferPointer(b), b, splittingContext)
            }
            #expect(identical(inPlace, y), "\(op.name) \(algorithm) forward in place")
            let saved = op.backwardFromOutput ? y : x
            let dx = op.runBackward(algorithm, saved: saved, dy)
            var gradient = dy
            saved.withUnsafeBufferPointer { s in
                gradient.withUnsafeMutableBufferPointer { g in op.backward(algorithm, s, UnsafeBufferPointer(g), g, splittingContext) }
            }
            #expect(identical(gradient, dx), "\(op.name) \(algorithm) backward in place")
        }
    }

    /// Backward against central differences of Σ probe·f(x) (step 1e-2, inputs kept ≥ 0.1 away
    /// from the ReLU kinks). Truncation error is O(h²·f''') ≈ 1e-4 and Float rounding of the
    /// outputs adds ≈ ε/h ≈ 1e-5 relative, hence 1e-3 absolute + 1e-2 relative.
    @Test(arguments: activationCases)
    func backwardMatchesFiniteDifferences(_ op: ActivationCase) {
        var x = [Float].random(count: 64, seed: 21, in: -3...3)
        for i in x.indices where abs(x[i]) < 0.1 { x[i] += x[i] < 0 ? -0.1 : 0.1 }
        let probe = [Float].random(count: 64, seed: 22)
        for algorithm in ActivationAlgorithm.allCases {
            let y = op.runForward(algorithm, x)
            let analytic = op.runBackward(algorithm, saved: op.backwardFromOutput ? y : x, probe)
            let numeric = numericGradient(x, step: 1e-2) { probeLoss(op.runForward(algorithm, $0), probe) }
            let mismatch = gradientMismatch(analytic, numeric, absolute: 1e-3, relative: 1e-2)
            #expect(mismatch == nil, "\(op.name) \(algorithm): \(mismatch ?? "")")
        }
    }

    @Test func reluBackwardFromOutputEqualsFromInput() {
        let x = [Float].random(count: 333, seed: 3, in: -2...2)
        let dy = [Float].random(count: 333, seed: 4)
        let relu = activationCases[0], leaky = activationCases[1]
        for op in [relu, leaky] {
            let y = op.runForward(.simd, x)
            #expect(op.runBackward(.simd, saved: y, dy) == op.runBackward(.simd, saved: x, dy), "\(op.name)")
        }
    }
}

/// Softmax over channels of [N, C, plane].
struct SoftmaxCase: Sendable, CustomTestStringConvertible {
    let n: Int, c: Int, plane: Int
    var count: Int { n * c * plane }
    var seed: UInt64 { UInt64(n * 1000 + c * 10 + plane) }
    var testDescription: String { "N\(n) C\(c) plane \(plane)" }
}

let softmaxCases: [SoftmaxCase] = [
    SoftmaxCase(n: 1, c: 1, plane: 1), SoftmaxCase(n: 1, c: 10, plane: 1), SoftmaxCase(n: 3, c: 16, plane: 1),
    SoftmaxCase(n: 5, c: 17, plane: 1), SoftmaxCase(n: 2, c: 1000, plane: 1), SoftmaxCase(n: 2, c: 3, plane: 5),
    SoftmaxCase(n: 1, c: 21, plane: 33), SoftmaxCase(n: 3, c: 4, plane: 16), SoftmaxCase(n: 2, c: 7, plane: 49),
]

func softmaxForward(_ s: SoftmaxCase, _ algorithm: ActivationAlgorithm, _ x: [Float], context: ComputeContext = .serial) -> [Float] {
    var y = [Float].poisoned(count: x.count)
    x.withUnsafeBufferPointer { x in
        y.withUnsafeMutableBufferPointer { y in
            SoftmaxKernel.forward(algorithm: algorithm, batch: s.n, channels: s.c, plane: s.plane, input: x, output: y, context: context)
        }
    }
    return y
}

func softmaxBackward(_ s: SoftmaxCase, _ algorithm: ActivationAlgorithm, _ y: [Float], _ dy: [Float],
                     context: ComputeContext = .serial) -> [Float] {
    var dx = [Float].poisoned(count: y.count)
    y.withUnsafeBufferPointer { y in
        dy.withUnsafeBufferPointer { dy in
            dx.withUnsafeMutableBufferPointer { dx in
                SoftmaxKernel.backward(algorithm: algorithm, batch: s.n, channels: s.c, plane: s.plane, output: y,
                                       outputGradient: dy, inputGradient: dx, context: context)
            }
        }
    }
    return dx
}

@Suite struct SoftmaxTests {
    /// Each probability is e_c / Σ e: the exps differ by ≤ 1.5 ulp (VectorMath) + 1 ulp (libm),
    /// the sums by the rounding of C terms summed in another order (≤ 2·C·ε relative), and the
    /// division adds 1 ulp: tolerance (4 + 2·C)·ε·|y|. Backward: dx = y·(dy − Σ dy·y) with the dot
    /// product in another order: 2·C·ε·Σ|dy·y| scaled by y, plus the forward tolerance.
    @Test(arguments: softmaxCases)
    func simdMatchesNaive(_ s: SoftmaxCase) {
        let x = [Float].random(count: s.count, seed: s.seed, in: -8...8)
        let dy = [Float].random(count: s.count, seed: s.seed + 1)
        let y0 = softmaxForward(s, .naive, x)
        #expect(!y0.contains { $0.isNaN }, "naive left an output unwritten")
        let dx0 = softmaxBackward(s, .naive, y0, dy)
        let dyMagnitude = dy.map { abs($0) }
        var previous: ([Float], [Float])? = nil
        for context in testContexts {
            let y = softmaxForward(s, .simd, x, context: context)
            let m1 = firstMismatch(y, y0) { Float(4 + 2 * s.c) * Float.ulpOfOne * y0[$0] + 1e-30 }
            #expect(m1 == nil, "forward \(context), seed \(s.seed): \(m1?.description ?? "")")
            let dx = softmaxBackward(s, .simd, y0, dy, context: context)
            let m2 = firstMismatch(dx, dx0) { i in
                let dotMagnitude = (0..<s.c).reduce(Float(0)) { sum, c in
                    let j = (i / (s.c * s.plane)) * s.c * s.plane + c * s.plane + i % s.plane
                    return sum + dyMagnitude[j] * y0[j]
                }
                return 2 * Float(s.c) * Float.ulpOfOne * y0[i] * (dotMagnitude + dyMagnitude[i]) + 1e-30
            }
            #expect(m2 == nil, "backward \(context), seed \(s.seed): \(m2?.description ?? "")")
            if let (py, pdx) = previous { #expect(identical(py, y) && identical(pdx, dx), "serial and split differ") }
            previous = (y, dx)
        }
    }

    /// Logits of ±1e4 stay finite and each column sums to 1.
    @Test(arguments: ActivationAlgorithm.allCases)
    func hugeLogitsStayFiniteAndSumToOne(_ algorithm: ActivationAlgorithm) {
        let s = SoftmaxCase(n: 2, c: 19, plane: 3)
        var x = [Float].random(count: s.count, seed: 77, in: -1e4...1e4)
        x[0] = 1e4; x[1] = -1e4; x[5] = 1e4
        let y = softmaxForward(s, algorithm, x, context: splittingContext)
        #expect(y.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
        for n in 0..<s.n {
            for p in 0..<s.plane {
                let total = (0..<s.c).reduce(Float(0)) { $0 + y[n * s.c * s.plane + $1 * s.plane + p] }
                #expect(abs(total - 1) <= Float(s.c) * Float.ulpOfOne, "column (\(n), \(p)) sums to \(total)")
            }
        }
    }

    @Test(arguments: ActivationAlgorithm.allCases)
    func nanMakesItsColumnNaN(_ algorithm: ActivationAlgorithm) {
        let s = SoftmaxCase(n: 2, c: 20, plane: 1)
        var x = [Float].random(count: s.count, seed: 8)
        x[25] = .nan                                                    // row 1
        let y = softmaxForward(s, algorithm, x)
        #expect(y[0..<20].allSatisfy { !$0.isNaN } && y[20..<40].allSatisfy { $0.isNaN })
    }

    @Test(arguments: ActivationAlgorithm.allCases)
    func inPlaceMatchesOutOfPlace(_ algorithm: ActivationAlgorithm) {
        for s in [softmaxCases[3], softmaxCases[6]] {
            let x = [Float].random(count: s.count, seed: s.seed, in: -5...5)
            let y = softmaxForward(s, algorithm, x)
            var inPlace = x
            inPlace.withUnsafeMutableBufferPointer { b in
                SoftmaxKernel.forward(algorithm: algorithm, batch: s.n, channels: s.c, plane: s.plane,
                                      input: UnsafeBufferPointer(b), output: b, context: .serial)
            }
            #expect(identical(inPlace, y), "\(s.testDescription)")
        }
    }

    /// Central differences of Σ probe·softmax(x) in the logits (step 1e-2; smooth, so the
    /// truncation error is ≈ 1e-5; tolerance 1e-3 absolute + 1e-2 relative).
    @Test(arguments: ActivationAlgorithm.allCases)
    func backwardMatchesFiniteDifferences(_ algorithm: ActivationAlgorithm) {
        for s in [SoftmaxCase(n: 3, c: 5, plane: 4), SoftmaxCase(n: 2, c: 17, plane: 1)] {
            let x = [Float].random(count: s.count, seed: s.seed, in: -2...2)
            let probe = [Float].random(count: s.count, seed: s.seed + 5)
            let analytic = softmaxBackward(s, algorithm, softmaxForward(s, algorithm, x), probe)
            let numeric = numericGradient(x, step: 1e-2) { probeLoss(softmaxForward(s, algorithm, $0), probe) }
            let mismatch = gradientMismatch(analytic, numeric, absolute: 1e-3, relative: 1e-2)
            #expect(mismatch == nil, "\(s.testDescription) \(algorithm): \(mismatch ?? "")")
        }
    }
}
