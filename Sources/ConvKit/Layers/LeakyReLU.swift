/// Leaky rectified linear unit, element-wise on a tensor of any shape.
///
///     y = x > 0 ? x : slope · x          dx = dy · (x > 0 ? 1 : slope)
///
/// Arithmetic in ``LeakyReLUKernel``; the cache is the input.
public struct LeakyReLU: Layer {
    /// The slope for negative inputs (`>= 0`; PyTorch's default is 0.01).
    public let slope: Float
    public let algorithm: ActivationAlgorithm

    /// - Throws: ``ShapeError`` `.invalidValue` unless `slope >= 0` and finite.
    public init(slope: Float = 0.01, algorithm: ActivationAlgorithm = .simd) throws(ShapeError) {
        if !(slope >= 0) || !slope.isFinite {
            throw ShapeError(.invalidValue, "LeakyReLU slope must be finite and >= 0, got \(slope)")
        }
        self.slope = slope
        self.algorithm = algorithm
    }

    /// The input.
    public typealias Cache = Tensor

    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Tensor) {
        var y = scratch(input.count)
        input.withUnsafeBufferPointer { x in
            y.withUnsafeMutableBufferPointer { yp in
                LeakyReLUKernel.forward(algorithm: algorithm, slope: slope, input: x, output: yp, context: context)
            }
        }
        return (Tensor(uncheckedShape: input.shape, scalars: y), input)
    }

    public func backward(_ outputGradient: Tensor, cache: Tensor, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        try ShapeCheck.equal(outputGradient.shape, cache.shape, "LeakyReLU output gradient")
        var dx = scratch(cache.count)
        cache.withUnsafeBufferPointer { x in
            outputGradient.withUnsafeBufferPointer { dy in
                dx.withUnsafeMutableBufferPointer { d in
                    LeakyReLUKernel.backward(algorithm: algorithm, slope: slope, input: x, outputGradient: dy,
                                             inputGradient: d, context: context)
                }
            }
        }
        return (Tensor(uncheckedShape: cache.shape, scalars: dx), [])
    }
}
