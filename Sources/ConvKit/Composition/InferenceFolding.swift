// Inference folding: a trained model rewritten for evaluation with fewer passes over memory.
// Batch norm after a convolution becomes that convolution's filter scale and bias; a ReLU after
// a convolution becomes its fused activation. Layers that disappear are replaced by `Identity`,
// so every other key keeps its place.

extension Conv2D {
    /// This convolution followed by `norm` in evaluation mode, as one convolution:
    ///
    ///     s = γ / √(runningVariance + ε)     W'[o] = s[o] · W[o]     b'[o] = s[o] · (b[o] − runningMean[o]) + β[o]
    ///
    /// (`γ = 1`, `β = 0` without affine parameters). Outputs agree up to float rounding.
    ///
    /// - Throws: ``ShapeError`` `.mismatch` when `norm.channels` differs from ``outputChannels``;
    ///   `.invalidValue` when `norm` keeps no running statistics (it then normalises with each
    ///   batch's statistics, which no filter can hold) or this convolution has a fused activation.
    public func folding(_ norm: BatchNorm2D) throws(ShapeError) -> Conv2D {
        if norm.channels != outputChannels {
            throw ShapeError(.mismatch, "cannot fold a BatchNorm2D of \(norm.channels) channels into a Conv2D of \(outputChannels) outputs")
        }
        if !norm.tracksRunningStatistics {
            throw ShapeError(.invalidValue, "cannot fold a BatchNorm2D without running statistics into a Conv2D")
        }
        if activation != .identity {
            throw ShapeError(.invalidValue, "cannot fold a BatchNorm2D after a Conv2D's fused \(activation) activation")
        }
        let perChannel = filter.count / max(outputChannels, 1)
        var scaled = filter
        var shift = Tensor(shape: [outputChannels], repeating: 0)
        let mean = norm.runningMean.scalars, variance = norm.runningVariance.scalars
        let gamma = norm.isAffine ? norm.weight.scalars : [Float](repeating: 1, count: outputChannels)
        let beta = norm.isAffine ? norm.bias.scalars : [Float](repeating: 0, count: outputChannels)
        let b = bias?.scalars ?? [Float](repeating: 0, count: outputChannels)
        scaled.withUnsafeMutableBufferPointer { w in
            shift.withUnsafeMutableBufferPointer { t in
                for o in 0..<outputChannels {
                    let s = gamma[o] / (variance[o] + norm.epsilon).squareRoot()
                    for i in (o * perChannel)..<((o + 1) * perChannel) { w[i] *= s }
                    t[o] = s * (b[o] - mean[o]) + beta[o]
                }
            }
        }
        return try Conv2D(filter: scaled, bias: shift, stride: (strideHeight, strideWidth), padding: (paddingHeight, paddingWidth),
                          dilation: (dilationHeight, dilationWidth), groups: groups, algorithm: algorithm)
    }
}

/// The layer with its inference folding applied when it is a container (``Sequential``,
/// ``Graph``, ``UNet``); any other layer unchanged.
func foldedForInference(_ layer: any Layer) throws(ShapeError) -> any Layer {
    if let sequential = layer as? Sequential { return try sequential.foldedForInference() }
    if let graph = layer as? Graph { return try graph.foldedForInference() }
    if var unet = layer as? UNet {
        unet.graph = try unet.graph.foldedForInference()
        return unet
    }
    return layer
}

extension Sequential {
    /// The same network for inference (evaluation mode) with fewer passes over memory: every
    /// ``BatchNorm2D`` right after a ``Conv2D`` folded into it (``Conv2D/folding(_:)``), then
    /// every ``ReLU`` right after a ``Conv2D`` fused into it (``Conv2D/activation``), nested
    /// containers included. Removed layers become ``Identity`` (other keys unchanged); batch
    /// norms leave the parameter and buffer lists, so save checkpoints from the original model.
    /// Outputs agree with `self` in evaluation mode up to float rounding.
    public func foldedForInference() throws(ShapeError) -> Sequential {
        var out = self
        for i in out.layers.indices { out.layers[i] = try ConvKit.foldedForInference(out.layers[i]) }
        for i in out.layers.indices.dropLast() {
            guard let conv = out.layers[i] as? Conv2D, conv.activation == .identity,
                  let norm = out.layers[i + 1] as? BatchNorm2D, norm.tracksRunningStatistics else { continue }
            out.layers[i] = try conv.folding(norm)
            out.layers[i + 1] = Identity()
        }
        for i in out.layers.indices {
            guard var conv = out.layers[i] as? Conv2D, conv.activation == .identity else { continue }
            var j = i + 1
            while j < out.layers.count && out.layers[j] is Identity { j += 1 }
            guard j < out.layers.count, out.layers[j] is ReLU else { continue }
            conv.activation = .relu
            out.layers[i] = conv
            out.layers[j] = Identity()
        }
        return out
    }
}
