/// Adaptive average pooling of `[N, C, H, W]` images to a fixed `[N, C, OH, OW]` (PyTorch's
/// `nn.AdaptiveAvgPool2d`), whatever `H` and `W`:
///
///     y[n,c,i,j] = mean of x[n, c, ⌊i·H/OH⌋ ..< ⌈(i+1)·H/OH⌉, ⌊j·W/OW⌋ ..< ⌈(j+1)·W/OW⌉]
///
/// (the bins of ``AdaptivePool2DGeometry``). Output 1×1 is global average pooling, with a fast
/// path; `OH > H` repeats rows, as in PyTorch. No parameters; the cache is the geometry.
/// Arithmetic in ``AdaptiveAvgPool2DKernel``.
public struct AdaptiveAvgPool2D: Layer {
    public let outputHeight: Int
    public let outputWidth: Int
    public let algorithm: PoolingAlgorithm

    /// - Throws: ``ShapeError`` `.nonPositive` for an output size < 1.
    public init(outputHeight: Int, outputWidth: Int, algorithm: PoolingAlgorithm = .simd) throws(ShapeError) {
        _ = try AdaptivePool2DGeometry(batch: 1, channels: 1, inputHeight: 1, inputWidth: 1,
                                       outputHeight: outputHeight, outputWidth: outputWidth)
        self.outputHeight = outputHeight
        self.outputWidth = outputWidth
        self.algorithm = algorithm
    }

    /// A square output `outputSize × outputSize` (1: global average pooling).
    public init(outputSize: Int, algorithm: PoolingAlgorithm = .simd) throws(ShapeError) {
        try self.init(outputHeight: outputSize, outputWidth: outputSize, algorithm: algorithm)
    }

    /// The validated geometry for an NCHW input of shape `inputShape`.
    ///
    /// - Throws: ``ShapeError`` `.mismatch` for an input that is not rank 4, `.nonPositive`
    ///   for an empty one.
    public func geometry(for inputShape: Shape) throws(ShapeError) -> AdaptivePool2DGeometry {
        try ShapeCheck.rank(inputShape, 4, "AdaptiveAvgPool2D input", layout: "[batch, channels, height, width]")
        return try AdaptivePool2DGeometry(batch: inputShape[0], channels: inputShape[1],
                                          inputHeight: inputShape[2], inputWidth: inputShape[3],
                                          outputHeight: outputHeight, outputWidth: outputWidth)
    }

    public typealias Cache = AdaptivePool2DGeometry

    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: AdaptivePool2DGeometry) {
        let g = try geometry(for: input.shape)
        var y = scratch(g.outputCount)
        input.withUnsafeBufferPointer { x in
            y.withUnsafeMutableBufferPointer { yp in
                AdaptiveAvgPool2DKernel.forward(g, algorithm: algorithm, input: x, output: yp, context: context)
            }
        }
        let shape = Shape(uncheckedDimensions: [g.batch, g.channels, g.outputHeight, g.outputWidth], count: g.outputCount)
        return (Tensor(uncheckedShape: shape, scalars: y), g)
    }

    public func backward(_ outputGradient: Tensor, cache g: AdaptivePool2DGeometry, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        try ShapeCheck.equal(outputGradient.shape,
                             Shape(uncheckedDimensions: [g.batch, g.channels, g.outputHeight, g.outputWidth], count: g.outputCount),
                             "AdaptiveAvgPool2D output gradient")
        var dx = scratch(g.inputCount)
        outputGradient.withUnsafeBufferPointer { dy in
            dx.withUnsafeMutableBufferPointer { d in
                AdaptiveAvgPool2DKernel.backward(g, algorithm: algorithm, outputGradient: dy, inputGradient: d, context: context)
            }
        }
        let shape = Shape(uncheckedDimensions: [g.batch, g.channels, g.inputHeight, g.inputWidth], count: g.inputCount)
        return (Tensor(uncheckedShape: shape, scalars: dx), [])
    }
}
