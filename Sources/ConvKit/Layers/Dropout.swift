/// Inverted dropout of single elements (PyTorch's `nn.Dropout`), for a tensor of any shape.
///
///     training:    y = x · m,  m_i = 0 with probability p, else 1/(1 − p)     dx = dy · m
///     evaluation:  y = x                                                     dx = dy
///
/// The mask `m` is drawn from the mode's seed by ``DropoutKernel/fillMask(_:dropProbability:seed:context:)``
/// (a hash of the seed and the element's index: same seed, same mask, at any thread count) and
/// kept in the cache for the backward pass. `p = 1` gives zeros (as in PyTorch); `p = 0` the
/// identity.
public struct Dropout: Layer {
    /// The probability `p` of zeroing an element, in `[0, 1]`.
    public let probability: Float

    /// - Throws: ``ShapeError`` `.invalidValue` when `probability` is not in `[0, 1]` (PyTorch:
    ///   "dropout probability has to be between 0 and 1").
    public init(probability: Float = 0.5) throws(ShapeError) {
        try Self.validate(probability, "Dropout")
        self.probability = probability
    }

    static func validate(_ p: Float, _ name: String) throws(ShapeError) {
        if !(p >= 0 && p <= 1) {
            throw ShapeError(.invalidValue, "\(name) probability must lie in [0, 1], got \(p)")
        }
    }

    /// The input shape and the mask (`nil`: the identity, in evaluation or with `p = 0`).
    public struct Cache: Sendable {
        public let shape: Shape
        public let mask: Tensor?
    }

    /// Evaluation mode: the identity (the output shares the input's storage).
    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Cache) {
        (input, Cache(shape: input.shape, mask: nil))
    }

    public func forward(_ input: Tensor, mode: ForwardMode, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Cache) {
        guard mode.isTraining && probability > 0 else { return try forward(input, context: context) }
        let mask = DropoutMasks.draw(count: input.count, shape: input.shape, probability: probability, seed: mode.seed, context: context)
        let output = DropoutMasks.apply(input, mask: mask, groupSize: 1, context: context)
        return (output, Cache(shape: input.shape, mask: mask))
    }

    public func backward(_ outputGradient: Tensor, cache: Cache, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        try ShapeCheck.equal(outputGradient.shape, cache.shape, "Dropout output gradient")
        guard let mask = cache.mask else { return (outputGradient, []) }
        return (DropoutMasks.apply(outputGradient, mask: mask, groupSize: 1, context: context), [])
    }
}

/// Inverted dropout of whole channels of `[N, C, H, W]` images (PyTorch's `nn.Dropout2d`): each
/// `[n, c]` plane is zeroed with probability `p`, else scaled by `1/(1 − p)`; the identity in
/// evaluation. The mask holds one value per plane (`[N, C]`), drawn like ``Dropout``'s.
public struct Dropout2D: Layer {
    /// The probability `p` of zeroing a channel, in `[0, 1]`.
    public let probability: Float

    /// - Throws: ``ShapeError`` `.invalidValue` when `probability` is not in `[0, 1]`.
    public init(probability: Float = 0.5) throws(ShapeError) {
        try Dropout.validate(probability, "Dropout2D")
        self.probability = probability
    }

    /// The input shape and the `[N, C]` mask (`nil`: the identity).
    public struct Cache: Sendable {
        public let shape: Shape
        public let mask: Tensor?
    }

    private func check(_ shape: Shape) throws(ShapeError) {
        try ShapeCheck.rank(shape, 4, "Dropout2D input", layout: "[batch, channels, height, width]")
    }

    /// Evaluation mode: the identity (input rank checked).
    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Cache) {
        try check(input.shape)
        return (input, Cache(shape: input.shape, mask: nil))
    }

    public func forward(_ input: Tensor, mode: ForwardMode, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Cache) {
        guard mode.isTraining && probability > 0 else { return try forward(input, context: context) }
        try check(input.shape)
        let planes = input.shape[0] * input.shape[1]
        let mask = DropoutMasks.draw(count: planes, shape: Shape(uncheckedDimensions: [input.shape[0], input.shape[1]], count: planes),
                                     probability: probability, seed: mode.seed, context: context)
        let plane = input.shape[2] * input.shape[3]
        if plane == 0 { return (input, Cache(shape: input.shape, mask: mask)) }
        return (DropoutMasks.apply(input, mask: mask, groupSize: plane, context: context), Cache(shape: input.shape, mask: mask))
    }

    public func backward(_ outputGradient: Tensor, cache: Cache, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        try ShapeCheck.equal(outputGradient.shape, cache.shape, "Dropout2D output gradient")
        guard let mask = cache.mask, cache.shape.count > 0 else { return (outputGradient, []) }
        let plane = cache.shape[2] * cache.shape[3]
        return (DropoutMasks.apply(outputGradient, mask: mask, groupSize: plane, context: context), [])
    }
}

/// Mask drawing and application for the dropout layers (arithmetic in ``DropoutKernel``).
enum DropoutMasks {
    static func draw(count: Int, shape: Shape, probability: Float, seed: UInt64, context: ComputeContext) -> Tensor {
        var mask = scratch(count)
        mask.withUnsafeMutableBufferPointer { m in
            DropoutKernel.fillMask(m, dropProbability: probability, seed: seed, context: context)
        }
        return Tensor(uncheckedShape: shape, scalars: mask)
    }

    static func apply(_ input: Tensor, mask: Tensor, groupSize: Int, context: ComputeContext) -> Tensor {
        var output = scratch(input.count)
        input.withUnsafeBufferPointer { x in
            mask.withUnsafeBufferPointer { m in
                output.withUnsafeMutableBufferPointer { y in
                    DropoutKernel.apply(input: x, mask: m, groupSize: groupSize, output: y, context: context)
                }
            }
        }
        return Tensor(uncheckedShape: input.shape, scalars: output)
    }
}
