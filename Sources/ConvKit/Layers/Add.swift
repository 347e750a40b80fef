/// Element-wise sum of two or more tensors of one shape (the merge of a residual block).
///
///     y = x₀ + x₁ + …         ∂L/∂xₖ = ∂L/∂y for every k
public struct Add: MergeLayer {
    public init() {}

    /// Two or more.
    public var acceptedInputCounts: ClosedRange<Int> { 2...Int.max }

    /// The common shape and the number of inputs.
    public struct Cache: Sendable {
        public let shape: Shape
        public let inputCount: Int
    }

    /// - Throws: ``ShapeError`` `.mismatch` naming both shapes when two inputs differ,
    ///   `.invalidValue` with fewer than two inputs.
    public func forward(_ inputs: [Tensor], context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Cache) {
        guard inputs.count >= 2 else {
            throw ShapeError(.invalidValue, "Add needs at least 2 inputs, got \(inputs.count)")
        }
        for k in 1..<inputs.count where inputs[k].shape != inputs[0].shape {
            throw ShapeError(.mismatch, "Add input \(k) has shape \(inputs[k].shape), expected \(inputs[0].shape) (input 0)")
        }
        var sum = scratch(inputs[0].count)
        sum.withUnsafeMutableBufferPointer { y in
            inputs[0].withUnsafeBufferPointer { a in
                inputs[1].withUnsafeBufferPointer { b in ElementwiseKernel.add(a, b, output: y, context: context) }
            }
            for k in 2..<max(2, inputs.count) {
                inputs[k].withUnsafeBufferPointer { x in ElementwiseKernel.accumulate(x, into: y, context: context) }
            }
        }
        return (Tensor(uncheckedShape: inputs[0].shape, scalars: sum), Cache(shape: inputs[0].shape, inputCount: inputs.count))
    }

    public func backward(_ outputGradient: Tensor, cache: Cache, context: ComputeContext) throws(ShapeError) -> [Tensor] {
        try ShapeCheck.equal(outputGradient.shape, cache.shape, "Add output gradient")
        return Array(repeating: outputGradient, count: cache.inputCount)
    }
}
