extension Layer {
    /// One optimisation step of a classifier on a batch: forward in training mode
    /// (``ForwardMode/training(seed:)`` with `seed`), softmax cross-entropy against `labels`,
    /// backward, optimiser update, then the buffer updates of the forward pass (batch norms'
    /// running statistics, ``applyBufferUpdates(from:)``). Returns the batch's mean loss (before
    /// the update).
    ///
    /// `seed` draws the dropout masks: `nil` (the default) takes a fresh seed from the system's
    /// generator for each step, as PyTorch does without `manual_seed`; pass one per step
    /// (e.g. `seed: rng.next()`) for a reproducible run. Same seed, same step, at any thread count.
    ///
    /// With `checkFinite` (the default) the step refuses to update when the model's output, the
    /// loss or a parameter gradient holds a NaN or ±∞: it throws ``TrainingError/nonFinite(_:)``
    /// before the optimiser runs, so parameters, buffers and optimiser state are untouched, and the error
    /// names the first layer (in the order of computation) whose output, parameter gradient or
    /// input gradient is not finite, found by running the step again layer by layer. The check on
    /// the successful path is one vectorised scan of the output and the parameter gradients; a
    /// non-finite intermediate value that reaches neither (e.g. −∞ zeroed by a ReLU) is not reported.
    ///
    /// - Throws: ``TrainingError/shape(_:)`` for bad sizes or labels, ``TrainingError/nonFinite(_:)``.
    public mutating func trainStep<O: Optimizer>(
        input: Tensor, labels: [Int], optimizer: inout O, context: ComputeContext = .default, checkFinite: Bool = true,
        seed: UInt64? = nil
    ) throws(TrainingError) -> Float {
        var system = SystemRandomNumberGenerator()
        let mode = ForwardMode.training(seed: seed ?? system.next())
        let loss: Float, logits: Tensor, parameterGradients: [Tensor], cache: Cache
        do {
            let (output, forwardCache) = try forward(input, mode: mode, context: context)
            let (value, gradient) = try Loss.softmaxCrossEntropy(logits: output, labels: labels, context: context)
            (loss, logits, cache) = (value, output, forwardCache)
            parameterGradients = try self.parameterGradients(gradient, cache: cache, context: context)
        } catch {
            throw .shape(error)
        }
        if checkFinite && !(loss.isFinite && logits.isFinite && parameterGradients.allSatisfy(\.isFinite)) {
            let found: NonFiniteError
            do {
                found = try locateNonFinite(input: input, labels: labels, mode: mode, context: context, logits: logits, loss: loss,
                                            parameterGradients: parameterGradients)
            } catch {
                throw .shape(error)
            }
            throw .nonFinite(found)
        }
        do {
            try optimizer.update(&self, gradients: parameterGradients)
            try applyBufferUpdates(from: cache)
        } catch {
            throw .shape(error)
        }
        return loss
    }

    /// The slow path of the finite check: the step again with every layer's values checked.
    private func locateNonFinite(input: Tensor, labels: [Int], mode: ForwardMode, context: ComputeContext, logits: Tensor,
                                 loss: Float, parameterGradients: [Tensor]) throws(ShapeError) -> NonFiniteError {
        var probe = NonFiniteProbe(active: true)
        let (output, cache) = try probedForward(self, input, mode, context, &probe, path: "")
        if let found = probe.first { return found }
        let (value, gradient) = try Loss.softmaxCrossEntropy(logits: output, labels: labels, context: context)
        probe.checkLoss(value)
        if let found = probe.first { return found }
        _ = try probedBackward(self, gradient, cache, context, &probe, path: "")
        if let found = probe.first { return found }
        // Not seen again (the kernels are deterministic, so not expected): what the first run saw,
        // attributed to the whole model.
        let model = String(describing: Self.self)
        if !logits.isFinite {
            return NonFiniteError(stage: .output, layer: "", layerType: model, count: logits.nonFiniteCount, elementCount: logits.count)
        }
        let names = parameterNames
        if let i = parameterGradients.firstIndex(where: { !$0.isFinite }) {
            return NonFiniteError(stage: .parameterGradient, layer: "", layerType: model, tensor: i < names.count ? names[i] : "#\(i)",
                                  count: parameterGradients[i].nonFiniteCount, elementCount: parameterGradients[i].count)
        }
        return NonFiniteError(stage: .loss, layer: "", layerType: "", count: loss.isFinite ? 0 : 1, elementCount: 1)
    }

    /// Fraction of samples whose largest logit is at the label's index, evaluated in batches in
    /// evaluation mode (running statistics, no dropout). A sample whose logits hold a NaN or ±∞
    /// counts as wrong.
    ///
    /// - Throws: ``ShapeError`` when the model's output is not `[batch, classes]` or the label
    ///   count differs from the number of samples.
    public func accuracy(images: Tensor, labels: [Int], batchSize: Int = 256, context: ComputeContext = .default) throws(ShapeError) -> Double {
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
            logits.withUnsafeBufferPointer { y in
                for n in 0..<(end - start) {
                    let row = UnsafeBufferPointer(rebasing: y[(n * classes)..<((n + 1) * classes)])
                    if !NonFiniteScan.isFinite(row) { continue }  // a NaN row is wrong, not class 0
                    var best = 0
                    for k in 1..<max(1, classes) where row[k] > row[best] { best = k }
                    if best == labels[start + n] { correct += 1 }
                }
            }
            start = end
        }
        return Double(correct) / Double(labels.count)
    }
}
