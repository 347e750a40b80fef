import Foundation
import ConvKit
import Testing
import _ConvKitTestSupport

/// Activations, pooling and softmax: finite-difference gradient checks (step 1e-2 in Float,
/// loss accumulated in Double). Truncation error is O(h²·f''') ≈ 1e-4 and the rounding of L is
/// ≈ ε·Σ|y·p|/h ≈ 1e-4 for these sizes, so the tolerance is 5e-3 relative. Inputs within 2h of
/// a kink (ReLU at 0) are skipped; max-pooling inputs are distinct multiples of 0.05 (> 2h apart)
/// so that no perturbation changes a window's winner.
@Suite struct NonlinearLayerGradientTests {
    static let h: Float = 1e-2

    static func check(skipping input: Tensor? = nil) -> GradientCheck {
        var c = GradientCheck(step: h, tolerance: 5e-3)
        if let input {
            let values = input.scalars
            c.skipInput = { j in abs(values[j]) < 2 * h }
        }
        return c
    }

    @Test(arguments: ActivationAlgorithm.allCases)
    func relu(algorithm: ActivationAlgorithm) throws {
        let x = randomTensor([2, 3, 5, 5], seed: 101)  // 150 elements: SIMD main loop and tail
        let failures = try Self.check(skipping: x).run(ReLU(algorithm: algorithm), input: x, seed: 102)
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    @Test(arguments: ActivationAlgorithm.allCases)
    func leakyReLU(algorithm: ActivationAlgorithm) throws {
        let x = randomTensor([3, 37], seed: 103)
        let failures = try Self.check(skipping: x).run(try LeakyReLU(slope: 0.1, algorithm: algorithm), input: x, seed: 104)
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    @Test(arguments: ActivationAlgorithm.allCases)
    func sigmoidAndTanh(algorithm: ActivationAlgorithm) throws {
        let x = randomTensor([2, 41], seed: 105, in: -3...3)
        let s = try Self.check().run(Sigmoid(algorithm: algorithm), input: x, seed: 106)
        #expect(s.isEmpty, "\(s.prefix(5))")
        let t = try Self.check().run(Tanh(algorithm: algorithm), input: x, seed: 107)
        #expect(t.isEmpty, "\(t.prefix(5))")
    }

    @Test(arguments: ActivationAlgorithm.allCases)
    func softmax(algorithm: ActivationAlgorithm) throws {
        let logits = try Self.check().run(Softmax(algorithm: algorithm), input: randomTensor([3, 10], seed: 108, in: -2...2), seed: 109)
        #expect(logits.isEmpty, "\(logits.prefix(5))")
        let perPixel = try Self.check().run(Softmax(algorithm: algorithm), input: randomTensor([2, 4, 3, 3], seed: 110, in: -2...2), seed: 111)
        #expect(perPixel.isEmpty, "\(perPixel.prefix(5))")
        let y = try Softmax(algorithm: algorithm)(randomTensor([3, 10], seed: 108, in: -2...2))
        for n in 0..<3 {
            let sum = (0..<10).reduce(Float(0)) { $0 + y[flat: n * 10 + $1] }
            #expect(abs(sum - 1) < 1e-5)  // 10 terms of at most 1: 10·ε
        }
    }

    /// Distinct values k·0.05 (k = 0 ..< count) in a seeded random order.
    static func distinct(_ shape: Shape, seed: UInt64) -> Tensor {
        var rng = SplitMix64(seed: seed)
        var values = (0..<shape.count).map { Float($0) * 0.05 - 2 }
        values.shuffle(using: &rng)
        return Tensor(shape: shape, repeating: 0).replacingScalars(values)
    }

    @Test(arguments: PoolingAlgorithm.allCases)
    func maxPool(algorithm: PoolingAlgorithm) throws {
        // 2×2/2 (LeNet), 3×3/2 overlapping (AlexNet) with a ragged 9×7 input, and padding 1.
        for (window, stride, padding) in [(2, 2, 0), (3, 2, 0), (3, 2, 1)] {
            let layer = try MaxPool2D(window: window, stride: stride, padding: padding, algorithm: algorithm)
            let failures = try GradientCheck(step: Self.h, tolerance: 5e-3)
                .run(layer, input: Self.distinct([2, 2, 9, 7], seed: 112), seed: 113)
            #expect(failures.isEmpty, "window \(window) stride \(stride) padding \(padding): \(failures.prefix(5))")
        }
        // Inference (no indices) gives the training forward's maxima bit for bit.
        for (window, stride, padding) in [(2, 2, 0), (3, 2, 1)] {
            let layer = try MaxPool2D(window: window, stride: stride, padding: padding, algorithm: algorithm)
            let x = randomTensor([2, 3, 11, 9], seed: 116)
            #expect(try layer(x) == layer.forward(x, context: .serial).output)
        }
        let y = try MaxPool2D(window: 2, algorithm: algorithm)(try Tensor(shape: [1, 1, 2, 4], scalars: [1, 5, 2, 0, 3, 4, 8, 7]))
        #expect(y.scalars == [5, 8])
    }

    @Test(arguments: PoolingAlgorithm.allCases)
    func avgPool(algorithm: PoolingAlgorithm) throws {
        for (window, stride, padding, countPadding) in [(2, 2, 0, true), (3, 2, 1, true), (3, 2, 1, false)] {
            let layer = try AvgPool2D(window: window, stride: stride, padding: padding, countPadding: countPadding, algorithm: algorithm)
            // Average pooling is linear: exact differences, step 0.5 (see LinearLayerGradientTests).
            let failures = try GradientCheck(step: 0.5, tolerance: 2e-3).run(layer, input: randomTensor([2, 3, 9, 7], seed: 114), seed: 115)
            #expect(failures.isEmpty, "window \(window) stride \(stride) padding \(padding): \(failures.prefix(5))")
        }
        let y = try AvgPool2D(window: 2, algorithm: algorithm)(try Tensor(shape: [1, 1, 2, 4], scalars: [1, 5, 2, 0, 3, 4, 8, 6]))
        #expect(y.scalars == [3.25, 4])
    }

    @Test func poolingShapeErrors() throws {
        let pool = try MaxPool2D(window: 2)
        let rank = #expect(throws: ShapeError.self) { try pool(Tensor.zeros([1, 4, 4])) }
        #expect(rank?.message == "MaxPool2D input must have rank 4 ([batch, channels, height, width]), got shape [1, 4, 4]")
        let small = #expect(throws: ShapeError.self) { try AvgPool2D(window: 3)(Tensor.zeros([1, 1, 2, 2])) }
        #expect(small?.reason == .kernelTooLarge)
        let (_, cache) = try pool.forward(Tensor.zeros([1, 1, 4, 4]), context: .serial)
        let gradient = #expect(throws: ShapeError.self) { try pool.backward(Tensor.zeros([1, 1, 3, 2]), cache: cache, context: .serial) }
        #expect(gradient?.message == "MaxPool2D output gradient has shape [1, 1, 3, 2], expected [1, 1, 2, 2]")
        let slope = #expect(throws: ShapeError.self) { try LeakyReLU(slope: -1) }
        #expect(slope?.reason == .invalidValue)
        let relu = #expect(throws: ShapeError.self) {
            try ReLU().backward(Tensor.zeros([3]), cache: Tensor.zeros([4]), context: .serial)
        }
        #expect(relu?.message == "ReLU output gradient has shape [3], expected [4]")
    }
}

@Suite struct LossTests {
    @Test func softmaxCrossEntropyGradientByFiniteDifferences() throws {
        let logits = randomTensor([4, 7], seed: 121, in: -3...3)
        let labels = [0, 6, 3, 3]
        let (loss, gradient) = try Loss.softmaxCrossEntropy(logits: logits, labels: labels)
        // Reference loss in Double: mean of log Σ e^x − x[label].
        var expected = 0.0
        for n in 0..<4 {
            let row = (0..<7).map { Double(logits[flat: n * 7 + $0]) }
            expected += log(row.map { exp($0) }.reduce(0, +)) - row[labels[n]]
        }
        expected /= 4
        #expect(abs(Double(loss) - expected) < 1e-5)  // a few ulps of a value ≈ 2
        let h: Float = 1e-2
        for j in 0..<logits.count {
            var plus = logits, minus = logits
            plus[flat: j] += h; minus[flat: j] -= h
            let numeric = (Double(try Loss.softmaxCrossEntropy(logits: plus, labels: labels).loss)
                - Double(try Loss.softmaxCrossEntropy(logits: minus, labels: labels).loss)) / Double(2 * h)
            // Loss rounding ε·2/h ≈ 2e-5 plus truncation h²·f'''/6 ≈ 2e-5.
            #expect(abs(numeric - Double(gradient[flat: j])) < 2e-4, "logit \(j)")
        }
    }

    @Test func meanSquaredErrorByHand() throws {
        let p = try Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        let t = try Tensor(shape: [2, 2], scalars: [1, 0, 3, 1])
        let (loss, gradient) = try Loss.meanSquaredError(prediction: p, target: t)
        // ((0)² + 2² + 0² + 3²) / 4 = 13/4; gradient 2(p − t)/4.
        #expect(loss == 3.25)
        #expect(gradient.scalars == [0, 1, 0, 1.5])
    }

    @Test func labelsAndShapesAreValidated() throws {
        let logits = Tensor.zeros([2, 3])
        let label = #expect(throws: ShapeError.self) { try Loss.softmaxCrossEntropy(logits: logits, labels: [0, 3]) }
        #expect(label?.reason == .invalidValue)
        #expect(label?.message == "softmax cross-entropy: label 1 is 3, expected 0..<3")
        let negative = #expect(throws: ShapeError.self) { try Loss.softmaxCrossEntropy(logits: logits, labels: [-1, 0]) }
        #expect(negative?.reason == .invalidValue)
        let count = #expect(throws: ShapeError.self) { try Loss.softmaxCrossEntropy(logits: logits, labels: [0]) }
        #expect(count?.message == "softmax cross-entropy: logits of shape [2, 3] need 2 labels, got 1")
        let mse = #expect(throws: ShapeError.self) { try Loss.meanSquaredError(prediction: logits, target: Tensor.zeros([3, 2])) }
        #expect(mse?.message == "mean squared error target has shape [3, 2], expected [2, 3]")
    }
}

extension Tensor {
    /// Same shape, new scalars (test helper).
    func replacingScalars(_ values: [Float]) -> Tensor {
        do { return try Tensor(shape: shape, scalars: values) } catch { preconditionFailure("\(error)") }
    }
}

@Suite struct EmptyTensorTests {
    /// Empty batches: element-wise layers return empty tensors; layers whose geometry needs a
    /// batch >= 1 throw `.nonPositive`; nothing traps.
    @Test func emptyBatches() throws {
        let empty = Tensor.zeros([0, 3, 4, 4])
        for layer in [ReLU(), Sigmoid(), Tanh(), try LeakyReLU()] as [any Layer] {
            let (y, cache) = try openForwardForTest(layer, empty)
            #expect(y.shape == empty.shape)
            #expect(try openBackwardForTest(layer, y, cache).shape == empty.shape)
        }
        #expect(try Softmax()(empty).shape == empty.shape)
        #expect(try Flatten()(empty).shape == [0, 0])
        var rng = SplitMix64(seed: 141)
        let conv = try Conv2D(inputChannels: 3, outputChannels: 2, kernelSize: 3, using: &rng)
        #expect((#expect(throws: ShapeError.self) { try conv(empty) })?.reason == .nonPositive)
        #expect((#expect(throws: ShapeError.self) { try MaxPool2D(window: 2)(empty) })?.reason == .nonPositive)
        let dense = try Dense(inputFeatures: 3, outputFeatures: 2, using: &rng)
        #expect((#expect(throws: ShapeError.self) { try dense(Tensor.zeros([0, 3])) })?.reason == .nonPositive)
        #expect((#expect(throws: ShapeError.self) { try Loss.softmaxCrossEntropy(logits: Tensor.zeros([0, 3]), labels: []) })?.reason == .nonPositive)
    }

    private func openForwardForTest<L: Layer>(_ layer: L, _ x: Tensor) throws -> (Tensor, any Sendable) {
        let (y, c) = try layer.forward(x, context: .serial)
        return (y, c)
    }

    private func openBackwardForTest<L: Layer>(_ layer: L, _ dy: Tensor, _ cache: any Sendable) throws -> Tensor {
        guard let c = cache as? L.Cache else { throw ShapeError(.invalidValue, "cache type") }
        return try layer.backward(dy, cache: c, context: .serial).inputGradient
    }
}
