/// The identity (PyTorch's `nn.Identity`): `y = x`, `dx = dy`, sharing storage (no copy). A
/// placeholder where a model has an optional layer (a `downsample` that is absent, a head
/// replaced for feature extraction).
public struct Identity: Layer {
    public init() {}

    /// The input shape.
    public typealias Cache = Shape

    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Shape) {
        (input, input.shape)
    }

    public func backward(_ outputGradient: Tensor, cache: Shape, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        try ShapeCheck.equal(outputGradient.shape, cache, "Identity output gradient")
        return (outputGradient, [])
    }
}
