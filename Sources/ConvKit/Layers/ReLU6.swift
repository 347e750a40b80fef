/// ReLU capped at 6 (PyTorch's `nn.ReLU6`, MobileNetV2), element-wise on any shape.
///
///     y = min(max(x, 0), 6)          dx = dy · [0 < x < 6]      (0 at the kinks x = 0 and x = 6, as PyTorch)
///
/// Arithmetic in ReLU6Kernel; the cache is the input.
public struct ReLU6: Layer {
    public let algorithm: ActivationAlgorithm
    public init(algorithm: ActivationAlgorithm = .simd) { self.algorithm = algorithm }

    /// The input.
    public typealias Cache = Tensor

    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Tensor) {
        let y = mapElementwise(input) { x, y in ReLU6Kernel.forward(algorithm: algorithm, input: x, output: y, context: context) }
        return (y, input)
    }

    public func backward(_ outputGradient: Tensor, cache: Tensor, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        let dx = try backwardElementwise(outputGradient, saved: cache, "ReLU6") { x, dy, dx in
            ReLU6Kernel.backward(algorithm: algorithm, input: x, outputGradient: dy, inputGradient: dx, context: context)
        }
        return (dx, [])
    }
}
