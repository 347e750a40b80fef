/// Reshapes `[batch, d1, d2, …]` to `[batch, d1·d2·…]` (no data movement: row-major storage
/// is shared). The backward pass reshapes the gradient back.
public struct Flatten: Layer {
    public init() {}

    /// The input shape.
    public typealias Cache = Shape

    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Shape) {
        if input.shape.rank < 1 {
            throw ShapeError(.mismatch, "Flatten input must have rank >= 1 ([batch, …]), got shape \(input.shape)")
        }
        let batch = input.shape[0]
        let features = batch == 0 ? 0 : input.count / batch
        return (try input.reshaped(to: Shape(uncheckedDimensions: [batch, features], count: input.count)), input.shape)
    }

    public func backward(_ outputGradient: Tensor, cache: Shape, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        let batch = cache.rank >= 1 ? cache[0] : 0
        let expected = Shape(uncheckedDimensions: [batch, batch == 0 ? 0 : cache.count / batch], count: cache.count)
        try ShapeCheck.equal(outputGradient.shape, expected, "Flatten output gradient")
        return (try outputGradient.reshaped(to: cache), [])
    }
}
