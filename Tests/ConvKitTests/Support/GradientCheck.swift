import ConvKit
import _ConvKitTestSupport

/// Finite-difference gradient check of a layer through the scalar probe loss
///
///     L(x, θ) = Σ_i output_i · probe_i        (accumulated in Double)
///
/// whose gradient is exactly what `backward(probe)` returns. Central differences with `step`;
/// element j of a tensor passes when |analytic − numeric| <= tolerance · (1 + |numeric|).
/// Large tensors are sampled (at most `maxChecksPerTensor` evenly spaced elements) to keep the
/// suite fast. Returns human-readable failures (empty = pass).
struct GradientCheck: Sendable {
    var step: Float
    var tolerance: Double
    var maxChecksPerTensor = 48
    /// Input elements to skip (e.g. too close to a kink of ReLU or a max-pool tie).
    var skipInput: @Sendable (Int) -> Bool = { _ in false }
    var context = ComputeContext.serial
    /// The mode of every forward pass (analytic and numeric); training passes use the same seed,
    /// so dropout masks stay fixed while the input moves.
    var mode = ForwardMode.evaluation

    static func probeLoss(_ y: Tensor, _ probe: Tensor) -> Double {
        var s = 0.0
        for i in 0..<y.count { s += Double(y[flat: i]) * Double(probe[flat: i]) }
        return s
    }

    /// The output in ``mode`` (inference through `callAsFunction` in evaluation).
    func evaluate<L: Layer>(_ layer: L, _ x: Tensor) throws -> Tensor {
        mode.isTraining ? try layer.forward(x, mode: mode, context: context).output : try layer(x, context: context)
    }

    // Not optimised: Swift 6.3's CopyPropagation pass crashes ("over consume") on this
    // function's specialisation for Conv2D; a test helper loses nothing at -Onone.
    @_optimize(none)
    func run<L: Layer>(_ layer: L, input: Tensor, seed: UInt64) throws -> [String] {
        var rng = SplitMix64(seed: seed)
        let (y, cache) = try layer.forward(input, mode: mode, context: context)
        let probe = Tensor(shape: y.shape, uniformIn: -1...1, using: &rng)
        let (dx, dθ) = try layer.backward(probe, cache: cache, context: context)
        var failures: [String] = []
        if dx.shape != input.shape { failures.append("input gradient shape \(dx.shape) != \(input.shape)") }
        if dθ.count != layer.parameters.count { failures.append("\(dθ.count) parameter gradients for \(layer.parameters.count) parameters") }
        if !failures.isEmpty { return failures }

        func indices(_ count: Int) -> [Int] {
            if count <= maxChecksPerTensor { return Array(0..<count) }
            return (0..<maxChecksPerTensor).map { $0 * count / maxChecksPerTensor + (count / maxChecksPerTensor) / 2 }
        }
        // Input gradient.
        for j in indices(input.count) where !skipInput(j) {
            var plus = input, minus = input
            plus[flat: j] += step
            minus[flat: j] -= step
            let width = Double(plus[flat: j]) - Double(minus[flat: j])
            let numeric = (Self.probeLoss(try evaluate(layer, plus), probe)
                - Self.probeLoss(try evaluate(layer, minus), probe)) / width
            let analytic = Double(dx[flat: j])
            if abs(analytic - numeric) > tolerance * (1 + abs(numeric)) {
                failures.append("seed \(seed): d/dinput[\(j)] analytic \(analytic) numeric \(numeric)")
            }
        }
        // Parameter gradients.
        let names = layer.parameterNames
        for (k, parameter) in layer.parameters.enumerated() {
            for j in indices(parameter.count) {
                var plus = layer, minus = layer
                var up: Float = 0, down: Float = 0
                plus.updateParameters { i, p in if i == k { p[flat: j] += step; up = p[flat: j] } }
                minus.updateParameters { i, p in if i == k { p[flat: j] -= step; down = p[flat: j] } }
                let numeric = (Self.probeLoss(try evaluate(plus, input), probe)
                    - Self.probeLoss(try evaluate(minus, input), probe)) / (Double(up) - Double(down))
                let analytic = Double(dθ[k][flat: j])
                if abs(analytic - numeric) > tolerance * (1 + abs(numeric)) {
                    failures.append("seed \(seed): d/d\(names[k])[\(j)] analytic \(analytic) numeric \(numeric)")
                }
            }
        }
        return failures
    }
}

/// The element-wise square `y = x²` (`dx = 2x·dy`): a tiny non-linear layer for the Jacobian
/// test. Test-only, so it does its arithmetic inline.
struct Square: Layer {
    func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Tensor) {
        var y = input
        for i in 0..<y.count { y[flat: i] = input[flat: i] * input[flat: i] }
        return (y, input)
    }
    func backward(_ outputGradient: Tensor, cache: Tensor, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        if outputGradient.shape != cache.shape {
            throw ShapeError(.mismatch, "Square output gradient has shape \(outputGradient.shape), expected \(cache.shape)")
        }
        var dx = outputGradient
        for i in 0..<dx.count { dx[flat: i] = 2 * cache[flat: i] * outputGradient[flat: i] }
        return (dx, [])
    }
}

func randomTensor(_ shape: Shape, seed: UInt64, in range: ClosedRange<Float> = -1...1) -> Tensor {
    var rng = SplitMix64(seed: seed)
    return Tensor(shape: shape, uniformIn: range, using: &rng)
}
