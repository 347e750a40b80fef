/// Loss functions at the API level: they validate shapes and labels (throwing), then call the
/// fused loss-and-gradient kernels. Both return the **mean** loss and its gradient.
public enum Loss {
    /// Softmax cross-entropy of `logits` `[batch, classes]` against class indices `labels`:
    ///
    ///     loss = (1/N) Σ_n ( log Σ_k e^(x[n,k]) − x[n, label[n]] )
    ///     dloss/dx[n,k] = (softmax(x[n,:])[k] − [k == label[n]]) / N
    ///
    /// (PyTorch's `F.cross_entropy` with mean reduction.)
    ///
    /// - Throws: ``ShapeError`` `.mismatch` unless `logits` is rank 2 with one row per label,
    ///   `.invalidValue` for a label outside `0 ..< classes` (naming the first one).
    public static func softmaxCrossEntropy(
        logits: Tensor, labels: [Int], algorithm: ActivationAlgorithm = .simd, context: ComputeContext = .default
    ) throws(ShapeError) -> (loss: Float, gradient: Tensor) {
        try ShapeCheck.rank(logits.shape, 2, "softmax cross-entropy logits", layout: "[batch, classes]")
        let batch = logits.shape[0], classes = logits.shape[1]
        if labels.count != batch {
            throw ShapeError(.mismatch, "softmax cross-entropy: logits of shape \(logits.shape) need \(batch) labels, got \(labels.count)")
        }
        if batch < 1 || classes < 1 {
            throw ShapeError(.nonPositive, "softmax cross-entropy: logits of shape \(logits.shape) are empty")
        }
        var indices = [Int32](repeating: 0, count: batch)
        for (n, label) in labels.enumerated() {
            if label < 0 || label >= classes {
                throw ShapeError(.invalidValue, "softmax cross-entropy: label \(n) is \(label), expected 0..<\(classes)")
            }
            indices[n] = Int32(label)
        }
        var gradient = scratch(logits.count)
        let loss = logits.withUnsafeBufferPointer { x in
            indices.withUnsafeBufferPointer { k in
                gradient.withUnsafeMutableBufferPointer { g in
                    SoftmaxCrossEntropyKernel.lossAndGradient(algorithm: algorithm, batch: batch, classes: classes,
                                                              logits: x, labels: k, logitsGradient: g, context: context)
                }
            }
        }
        return (loss, Tensor(uncheckedShape: logits.shape, scalars: gradient))
    }

    /// Mean squared error over all elements:
    ///
    ///     loss = (1/M) Σ_i (p_i − t_i)²          dloss/dp_i = 2 (p_i − t_i) / M
    ///
    /// - Throws: ``ShapeError`` `.mismatch` naming both shapes when they differ, `.nonPositive`
    ///   for empty tensors.
    public static func meanSquaredError(
        prediction: Tensor, target: Tensor, algorithm: ActivationAlgorithm = .simd, context: ComputeContext = .default
    ) throws(ShapeError) -> (loss: Float, gradient: Tensor) {
        try ShapeCheck.equal(target.shape, prediction.shape, "mean squared error target")
        if prediction.count < 1 {
            throw ShapeError(.nonPositive, "mean squared error: prediction of shape \(prediction.shape) is empty")
        }
        var gradient = scratch(prediction.count)
        let loss = prediction.withUnsafeBufferPointer { p in
            target.withUnsafeBufferPointer { t in
                gradient.withUnsafeMutableBufferPointer { g in
                    MeanSquaredErrorKernel.lossAndGradient(algorithm: algorithm, prediction: p, target: t,
                                                           predictionGradient: g, context: context)
                }
            }
        }
        return (loss, Tensor(uncheckedShape: prediction.shape, scalars: gradient))
    }
}
