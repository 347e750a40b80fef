/// Logistic sigmoid, element-wise on a tensor of any shape.
///
///     y = 1 / (1 + e^(−x))          dx = dy · y · (1 − y)
///
/// Arithmetic in ``SigmoidKernel``; the cache is the output.
public struct Sigmoid: Layer {
    public let algorithm: ActivationAlgorithm
    public init(algorithm: ActivationAlgorithm = .simd) { self.algorithm = algorithm }

    /// The output.
    public typealias Cache = Tensor

    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Tensor) {
        var y = scratch(input.count)
        input.withUnsafeBufferPointer { x in
            y.withUnsafeMutableBufferPointer { yp in SigmoidKernel.forward(algorithm: algorithm, input: x, output: yp, context: context) }
        }
        let output = Tensor(uncheckedShape: input.shape, scalars: y)
        return (output, output)
    }

    public func backward(_ outputGradient: Tensor, cache: Tensor, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        try ShapeCheck.equal(outputGradient.shape, cache.shape, "Sigmoid output gradient")
        var dx = scratch(cache.count)
        cache.withUnsafeBufferPointer { y in
            outputGradient.withUnsafeBufferPointer { dy in
                dx.withUnsafeMutableBufferPointer { d in
                    SigmoidKernel.backward(algorithm: algorithm, output: y, outputGradient: dy, inputGradient: d, context: context)
                }
            }
        }
        return (Tensor(uncheckedShape: cache.shape, scalars: dx), [])
    }
}
