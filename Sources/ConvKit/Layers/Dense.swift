/// Fully connected layer (PyTorch's `nn.Linear` layout).
///
///     input   x  [batch, inputFeatures]
///     weight  W  [outputFeatures, inputFeatures]
///     bias    b  [outputFeatures]
///     output  y  [batch, outputFeatures]
///
///     y = x · Wᵀ + b
///
/// The arithmetic is ``DenseKernel``'s (``algorithm``: naive loops or one GEMM per direction).
/// Inputs of higher rank must be flattened first (``Flatten``).
public struct Dense: Layer {
    /// `[outputFeatures, inputFeatures]`. Assigning another shape makes the next
    /// ``forward(_:context:)`` / ``backward(_:cache:context:)`` throw `.mismatch`.
    public var weight: Tensor
    /// `[outputFeatures]` (checked like ``weight``).
    public var bias: Tensor
    /// The kernel algorithm (default: GEMM).
    public let algorithm: DenseAlgorithm

    public let inputFeatures: Int
    public let outputFeatures: Int

    /// - Throws: ``ShapeError`` `.mismatch` when `weight` is not rank 2 or `bias` is not `[outputFeatures]`;
    ///   `.nonPositive` for an empty weight.
    public init(weight: Tensor, bias: Tensor, algorithm: DenseAlgorithm = .gemm) throws(ShapeError) {
        try ShapeCheck.rank(weight.shape, 2, "Dense weight", layout: "[outputFeatures, inputFeatures]")
        try ShapeCheck.equal(bias.shape, [weight.shape[0]], "Dense bias")
        _ = try DenseGeometry(batch: 1, inputFeatures: weight.shape[1], outputFeatures: weight.shape[0])
        self.weight = weight
        self.bias = bias
        self.inputFeatures = weight.shape[1]
        self.outputFeatures = weight.shape[0]
        self.algorithm = algorithm
    }

    /// A dense layer with weights drawn by `initializer` (fanIn = inputFeatures, fanOut = outputFeatures).
    public init(inputFeatures: Int, outputFeatures: Int, initializer: Initializer = .heNormal,
                algorithm: DenseAlgorithm = .gemm, using generator: inout some RandomNumberGenerator) throws(ShapeError) {
        let shape = try Shape([outputFeatures, inputFeatures])
        let w = try initializer.weight(shape: shape, fanIn: inputFeatures, fanOut: outputFeatures, using: &generator)
        let b = initializer.bias(count: outputFeatures, fanIn: inputFeatures, using: &generator)
        try self.init(weight: w, bias: b, algorithm: algorithm)
    }

    public var parameterNames: [String] { ["weight", "bias"] }
    public var parameters: [Tensor] { [weight, bias] }
    public mutating func updateParameters(_ body: (Int, inout Tensor) -> Void) {
        body(0, &weight)
        body(1, &bias)
    }

    /// Throws `.mismatch` unless ``weight`` and ``bias`` still have the shapes the layer was made
    /// with (they are public `var`s; a kernel must never see a wrong-sized buffer).
    public func validateParameters() throws(ShapeError) {
        try ShapeCheck.equal(weight.shape, Shape(uncheckedDimensions: [outputFeatures, inputFeatures],
                                                 count: outputFeatures * inputFeatures), "Dense weight")
        try ShapeCheck.equal(bias.shape, Shape(uncheckedDimensions: [outputFeatures], count: outputFeatures), "Dense bias")
    }

    /// The validated geometry for an input of shape `inputShape` (`[batch, inputFeatures]`).
    public func geometry(for inputShape: Shape) throws(ShapeError) -> DenseGeometry {
        try ShapeCheck.rank(inputShape, 2, "Dense input", layout: "[batch, inputFeatures]")
        try ShapeCheck.axis(inputShape, 1, inputFeatures, "Dense input", "features")
        return try DenseGeometry(batch: inputShape[0], inputFeatures: inputFeatures, outputFeatures: outputFeatures)
    }

    public struct Cache: Sendable {
        public let input: Tensor
        public let geometry: DenseGeometry
    }

    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Cache) {
        try validateParameters()
        let g = try geometry(for: input.shape)
        var output = scratch(g.outputCount)
        input.withUnsafeBufferPointer { x in
            weight.withUnsafeBufferPointer { w in
                bias.withUnsafeBufferPointer { b in
                    output.withUnsafeMutableBufferPointer { y in
                        DenseKernel.forward(g, algorithm: algorithm, input: x, weight: w, bias: b, output: y, context: context)
                    }
                }
            }
        }
        let shape = Shape(uncheckedDimensions: [g.batch, g.outputFeatures], count: g.outputCount)
        return (Tensor(uncheckedShape: shape, scalars: output), Cache(input: input, geometry: g))
    }

    /// Returns `(dL/dx, [dL/dW, dL/db])`.
    public func backward(_ outputGradient: Tensor, cache: Cache, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        let (dx, dθ) = try backward(outputGradient, cache: cache, inputGradient: true, context: context)
        return (dx ?? Tensor.zeros(cache.input.shape), dθ)
    }

    /// `[dL/dweight, dL/dbias]`: no backward-data product.
    public func parameterGradients(_ outputGradient: Tensor, cache: Cache, context: ComputeContext) throws(ShapeError) -> [Tensor] {
        try backward(outputGradient, cache: cache, inputGradient: false, context: context).parameterGradients
    }

    func backward(_ outputGradient: Tensor, cache: Cache, inputGradient: Bool, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor?, parameterGradients: [Tensor]) {
        let g = cache.geometry
        try ShapeCheck.equal(outputGradient.shape, Shape(uncheckedDimensions: [g.batch, g.outputFeatures], count: g.outputCount),
                             "Dense output gradient")
        try validateParameters()
        try ShapeCheck.equal(weight.shape, Shape(uncheckedDimensions: [g.outputFeatures, g.inputFeatures], count: g.weightCount),
                             "Dense weight (cache from a layer of another shape)")
        var dx = scratch(inputGradient ? g.inputCount : 0), dw = scratch(g.weightCount), db = scratch(g.outputFeatures)
        outputGradient.withUnsafeBufferPointer { dy in
            weight.withUnsafeBufferPointer { w in
                cache.input.withUnsafeBufferPointer { x in
                    if inputGradient {
                        dx.withUnsafeMutableBufferPointer { dxp in
                            DenseKernel.backwardData(g, algorithm: algorithm, outputGradient: dy, weight: w,
                                                     inputGradient: dxp, context: context)
                        }
                    }
                    dw.withUnsafeMutableBufferPointer { dwp in
                        db.withUnsafeMutableBufferPointer { dbp in
                            DenseKernel.backwardWeights(g, algorithm: algorithm, input: x, outputGradient: dy,
                                                        weightGradient: dwp, biasGradient: dbp, accumulate: false,
                                                        context: context)
                        }
                    }
                }
            }
        }
        return (inputGradient ? Tensor(uncheckedShape: cache.input.shape, scalars: dx) : nil,
                [Tensor(uncheckedShape: weight.shape, scalars: dw), Tensor(uncheckedShape: bias.shape, scalars: db)])
    }
}
