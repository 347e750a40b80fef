/// Hard sigmoid (PyTorch's `nn.Hardsigmoid`), element-wise on any shape.
///
///     y = relu6(x + 3) / 6           dx = dy / 6 · [−3 < x < 3]       (0 at x = ±3, as PyTorch)
///
/// Arithmetic in HardsigmoidKernel; the cache is the input.
public struct Hardsigmoid: Layer {
    public let algorithm: ActivationAlgorithm
    public init(algorithm: ActivationAlgorithm = .simd) { self.algorithm = algorithm }

    /// The input.
    public typealias Cache = Tensor

    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Tensor) {
        let y = mapElementwise(input) { x, y in HardsigmoidKernel.forward(algorithm: algorithm, input: x, output: y, context: context) }
        return (y, input)
    }

    public func backward(_ outputGradient: Tensor, cache: Tensor, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        let dx = try backwardElementwise(outputGradient, saved: cache, "Hardsigmoid") { x, dy, dx in
            HardsigmoidKernel.backward(algorithm: algorithm, input: x, outputGradient: dy, inputGradient: dx, context: context)
        }
        return (dx, [])
    }
}
