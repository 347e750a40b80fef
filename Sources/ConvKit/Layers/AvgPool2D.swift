/// 2-D average pooling over each `[n, c]` plane of an NCHW tensor.
///
///     y[n,c,i,j] = (Σ over the window's valid taps of x[n, c, i·S − P + u, j·S − P + v]) / d
///     d = KH·KW when `countPadding` (PyTorch's `count_include_pad=True`, the default), else the
///         number of valid taps
///     outputHeight = (inputHeight + 2·P − KH) / S + 1
///
/// Arithmetic in ``AvgPool2DKernel``; the cache is the geometry.
public struct AvgPool2D: Layer {
    public let windowHeight: Int
    public let windowWidth: Int
    public let strideHeight: Int
    public let strideWidth: Int
    public let paddingHeight: Int
    public let paddingWidth: Int
    public let countPadding: Bool
    public let algorithm: PoolingAlgorithm

    /// A square window; `stride` defaults to the window.
    ///
    /// - Throws: ``ShapeError`` for a window or stride < 1, a negative padding, or a padding not
    ///   smaller than the window.
    public init(window: Int, stride: Int? = nil, padding: Int = 0, countPadding: Bool = true,
                algorithm: PoolingAlgorithm = .simd) throws(ShapeError) {
        let s = stride ?? window
        _ = try Pool2DGeometry(batch: 1, channels: 1, inputSize: max(window, 1), window: window, stride: s, padding: padding)
        windowHeight = window; windowWidth = window
        strideHeight = s; strideWidth = s
        paddingHeight = padding; paddingWidth = padding
        self.countPadding = countPadding
        self.algorithm = algorithm
    }

    /// The validated geometry for an NCHW input of shape `inputShape`.
    public func geometry(for inputShape: Shape) throws(ShapeError) -> Pool2DGeometry {
        try ShapeCheck.rank(inputShape, 4, "AvgPool2D input", layout: "[batch, channels, height, width]")
        return try Pool2DGeometry(batch: inputShape[0], channels: inputShape[1], inputHeight: inputShape[2], inputWidth: inputShape[3],
                                  windowHeight: windowHeight, windowWidth: windowWidth,
                                  strideHeight: strideHeight, strideWidth: strideWidth,
                                  paddingHeight: paddingHeight, paddingWidth: paddingWidth)
    }

    public typealias Cache = Pool2DGeometry

    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Pool2DGeometry) {
        let g = try geometry(for: input.shape)
        var y = scratch(g.outputCount)
        input.withUnsafeBufferPointer { x in
            y.withUnsafeMutableBufferPointer { yp in
                AvgPool2DKernel.forward(g, algorithm: algorithm, countPadding: countPadding, input: x, output: yp, context: context)
            }
        }
        let shape = Shape(uncheckedDimensions: [g.batch, g.channels, g.outputHeight, g.outputWidth], count: g.outputCount)
        return (Tensor(uncheckedShape: shape, scalars: y), g)
    }

    public func backward(_ outputGradient: Tensor, cache g: Pool2DGeometry, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        try ShapeCheck.equal(outputGradient.shape,
                             Shape(uncheckedDimensions: [g.batch, g.channels, g.outputHeight, g.outputWidth], count: g.outputCount),
                             "AvgPool2D output gradient")
        var dx = scratch(g.inputCount)
        outputGradient.withUnsafeBufferPointer { dy in
            dx.withUnsafeMutableBufferPointer { d in
                AvgPool2DKernel.backward(g, algorithm: algorithm, countPadding: countPadding, outputGradient: dy,
                                         inputGradient: d, context: context)
            }
        }
        let shape = Shape(uncheckedDimensions: [g.batch, g.channels, g.inputHeight, g.inputWidth], count: g.inputCount)
        return (Tensor(uncheckedShape: shape, scalars: dx), [])
    }
}
