/// 2-D max pooling over each `[n, c]` plane of an NCHW tensor (padding never wins; ties go to
/// the first maximum in row-major window order; NaN propagates).
///
///     y[n,c,i,j] = max_{u<KH, v<KW} x[n, c, i·S − P + u, j·S − P + v]
///     outputHeight = (inputHeight + 2·P − KH) / S + 1
///     dx[n,c,p] = Σ over outputs whose winner is p of dy[n,c,i,j]
///
/// Arithmetic in ``MaxPool2DKernel``; the cache holds the winners' indices (`Int32`).
public struct MaxPool2D: Layer {
    public let windowHeight: Int
    public let windowWidth: Int
    public let strideHeight: Int
    public let strideWidth: Int
    public let paddingHeight: Int
    public let paddingWidth: Int
    public let algorithm: PoolingAlgorithm

    /// A square window; `stride` defaults to the window (non-overlapping, PyTorch's default).
    ///
    /// - Throws: ``ShapeError`` for a window or stride < 1, a negative padding, or a padding not
    ///   smaller than the window.
    public init(window: Int, stride: Int? = nil, padding: Int = 0, algorithm: PoolingAlgorithm = .simd) throws(ShapeError) {
        let s = stride ?? window
        // Validate once on the smallest input the window fits.
        _ = try Pool2DGeometry(batch: 1, channels: 1, inputSize: max(window, 1), window: window, stride: s, padding: padding)
        windowHeight = window; windowWidth = window
        strideHeight = s; strideWidth = s
        paddingHeight = padding; paddingWidth = padding
        self.algorithm = algorithm
    }

    /// The validated geometry for an NCHW input of shape `inputShape`.
    public func geometry(for inputShape: Shape) throws(ShapeError) -> Pool2DGeometry {
        try ShapeCheck.rank(inputShape, 4, "MaxPool2D input", layout: "[batch, channels, height, width]")
        return try Pool2DGeometry(batch: inputShape[0], channels: inputShape[1], inputHeight: inputShape[2], inputWidth: inputShape[3],
                                  windowHeight: windowHeight, windowWidth: windowWidth,
                                  strideHeight: strideHeight, strideWidth: strideWidth,
                                  paddingHeight: paddingHeight, paddingWidth: paddingWidth)
    }

    public struct Cache: Sendable {
        public let geometry: Pool2DGeometry
        /// `[batch, channels, outputHeight, outputWidth]` flat winner offsets within each input plane.
        public let indices: [Int32]
    }

    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Cache) {
        let g = try geometry(for: input.shape)
        var y = scratch(g.outputCount)
        var indices = [Int32](repeating: 0, count: g.outputCount)
        input.withUnsafeBufferPointer { x in
            y.withUnsafeMutableBufferPointer { yp in
                indices.withUnsafeMutableBufferPointer { k in
                    MaxPool2DKernel.forward(g, algorithm: algorithm, input: x, output: yp, indices: k, context: context)
                }
            }
        }
        let shape = Shape(uncheckedDimensions: [g.batch, g.channels, g.outputHeight, g.outputWidth], count: g.outputCount)
        return (Tensor(uncheckedShape: shape, scalars: y), Cache(geometry: g, indices: indices))
    }

    /// Inference: the maxima of ``forward(_:context:)``, without keeping a cache.
    ///
    /// Runs the indexed forward kernel and drops the indices: on the benchmark's AlexNet pool1
    /// (8×96×55×55, 3×3 stride 2) it took 1.10 ms at 2 threads against 1.54 ms for the index-free
    /// ``MaxPool2DKernel/inference(_:algorithm:input:output:context:)`` (docs/bench-results.md), so
    /// the extra index writes cost less than that kernel's separate vertical and horizontal passes.
    public func callAsFunction(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> Tensor {
        try forward(input, context: context).output
    }

    public func backward(_ outputGradient: Tensor, cache: Cache, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        let g = cache.geometry
        try ShapeCheck.equal(outputGradient.shape,
                             Shape(uncheckedDimensions: [g.batch, g.channels, g.outputHeight, g.outputWidth], count: g.outputCount),
                             "MaxPool2D output gradient")
        var dx = scratch(g.inputCount)
        outputGradient.withUnsafeBufferPointer { dy in
            cache.indices.withUnsafeBufferPointer { k in
                dx.withUnsafeMutableBufferPointer { d in
                    MaxPool2DKernel.backward(g, algorithm: algorithm, outputGradient: dy, indices: k, inputGradient: d, context: context)
                }
            }
        }
        let shape = Shape(uncheckedDimensions: [g.batch, g.channels, g.inputHeight, g.inputWidth], count: g.inputCount)
        return (Tensor(uncheckedShape: shape, scalars: dx), [])
    }
}
