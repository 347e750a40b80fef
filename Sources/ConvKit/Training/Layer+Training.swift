extension Layer {
    /// One optimisation step of a classifier on a batch: forward, softmax cross-entropy against
    /// `labels`, backward, optimiser update. Returns the batch's mean loss (before the update).
    public mutating func trainStep<O: Optimizer>(
        input: Tensor, labels: [Int], optimizer: inout O, context: ComputeContext = .serial
    ) throws(ShapeError) -> Float {
        let (logits, cache) = try forward(input, context: context)
        let (loss, gradient) = try Loss.softmaxCrossEntropy(logits: logits, labels: labels, context: context)
        let (_, parameterGradients) = try backward(gradient, cache: cache, context: context)
        try optimizer.update(&self, gradients: parameterGradients)
        return loss
    }

    /// Fraction of samples whose largest logit is at the label's index, evaluated in batches.
    ///
    /// - Throws: ``ShapeError`` when the model's output is not `[batch, classes]` or the label
    ///   count differs from the number of samples.
    public func accuracy(images: Tensor, labels: [Int], batchSize: Int = 256, context: ComputeContext = .serial) throws(ShapeError) -> Double {
        if images.shape.rank < 1 || images.shape[0] != labels.count {
            throw ShapeError(.mismatch, "accuracy: \(labels.count) labels for images of shape \(images.shape)")
        }
        if labels.isEmpty { return 0 }
        var correct = 0
        var start = 0
        while start < labels.count {
            let end = min(start + max(1, batchSize), labels.count)
            let logits = try self(images.samples(start..<end), context: context)
            try ShapeCheck.rank(logits.shape, 2, "classifier output", layout: "[batch, classes]")
            let classes = logits.shape[1]
            for n in 0..<(end - start) {
                var best = 0
                for k in 1..<max(1, classes) where logits[flat: n * classes + k] > logits[flat: n * classes + best] { best = k }
                if best == labels[start + n] { correct += 1 }
            }
            start = end
        }
        return Double(correct) / Double(labels.count)
    }
}
