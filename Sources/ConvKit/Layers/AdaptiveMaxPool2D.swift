/// Adaptive 2-D max pooling (PyTorch's `nn.AdaptiveMaxPool2d`): any `[N, C, H, W]` input to
/// `[N, C, OH, OW]`, output `(i, j)` the maximum over rows `⌊i·H/OH⌋ ..< ⌈(i+1)·H/OH⌉` and columns
/// `⌊j·W/OW⌋ ..< ⌈(j+1)·W/OW⌉` of its plane.
///
///     dx[n,c,p] = Σ over the outputs whose winner is p of dy[n,c,i,j]      (ties: the first maximum)
///
/// Arithmetic in ``AdaptiveMaxPool2DKernel``; the cache holds the winners' indices (`Int32`).
public struct AdaptiveMaxPool2D: Layer {
    public let outputHeight: Int
    public let outputWidth: Int
    public let algorithm: PoolingAlgorithm

    /// - Throws: ``ShapeError`` `.nonPositive` for an output size < 1.
    public init(outputSize: (height: Int, width: Int), algorithm: PoolingAlgorithm = .simd) throws(ShapeError) {
        if outputSize.height < 1 || outputSize.width < 1 {
            throw ShapeError(.nonPositive, "AdaptiveMaxPool2D output size must be >= 1, got (\(outputSize.height), \(outputSize.width))")
        }
        outputHeight = outputSize.height
        outputWidth = outputSize.width
        self.algorithm = algorithm
    }

    /// A square output (`1` is global max pooling).
    public init(outputSize: Int, algorithm: PoolingAlgorithm = .simd) throws(ShapeError) {
        try self.init(outputSize: (outputSize, outputSize), algorithm: algorithm)
    }

    public struct Cache: Sendable {
        public let inputShape: Shape
        /// `[N, C, OH, OW]` flat winner offsets within each input plane.
        public let indices: [Int32]
    }

    func outputShape(_ input: Shape) -> Shape {
        Shape(uncheckedDimensions: [input[0], input[1], outputHeight, outputWidth], count: input[0] * input[1] * outputHeight * outputWidth)
    }

    /// - Throws: ``ShapeError`` `.mismatch` for an input that is not rank 4, `.nonPositive` for an
    ///   empty one, `.overflow` for a plane of more than `Int32.max` elements or an output that
    ///   does not fit in memory.
    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Cache) {
        try ShapeCheck.rank(input.shape, 4, "AdaptiveMaxPool2D input", layout: "[batch, channels, height, width]")
        let s = input.shape
        if s.count == 0 { throw ShapeError(.nonPositive, "AdaptiveMaxPool2D input of shape \(s) is empty") }
        if s[2] * s[3] > Int(Int32.max) {
            throw ShapeError(.overflow, "AdaptiveMaxPool2D input plane \(s[2]) x \(s[3]) must be <= \(Int32.max) (indices are Int32)")
        }
        let planes = s[0] * s[1]
        let count = try CheckedSize.elements([planes, outputHeight, outputWidth], "AdaptiveMaxPool2D output")
        try ShapeCheck.fitsInMemory([count, count], "AdaptiveMaxPool2D output of \(planes) planes")
        var y = scratch(count), indices = [Int32](repeating: 0, count: count)
        input.withUnsafeBufferPointer { x in
            y.withUnsafeMutableBufferPointer { yp in
                indices.withUnsafeMutableBufferPointer { k in
                    AdaptiveMaxPool2DKernel.forward(algorithm: algorithm, planes: planes, inputHeight: s[2], inputWidth: s[3],
                                                    outputHeight: outputHeight, outputWidth: outputWidth, input: x, output: yp,
                                                    indices: k, context: context)
                }
            }
        }
        return (Tensor(uncheckedShape: outputShape(s), scalars: y), Cache(inputShape: s, indices: indices))
    }

    public func backward(_ outputGradient: Tensor, cache: Cache, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        let s = cache.inputShape
        try ShapeCheck.equal(outputGradient.shape, outputShape(s), "AdaptiveMaxPool2D output gradient")
        if cache.indices.count != outputGradient.count {
            throw ShapeError(.mismatch, "AdaptiveMaxPool2D cache holds \(cache.indices.count) indices for \(outputGradient.count) outputs")
        }
        var dx = scratch(s.count)
        outputGradient.withUnsafeBufferPointer { dy in
            cache.indices.withUnsafeBufferPointer { k in
                dx.withUnsafeMutableBufferPointer { d in
                    AdaptiveMaxPool2DKernel.backward(algorithm: algorithm, planes: s[0] * s[1], inputHeight: s[2], inputWidth: s[3],
                                                     outputHeight: outputHeight, outputWidth: outputWidth, outputGradient: dy,
                                                     indices: k, inputGradient: d, context: context)
                }
            }
        }
        return (Tensor(uncheckedShape: s, scalars: dx), [])
    }
}
