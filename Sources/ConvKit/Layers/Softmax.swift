/// Softmax over the channel axis (axis 1) of `[batch, channels, …]` (logits `[batch, classes]`,
/// or per-pixel scores `[batch, classes, height, width]`).
///
///     y[n,c,p] = e^(x[n,c,p] − m) / Σ_k e^(x[n,k,p] − m),  m = max_k x[n,k,p]
///     dx[n,c,p] = y[n,c,p] · (dy[n,c,p] − Σ_k dy[n,k,p] · y[n,k,p])
///
/// Arithmetic in ``SoftmaxKernel``; the cache is the output. For training a classifier, prefer
/// ``Loss/softmaxCrossEntropy(logits:labels:algorithm:context:)`` on the logits (fused and stabler).
public struct Softmax: Layer {
    public let algorithm: ActivationAlgorithm
    public init(algorithm: ActivationAlgorithm = .simd) { self.algorithm = algorithm }

    /// The output.
    public typealias Cache = Tensor

    private static func sizes(_ shape: Shape) throws(ShapeError) -> (batch: Int, channels: Int, plane: Int) {
        if shape.rank < 2 {
            throw ShapeError(.mismatch, "Softmax input must have rank >= 2 ([batch, channels, …]), got shape \(shape)")
        }
        let plane = shape.dimensions.dropFirst(2).reduce(1, *)
        return (shape[0], shape[1], plane)
    }

    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Tensor) {
        let (n, c, p) = try Self.sizes(input.shape)
        var y = scratch(input.count)
        input.withUnsafeBufferPointer { x in
            y.withUnsafeMutableBufferPointer { yp in
                SoftmaxKernel.forward(algorithm: algorithm, batch: n, channels: c, plane: p, input: x, output: yp, context: context)
            }
        }
        let output = Tensor(uncheckedShape: input.shape, scalars: y)
        return (output, output)
    }

    public func backward(_ outputGradient: Tensor, cache: Tensor, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        try ShapeCheck.equal(outputGradient.shape, cache.shape, "Softmax output gradient")
        let (n, c, p) = try Self.sizes(cache.shape)
        var dx = scratch(cache.count)
        cache.withUnsafeBufferPointer { y in
            outputGradient.withUnsafeBufferPointer { dy in
                dx.withUnsafeMutableBufferPointer { d in
                    SoftmaxKernel.backward(algorithm: algorithm, batch: n, channels: c, plane: p,
                                           output: y, outputGradient: dy, inputGradient: d, context: context)
                }
            }
        }
        return (Tensor(uncheckedShape: cache.shape, scalars: dx), [])
    }
}
