/// Gaussian error linear unit (PyTorch's `nn.GELU(approximate=…)`), element-wise on any shape.
///
///     .none:  y = x · Φ(x)                                     dx = dy · (Φ(x) + x · φ(x))
///     .tanh:  y = ½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))     (and its exact derivative)
///
/// `Φ`, `φ`: the standard normal distribution and density. Arithmetic in ``GELUKernel``; the
/// cache is the input.
public struct GELU: Layer {
    public let approximation: GELUKernel.Approximation
    public let algorithm: ActivationAlgorithm

    /// - Parameter approximation: `.none` (PyTorch's default, the erf form) or `.tanh`.
    public init(approximation: GELUKernel.Approximation = .none, algorithm: ActivationAlgorithm = .simd) {
        self.approximation = approximation
        self.algorithm = algorithm
    }

    /// The input.
    public typealias Cache = Tensor

    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Tensor) {
        let y = mapElementwise(input) { x, y in
            GELUKernel.forward(algorithm: algorithm, approximation: approximation, input: x, output: y, context: context)
        }
        return (y, input)
    }

    public func backward(_ outputGradient: Tensor, cache: Tensor, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        let dx = try backwardElementwise(outputGradient, saved: cache, "GELU") { x, dy, dx in
            GELUKernel.backward(algorithm: algorithm, approximation: approximation, input: x, outputGradient: dy,
                                inputGradient: dx, context: context)
        }
        return (dx, [])
    }
}
