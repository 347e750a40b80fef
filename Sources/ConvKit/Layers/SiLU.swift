/// Sigmoid-weighted linear unit (PyTorch's `nn.SiLU`, "swish"), element-wise on any shape.
///
///     y = x · σ(x)                   dx = dy · σ(x) · (1 + x · (1 − σ(x)))
///
/// Arithmetic in SiLUKernel; the cache is the input.
public struct SiLU: Layer {
    public let algorithm: ActivationAlgorithm
    public init(algorithm: ActivationAlgorithm = .simd) { self.algorithm = algorithm }

    /// The input.
    public typealias Cache = Tensor

    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Tensor) {
        let y = mapElementwise(input) { x, y in SiLUKernel.forward(algorithm: algorithm, input: x, output: y, context: context) }
        return (y, input)
    }

    public func backward(_ outputGradient: Tensor, cache: Tensor, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        let dx = try backwardElementwise(outputGradient, saved: cache, "SiLU") { x, dy, dx in
            SiLUKernel.backward(algorithm: algorithm, input: x, outputGradient: dy, inputGradient: dx, context: context)
        }
        return (dx, [])
    }
}
