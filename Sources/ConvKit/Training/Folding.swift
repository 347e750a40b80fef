extension Dense {
    /// One dense layer equal to applying `layers` in order (nothing non-linear between them):
    ///
    ///     y = W₂(W₁x + b₁) + b₂ = (W₂W₁)x + (W₂b₁ + b₂)
    ///
    /// folded left to right. `W₂W₁` is computed by ``DenseKernel/backwardData(_:algorithm:outputGradient:weight:inputGradient:context:)``
    /// (`dx = dy · W` with `dy = W₂`, `W = W₁`) and `W₂b₁ + b₂` by ``DenseKernel/forward(_:algorithm:input:weight:bias:output:context:)``
    /// on the one-row input `b₁`. Outputs agree with the unfolded chain up to float rounding
    /// (a different association order of the same products).
    ///
    /// - Throws: ``ShapeError`` `.invalidValue` for an empty list, `.mismatch` when a layer's
    ///   inputFeatures differ from the previous layer's outputFeatures.
    public static func folding(_ layers: [Dense], context: ComputeContext = .default) throws(ShapeError) -> Dense {
        guard var folded = layers.first else {
            throw ShapeError(.invalidValue, "Dense.folding needs at least one layer")
        }
        for (k, next) in layers.enumerated().dropFirst() {
            if next.inputFeatures != folded.outputFeatures {
                throw ShapeError(.mismatch,
                    "layer \(k) has weight \(next.weight.shape) but the previous layers output \(folded.outputFeatures) features")
            }
            folded = try fold(folded, then: next, context: context)
        }
        return folded
    }

    private static func fold(_ first: Dense, then second: Dense, context: ComputeContext) throws(ShapeError) -> Dense {
        let inner = first.outputFeatures, outer = second.outputFeatures, inputs = first.inputFeatures
        // W = W₂ · W₁  [outer, inputs]: backwardData with batch = outer rows of W₂.
        let product = try DenseGeometry(batch: outer, inputFeatures: inputs, outputFeatures: inner)
        var weight = scratch(outer * inputs)
        second.weight.withUnsafeBufferPointer { w2 in
            first.weight.withUnsafeBufferPointer { w1 in
                weight.withUnsafeMutableBufferPointer { w in
                    DenseKernel.backwardData(product, algorithm: .gemm, outputGradient: w2, weight: w1,
                                             inputGradient: w, context: context)
                }
            }
        }
        // b = W₂ · b₁ + b₂: a one-row forward pass.
        let row = try DenseGeometry(batch: 1, inputFeatures: inner, outputFeatures: outer)
        var bias = scratch(outer)
        first.bias.withUnsafeBufferPointer { b1 in
            second.weight.withUnsafeBufferPointer { w2 in
                second.bias.withUnsafeBufferPointer { b2 in
                    bias.withUnsafeMutableBufferPointer { b in
                        DenseKernel.forward(row, algorithm: .gemm, input: b1, weight: w2, bias: b2, output: b, context: context)
                    }
                }
            }
        }
        return try Dense(weight: Tensor(uncheckedShape: Shape([outer, inputs]), scalars: weight),
                         bias: Tensor(uncheckedShape: Shape([outer]), scalars: bias), algorithm: second.algorithm)
    }
}

extension Sequential {
    /// The same network with every run of two or more consecutive ``Dense`` layers replaced by
    /// its ``Dense/folding(_:context:)``. Other layers (activations, …) break runs and are kept.
    public func foldingDenseLayers(context: ComputeContext = .default) throws(ShapeError) -> Sequential {
        var result: [any Layer] = []
        var run: [Dense] = []
        func flush() throws(ShapeError) {
            if run.count == 1 { result.append(run[0]) }
            else if run.count > 1 { result.append(try Dense.folding(run, context: context)) }
            run = []
        }
        for layer in layers {
            if let dense = layer as? Dense { run.append(dense) } else { try flush(); result.append(layer) }
        }
        try flush()
        return Sequential(result)
    }
}
