/// The element-wise losses (L1, smooth L1, Huber, binary
/// cross-entropy with logits): each returns the **mean** loss over all elements and its gradient.
extension Loss {
    /// Mean absolute error (PyTorch's `L1Loss`): `loss = (1/M) Σ |p − t|`,
    /// `dloss/dp = sign(p − t) / M` (0 where `p = t`).
    ///
    /// - Throws: ``ShapeError`` `.mismatch` naming both shapes when they differ, `.nonPositive`
    ///   for empty tensors.
    public static func l1(
        prediction: Tensor, target: Tensor, algorithm: ActivationAlgorithm = .simd, context: ComputeContext = .serial
    ) throws(ShapeError) -> (loss: Float, gradient: Tensor) {
        try pointwise("L1 loss", prediction, target) { p, t, g in
            L1LossKernel.lossAndGradient(algorithm: algorithm, prediction: p, target: t, predictionGradient: g, context: context)
        }
    }

    /// Smooth L1 (PyTorch's `SmoothL1Loss(beta=1)`), with `d = p − t`:
    ///
    ///     ℓ = ½ d²/β  if |d| < β,   |d| − β/2  otherwise          (β = 0: |d|)
    ///     dℓ/dp = d/β if |d| ≤ β,   sign d     otherwise
    ///
    /// - Throws: as ``l1(prediction:target:algorithm:context:)``, and `.invalidValue` for a
    ///   negative or non-finite `beta`.
    public static func smoothL1(
        prediction: Tensor, target: Tensor, beta: Float = 1, algorithm: ActivationAlgorithm = .simd,
        context: ComputeContext = .serial
    ) throws(ShapeError) -> (loss: Float, gradient: Tensor) {
        if !(beta >= 0 && beta.isFinite) { throw ShapeError(.invalidValue, "smooth L1 beta must be finite and >= 0, got \(beta)") }
        return try pointwise("smooth L1 loss", prediction, target) { p, t, g in
            SmoothL1LossKernel.lossAndGradient(algorithm: algorithm, beta: beta, prediction: p, target: t,
                                               predictionGradient: g, context: context)
        }
    }

    /// Huber (PyTorch's `HuberLoss(delta=1)`), with `d = p − t`:
    ///
    ///     ℓ = ½ d²  if |d| < δ,   δ (|d| − δ/2)  otherwise        (= δ · smooth L1 with β = δ)
    ///     dℓ/dp = d if |d| ≤ δ,   δ · sign d      otherwise
    ///
    /// - Throws: as ``l1(prediction:target:algorithm:context:)``, and `.invalidValue` unless
    ///   `delta` is finite and > 0 (PyTorch requires a positive delta).
    public static func huber(
        prediction: Tensor, target: Tensor, delta: Float = 1, algorithm: ActivationAlgorithm = .simd,
        context: ComputeContext = .serial
    ) throws(ShapeError) -> (loss: Float, gradient: Tensor) {
        if !(delta > 0 && delta.isFinite) { throw ShapeError(.invalidValue, "Huber delta must be finite and > 0, got \(delta)") }
        return try pointwise("Huber loss", prediction, target) { p, t, g in
            HuberLossKernel.lossAndGradient(algorithm: algorithm, delta: delta, prediction: p, target: t,
                                            predictionGradient: g, context: context)
        }
    }

    /// Binary cross-entropy of `logits` against `target` probabilities (PyTorch's
    /// `BCEWithLogitsLoss`, no weights), in the stable form
    ///
    ///     ℓ = (1 − t)·x + max(−x, 0) + log(1 + e^(−|x|))       dℓ/dx = σ(x) − t
    ///
    /// (each divided by the element count). Targets are not checked to lie in [0, 1] (PyTorch
    /// does not either; soft labels are common).
    ///
    /// - Throws: as ``l1(prediction:target:algorithm:context:)``.
    public static func binaryCrossEntropyWithLogits(
        logits: Tensor, target: Tensor, algorithm: ActivationAlgorithm = .simd, context: ComputeContext = .serial
    ) throws(ShapeError) -> (loss: Float, gradient: Tensor) {
        try pointwise("binary cross-entropy", logits, target) { x, t, g in
            BinaryCrossEntropyWithLogitsKernel.lossAndGradient(algorithm: algorithm, logits: x, target: t,
                                                               logitsGradient: g, context: context)
        }
    }

    private static func pointwise(
        _ what: String, _ prediction: Tensor, _ target: Tensor,
        _ kernel: (UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) -> Float
    ) throws(ShapeError) -> (loss: Float, gradient: Tensor) {
        try ShapeCheck.equal(target.shape, prediction.shape, "\(what) target")
        if prediction.count < 1 {
            throw ShapeError(.nonPositive, "\(what): prediction of shape \(prediction.shape) is empty")
        }
        var gradient = scratch(prediction.count)
        let loss = prediction.withUnsafeBufferPointer { p in
            target.withUnsafeBufferPointer { t in gradient.withUnsafeMutableBufferPointer { kernel(p, t, $0) } }
        }
        return (loss, Tensor(uncheckedShape: prediction.shape, scalars: gradient))
    }
}
