import ConvKit
import Testing
import _ConvKitTestSupport

/// The deterministic inputs of ``TorchReference``: element i of `gen(shape, m, q, o, d)` is
/// `((i·m) mod q − o) / d` (exact in Float), the Python script's `gen`.
func gen(_ shape: Shape, _ m: Int = 37, _ q: Int = 23, _ o: Int = 11, _ d: Float = 8) -> Tensor {
    Tensor(shape: shape, repeating: 0).replacingScalars((0..<shape.count).map { Float((($0 * m) % q) - o) / d })
}

/// The probe `dy` of the reference's backward passes (the script's `probe`).
func probe(_ shape: Shape) -> Tensor { gen(shape, 29, 17, 8, 4) }

/// `|a − b| ≤ tolerance · (1 + |b|)` element-wise, with the first failures named.
func expectClose(_ actual: [Float], _ expected: [Float], _ tolerance: Float, _ what: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(what): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
    let bad = zip(actual, expected).enumerated().filter { !(abs($1.0 - $1.1) <= tolerance * (1 + abs($1.1))) }
    #expect(bad.isEmpty, "\(what): \(bad.count) values differ, first \(bad.prefix(3).map { "[\($0.offset)] \($0.element.0) vs \($0.element.1)" })",
            sourceLocation: sourceLocation)
}

let twoThreads = ComputeContext(threads: 2, minimumElementsPerThread: 1)

/// ReLU6, Hardswish, Hardsigmoid, SiLU, GELU (both forms), Identity: values and gradients
/// (kinks included) against PyTorch, naive against simd, thread counts, finite differences.
@Suite struct ModernActivationTests {
    static let x = Tensor([-4, -3, -2.5, -1, -0.5, 0, 0.5, 1, 2.5, 3, 4, 6, 7])

    static func layers(_ algorithm: ActivationAlgorithm) -> [(String, any Layer, [Float], [Float])] {
        [("ReLU6", ReLU6(algorithm: algorithm), TorchReference.relu6Y, TorchReference.relu6Dx),
         ("Hardswish", Hardswish(algorithm: algorithm), TorchReference.hardswishY, TorchReference.hardswishDx),
         ("Hardsigmoid", Hardsigmoid(algorithm: algorithm), TorchReference.hardsigmoidY, TorchReference.hardsigmoidDx),
         ("SiLU", SiLU(algorithm: algorithm), TorchReference.siluY, TorchReference.siluDx),
         ("GELU", GELU(algorithm: algorithm), TorchReference.geluY, TorchReference.geluDx),
         ("GELU tanh", GELU(approximation: .tanh, algorithm: algorithm), TorchReference.geluTanhY, TorchReference.geluTanhDx)]
    }

    /// Tolerance 2e-6 relative: the SIMD exp/tanh/sigmoid are within 3 ulp and the erfc fit
    /// within 1.2e-7; PyTorch's own GELU loses digits for negative x (1 + erf cancels), which
    /// the tolerance's `1 +` absorbs.
    @Test(arguments: ActivationAlgorithm.allCases)
    func valuesAndKinkGradientsMatchPyTorch(algorithm: ActivationAlgorithm) throws {
        for (name, layer, y, dx) in Self.layers(algorithm) {
            let (out, cache) = try layer.forward(Self.x, context: .serial)
            expectClose(out.scalars, y, 2e-6, "\(name) forward")
            let ones = Tensor(shape: Self.x.shape, repeating: 1)
            expectClose(try layer.backwardErased(ones, cache: cache).scalars, dx, 2e-6, "\(name) backward")
        }
        let (y, cache) = try Identity().forward(Self.x, context: .serial)
        let back = try Identity().backward(y, cache: cache, context: .serial).inputGradient
        #expect(y == Self.x && back == Self.x)
    }

    /// 40,003 values (SIMD body and tail): simd gives the same bits at 1 and 2 threads, and
    /// agrees with naive to a few ulp.
    @Test func threadCountsAndNaiveReference() throws {
        let x = randomTensor([40_003], seed: 501, in: -8...8), dy = randomTensor([40_003], seed: 502)
        for ((name, simd, _, _), (_, naive, _, _)) in zip(Self.layers(.simd), Self.layers(.naive)) {
            let (one, c1) = try simd.forward(x, context: .serial)
            let (two, c2) = try simd.forward(x, context: twoThreads)
            #expect(one == two, "\(name) forward depends on the thread count")
            #expect(try simd.backwardErased(dy, cache: c1) == simd.backwardErased(dy, cache: c2, context: twoThreads),
                    "\(name) backward depends on the thread count")
            let (reference, cn) = try naive.forward(x, context: .serial)
            expectClose(one.scalars, reference.scalars, 2e-6, "\(name) simd vs naive forward")
            expectClose(try simd.backwardErased(dy, cache: c1).scalars, try naive.backwardErased(dy, cache: cn).scalars, 2e-6,
                        "\(name) simd vs naive backward")
        }
    }

    /// Finite differences (step 1e-2, see NonlinearLayerGradientTests), inputs within 2h of a
    /// kink skipped.
    @Test(arguments: ActivationAlgorithm.allCases)
    func gradientsByFiniteDifferences(algorithm: ActivationAlgorithm) throws {
        let x = randomTensor([3, 41], seed: 503, in: -5...8)
        let kinks: [Float] = [-3, 0, 3, 6]
        var check = GradientCheck(step: 1e-2, tolerance: 5e-3)
        let values = x.scalars
        check.skipInput = { j in kinks.contains { abs(values[j] - $0) < 2e-2 } }
        for (name, layer, _, _) in Self.layers(algorithm) {
            let failures = try check.runErased(layer, input: x, seed: 504)
            #expect(failures.isEmpty, "\(name): \(failures.prefix(5))")
        }
    }
}

extension Layer {
    /// `backward` returning only the input gradient (for tests over `any Layer`).
    func backwardErased(_ dy: Tensor, cache: Any, context: ComputeContext = .serial) throws -> Tensor {
        guard let cache = cache as? Cache else { throw ShapeError(.mismatch, "cache of another layer") }
        return try backward(dy, cache: cache, context: context).inputGradient
    }
}

extension GradientCheck {
    func runErased(_ layer: any Layer, input: Tensor, seed: UInt64) throws -> [String] {
        func open<L: Layer>(_ l: L) throws -> [String] { try run(l, input: input, seed: seed) }
        return try open(layer)
    }
}

/// L1, smooth L1, Huber and binary cross-entropy with logits against PyTorch; thread counts;
/// finite differences; errors.
@Suite struct PointwiseLossTests {
    static let p = gen([3, 5]), t = gen([3, 5], 11, 7, 3, 2)

    static func losses(_ a: ActivationAlgorithm, _ context: ComputeContext = .serial)
        -> [(String, (Tensor, Tensor) throws -> (loss: Float, gradient: Tensor))] {
        [("l1", { try Loss.l1(prediction: $0, target: $1, algorithm: a, context: context) }),
         ("smoothL1", { try Loss.smoothL1(prediction: $0, target: $1, algorithm: a, context: context) }),
         ("smoothL1 beta 0.5", { try Loss.smoothL1(prediction: $0, target: $1, beta: 0.5, algorithm: a, context: context) }),
         ("huber delta 2", { try Loss.huber(prediction: $0, target: $1, delta: 2, algorithm: a, context: context) }),
         ("huber delta 0.5", { try Loss.huber(prediction: $0, target: $1, delta: 0.5, algorithm: a, context: context) }),
         ("bce", { try Loss.binaryCrossEntropyWithLogits(logits: $0, target: $1, algorithm: a, context: context) })]
    }

    @Test(arguments: ActivationAlgorithm.allCases)
    func valuesMatchPyTorch(algorithm: ActivationAlgorithm) throws {
        let expected: [(Float, [Float])] = [(TorchReference.l1Loss, TorchReference.l1Grad),
                                            (TorchReference.smoothL1Loss, TorchReference.smoothL1Grad),
                                            (TorchReference.smoothL1b05Loss, TorchReference.smoothL1b05Grad),
                                            (TorchReference.huber2Loss, TorchReference.huber2Grad),
                                            (TorchReference.huber05Loss, TorchReference.huber05Grad),
                                            (TorchReference.bceLoss, TorchReference.bceGrad)]
        let bceLogits = Tensor(shape: Self.p.shape, repeating: 0).replacingScalars(Self.p.scalars.map { $0 * 8 })
        let bceTargets = gen([3, 5], 5, 3, 0, 2)   // 0, ½ and 1
        for ((name, loss), (value, gradient)) in zip(Self.losses(algorithm), expected) {
            let (l, g) = name == "bce" ? try loss(bceLogits, bceTargets) : try loss(Self.p, Self.t)
            #expect(abs(l - value) <= 1e-6 * (1 + abs(value)), "\(name): loss \(l), PyTorch \(value)")
            expectClose(g.scalars, gradient, 1e-6, "\(name) gradient")
        }
        // beta = 0 is the L1 loss, gradient 0 where p = t (PyTorch).
        let (l0, g0) = try Loss.smoothL1(prediction: Self.p, target: Self.t, beta: 0, algorithm: algorithm)
        #expect(l0 == TorchReference.l1Loss || abs(l0 - TorchReference.l1Loss) < 1e-6)
        expectClose(g0.scalars, TorchReference.l1Grad, 1e-6, "smooth L1 with beta 0")
    }

    /// 50,001 elements: the loss and gradient have the same bits at 1 and 2 threads; naive agrees.
    @Test func threadCountsAndNaiveReference() throws {
        let p = randomTensor([50_001], seed: 511, in: -6...6), t = randomTensor([50_001], seed: 512, in: 0...1)
        for ((name, serial), ((_, parallel), (_, naive))) in zip(Self.losses(.simd), zip(Self.losses(.simd, twoThreads), Self.losses(.naive))) {
            let a = try serial(p, t), b = try parallel(p, t), c = try naive(p, t)
            #expect(a.loss == b.loss && a.gradient == b.gradient, "\(name) depends on the thread count")
            #expect(abs(a.loss - c.loss) <= 1e-5 * (1 + abs(c.loss)), "\(name): simd \(a.loss), naive \(c.loss)")
            expectClose(a.gradient.scalars, c.gradient.scalars, 1e-5, "\(name) simd vs naive gradient")
        }
    }

    @Test func gradientsByFiniteDifferences() throws {
        let p = randomTensor([2, 13], seed: 513, in: -3...3), t = randomTensor([2, 13], seed: 514, in: 0...1)
        let h: Float = 1e-2
        for (name, loss) in Self.losses(.simd) {
            let (_, gradient) = try loss(p, t)
            for j in 0..<p.count {
                let d = abs(p[flat: j] - t[flat: j])
                // Skip the kinks of L1 (d = 0) and of the smooth losses' pieces (d = β or δ).
                if [0, 0.5, 1, 2].contains(where: { abs(d - $0) < 2 * h }) && name != "bce" { continue }
                var plus = p, minus = p
                plus[flat: j] += h; minus[flat: j] -= h
                let numeric = (Double(try loss(plus, t).loss) - Double(try loss(minus, t).loss)) / Double(2 * h)
                #expect(abs(numeric - Double(gradient[flat: j])) < 2e-4, "\(name) element \(j)")
            }
        }
    }

    @Test func badInputIsATypedError() throws {
        let a = Tensor.zeros([2, 3]), b = Tensor.zeros([3, 2])
        for (_, loss) in Self.losses(.simd) {
            #expect((#expect(throws: ShapeError.self) { try loss(a, b) })?.reason == .mismatch)
            #expect((#expect(throws: ShapeError.self) { try loss(Tensor.zeros([0]), Tensor.zeros([0])) })?.reason == .nonPositive)
        }
        #expect((#expect(throws: ShapeError.self) { try Loss.smoothL1(prediction: a, target: a, beta: -1) })?.reason == .invalidValue)
        #expect((#expect(throws: ShapeError.self) { try Loss.huber(prediction: a, target: a, delta: 0) })?.reason == .invalidValue)
        // Large logits stay finite (the stable form).
        let (l, g) = try Loss.binaryCrossEntropyWithLogits(logits: Tensor([-1e4, 1e4]), target: Tensor([1, 0]))
        #expect(l == 1e4 && g.scalars == [-0.5, 0.5])
    }
}
