/// Hard swish (PyTorch's `nn.Hardswish`, MobileNetV3), element-wise on any shape.
///
///     y = x · relu6(x + 3) / 6       dx = 0 (x ≤ −3),  dy · (x/3 + 1/2) (−3 < x < 3),  dy (x ≥ 3)
///
/// (PyTorch's gradient at the kinks: 0 at x = −3, dy at x = 3.) Arithmetic in HardswishKernel;
/// the cache is the input.
public struct Hardswish: Layer {
    public let algorithm: ActivationAlgorithm
    public init(algorithm: ActivationAlgorithm = .simd) { self.algorithm = algorithm }

    /// The input.
    public typealias Cache = Tensor

    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Tensor) {
        let y = mapElementwise(input) { x, y in HardswishKernel.forward(algorithm: algorithm, input: x, output: y, context: context) }
        return (y, input)
    }

    public func backward(_ outputGradient: Tensor, cache: Tensor, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        let dx = try backwardElementwise(outputGradient, saved: cache, "Hardswish") { x, dy, dx in
            HardswishKernel.backward(algorithm: algorithm, input: x, outputGradient: dy, inputGradient: dx, context: context)
        }
        return (dx, [])
    }
}
