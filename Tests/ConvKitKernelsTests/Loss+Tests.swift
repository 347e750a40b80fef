import Foundation
import Testing
import _ConvKitTestSupport

func crossEntropy(_ algorithm: ActivationAlgorithm, batch: Int, classes: Int, _ logits: [Float], _ labels: [Int32],
                  context: ComputeContext = .serial) -> (loss: Float, gradient: [Float]) {
    var gradient = [Float].poisoned(count: logits.count)
    let loss = logits.withUnsafeBufferPointer { x in
        labels.withUnsafeBufferPointer { t in
            gradient.withUnsafeMutableBufferPointer { g in
                SoftmaxCrossEntropyKernel.lossAndGradient(algorithm: algorithm, batch: batch, classes: classes, logits: x,
                                                          labels: t, logitsGradient: g, context: context)
            }
        }
    }
    return (loss, gradient)
}

func crossEntropyLoss(_ algorithm: ActivationAlgorithm, batch: Int, classes: Int, _ logits: [Float], _ labels: [Int32]) -> Float {
    logits.withUnsafeBufferPointer { x in
        labels.withUnsafeBufferPointer { t in
            SoftmaxCrossEntropyKernel.lossAndGradient(algorithm: algorithm, batch: batch, classes: classes, logits: x,
                                                      labels: t, logitsGradient: nil, context: .serial)
        }
    }
}

func meanSquaredError(_ algorithm: ActivationAlgorithm, _ prediction: [Float], _ target: [Float],
                      context: ComputeContext = .serial) -> (loss: Float, gradient: [Float]) {
    var gradient = [Float].poisoned(count: prediction.count)
    let loss = prediction.withUnsafeBufferPointer { p in
        target.withUnsafeBufferPointer { t in
            gradient.withUnsafeMutableBufferPointer { g in
                MeanSquaredErrorKernel.lossAndGradient(algorithm: algorithm, prediction: p, target: t,
                                                       predictionGradient: g, context: context)
            }
        }
    }
    return (loss, gradient)
}

func labels(batch: Int, classes: Int, seed: UInt64) -> [Int32] {
    var rng = SplitMix64(seed: seed)
    return (0..<batch).map { _ in Int32(rng.next() % UInt64(classes)) }
}

/// Cross-entropy in `Double` from the definition: the reference for the loss value.
func crossEntropyReference(batch: Int, classes: Int, _ logits: [Float], _ labels: [Int32]) -> Double {
    var total = 0.0
    for n in 0..<batch {
        let row = logits[(n * classes)..<((n + 1) * classes)].map(Double.init)
        let m = row.max() ?? 0
        let lse = m + Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - m) })
        total += lse - row[Int(labels[n])]
    }
    return total / Double(batch)
}

@Suite struct CrossEntropyTests {
    static let shapes: [(batch: Int, classes: Int)] = [(1, 1), (1, 10), (4, 16), (7, 17), (3, 1000), (130, 10)]

    /// Loss: both algorithms within 1e-5 relative of the Double definition (log-sum-exp of C
    /// terms in Float: ≈ (C·ε + a few ulps of exp/log) relative, ≤ 1e-5 for C ≤ 1000 at these
    /// magnitudes). Gradient: p = e/Σe per element as in softmax: (4 + 2·C)·ε·p + ε/N absolute.
    @Test(arguments: 0..<shapes.count)
    func simdMatchesNaiveAndReference(_ index: Int) {
        let (batch, classes) = Self.shapes[index]
        let seed = UInt64(batch * 100 + classes)
        let x = [Float].random(count: batch * classes, seed: seed, in: -6...6)
        let t = labels(batch: batch, classes: classes, seed: seed + 1)
        let reference = crossEntropyReference(batch: batch, classes: classes, x, t)
        let (loss0, g0) = crossEntropy(.naive, batch: batch, classes: classes, x, t)
        #expect(!g0.contains { $0.isNaN }, "naive left a gradient unwritten")
        #expect(abs(Double(loss0) - reference) <= 1e-5 * max(1, abs(reference)), "naive loss \(loss0) vs \(reference)")
        var previous: (Float, [Float])? = nil
        for context in testContexts {
            let (loss, g) = crossEntropy(.simd, batch: batch, classes: classes, x, t, context: context)
            #expect(abs(Double(loss) - reference) <= 1e-5 * max(1, abs(reference)), "simd loss \(loss) vs \(reference), seed \(seed)")
            let mismatch = firstMismatch(g, g0) { i in
                Float(4 + 2 * classes) * Float.ulpOfOne * abs(g0[i]) + Float.ulpOfOne / Float(batch)
            }
            #expect(mismatch == nil, "gradient \(context), seed \(seed): \(mismatch?.description ?? "")")
            if let (pl, pg) = previous { #expect(pl == loss && identical(pg, g), "serial and split contexts differ") }
            previous = (loss, g)
        }
    }

    @Test func knownValue() {
        // Two classes with equal logits: loss = log 2, gradient (0.5 − onehot)/N.
        for algorithm in ActivationAlgorithm.allCases {
            let (loss, g) = crossEntropy(algorithm, batch: 2, classes: 2, [3, 3, -1, -1], [0, 1])
            #expect(abs(loss - Float(M_LN2)) <= 2 * Float.ulpOfOne, "\(algorithm): \(loss)")
            #expect(g == [-0.25, 0.25, 0.25, -0.25], "\(algorithm): \(g)")
        }
    }

    /// Logits of ±1e4 give a finite loss and gradient (the stable log-sum-exp).
    @Test(arguments: ActivationAlgorithm.allCases)
    func hugeLogitsStayFinite(_ algorithm: ActivationAlgorithm) {
        let batch = 3, classes = 21
        var x = [Float].random(count: batch * classes, seed: 44, in: -1e4...1e4)
        x[0] = 1e4; x[1] = -1e4; x[classes] = -1e4
        let t: [Int32] = [1, 0, 20]                                     // a −1e4 logit as the label: loss ≈ 2e4
        let (loss, g) = crossEntropy(algorithm, batch: batch, classes: classes, x, t, context: splittingContext)
        let reference = crossEntropyReference(batch: batch, classes: classes, x, t)
        #expect(loss.isFinite && g.allSatisfy { $0.isFinite })
        #expect(abs(Double(loss) - reference) <= 1e-5 * abs(reference), "\(loss) vs \(reference)")
        // Each gradient row sums to 0 (softmax sums to 1, minus the one-hot).
        for n in 0..<batch {
            let total = g[(n * classes)..<((n + 1) * classes)].reduce(0, +)
            #expect(abs(total) <= Float(classes) * Float.ulpOfOne, "row \(n) sums to \(total)")
        }
    }

    /// Central differences of the returned loss in the logits (step 1e-2, loss ~ 2 in Float:
    /// rounding ≈ 2.4e-7/2e-2 ≈ 1e-5; truncation ≈ 1e-5), tolerance 1e-3 absolute + 1e-2 relative.
    @Test(arguments: ActivationAlgorithm.allCases)
    func gradientMatchesFiniteDifferences(_ algorithm: ActivationAlgorithm) {
        let batch = 4, classes = 19
        let x = [Float].random(count: batch * classes, seed: 31, in: -3...3)
        let t = labels(batch: batch, classes: classes, seed: 32)
        let analytic = crossEntropy(algorithm, batch: batch, classes: classes, x, t).gradient
        let numeric = numericGradient(x, step: 1e-2) { Double(crossEntropyLoss(algorithm, batch: batch, classes: classes, $0, t)) }
        let mismatch = gradientMismatch(analytic, numeric, absolute: 1e-3, relative: 1e-2)
        #expect(mismatch == nil, "\(algorithm): \(mismatch ?? "")")
    }

    @Test(arguments: ActivationAlgorithm.allCases)
    func nanLogitGivesNaNLoss(_ algorithm: ActivationAlgorithm) {
        var x = [Float].random(count: 20, seed: 1)
        x[13] = .nan
        let (loss, g) = crossEntropy(algorithm, batch: 2, classes: 10, x, [0, 0])
        #expect(loss.isNaN && g[10..<20].allSatisfy { $0.isNaN } && g[0..<10].allSatisfy { !$0.isNaN })
    }
}

@Suite struct MeanSquaredErrorTests {
    /// Loss within 1e-6 relative of the naive Double sum (Float squares, Float lanes within
    /// 1024-element strips, Double across strips); gradient 2(p − t)/K is the same arithmetic,
    /// so bit-identical.
    @Test(arguments: [1, 15, 16, 17, 1000, 5000, 70_001])
    func simdMatchesNaive(count: Int) {
        let seed = UInt64(count)
        let p = [Float].random(count: count, seed: seed, in: -3...3)
        let t = [Float].random(count: count, seed: seed + 1, in: -3...3)
        let (loss0, g0) = meanSquaredError(.naive, p, t)
        let reference = zip(p, t).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) } / Double(count)
        #expect(abs(Double(loss0) - reference) <= 1e-6 * reference, "naive \(loss0) vs \(reference)")
        var previous: (Float, [Float])? = nil
        for context in testContexts {
            let (loss, g) = meanSquaredError(.simd, p, t, context: context)
            #expect(abs(Double(loss) - reference) <= 1e-6 * reference, "simd \(loss) vs \(reference), seed \(seed)")
            #expect(firstDifference(g, g0) == nil, "gradient \(context), seed \(seed): \(firstDifference(g, g0) ?? "")")
            if let (pl, pg) = previous { #expect(pl == loss && identical(pg, g), "serial and split contexts differ") }
            previous = (loss, g)
        }
    }

    @Test func knownValue() {
        for algorithm in ActivationAlgorithm.allCases {
            let (loss, g) = meanSquaredError(algorithm, [1, 2, 3, 4], [1, 0, 3, 8])
            #expect(loss == 5 && g == [0, 1, 0, -2], "\(algorithm): \(loss) \(g)")    // (0 + 4 + 0 + 16)/4
        }
    }

    /// The loss is quadratic: central differences are exact up to Float rounding of the loss.
    @Test(arguments: ActivationAlgorithm.allCases)
    func gradientMatchesFiniteDifferences(_ algorithm: ActivationAlgorithm) {
        let p = [Float].random(count: 37, seed: 61, in: -2...2)
        let t = [Float].random(count: 37, seed: 62, in: -2...2)
        let analytic = meanSquaredError(algorithm, p, t).gradient
        let numeric = numericGradient(p, step: 1e-2) { Double(meanSquaredError(algorithm, $0, t).loss) }
        let mismatch = gradientMismatch(analytic, numeric, absolute: 1e-4, relative: 1e-3)
        #expect(mismatch == nil, "\(algorithm): \(mismatch ?? "")")
    }
}
