/// A layer (or a part of a model) that runs in one phase whatever its caller's mode: the mode
/// chosen per model rather than per call, e.g. batch norms kept in evaluation while the rest of a
/// network fine-tunes (PyTorch's `model.train(); model.backbone.eval()`).
///
/// The wrapped layer sees `ForwardMode(isTraining: isTraining, seed: mode.seed)`: the caller's
/// seed, this phase. Names, parameters, buffers, caches and gradients are the wrapped layer's
/// (no key is added), so checkpoints are unchanged by wrapping. Fixed to training inside an
/// evaluation call, the seed is the evaluation mode's (0): dropout then repeats its masks.
public struct FixedMode<Wrapped: Layer>: Layer {
    public var wrapped: Wrapped
    /// The phase the wrapped layer always runs in.
    public let isTraining: Bool

    public init(_ wrapped: Wrapped, isTraining: Bool) {
        self.wrapped = wrapped
        self.isTraining = isTraining
    }

    public typealias Cache = Wrapped.Cache

    public var parameterNames: [String] { wrapped.parameterNames }
    public var parameters: [Tensor] { wrapped.parameters }
    public mutating func updateParameters(_ body: (Int, inout Tensor) -> Void) { wrapped.updateParameters(body) }
    public var bufferNames: [String] { wrapped.bufferNames }
    public var buffers: [Tensor] { wrapped.buffers }
    public var bufferKinds: [BufferKind] { wrapped.bufferKinds }
    public mutating func updateBuffers(_ body: (Int, inout Tensor) -> Void) { wrapped.updateBuffers(body) }
    public func bufferUpdates(in cache: Cache) -> [BufferUpdate] { wrapped.bufferUpdates(in: cache) }

    /// The fixed phase (a training pass with seed 0 when fixed to training).
    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Cache) {
        try forward(input, mode: .evaluation, context: context)
    }

    public func forward(_ input: Tensor, mode: ForwardMode, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Cache) {
        try wrapped.forward(input, mode: ForwardMode(isTraining: isTraining, seed: mode.seed), context: context)
    }

    public func backward(_ outputGradient: Tensor, cache: Cache, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        try wrapped.backward(outputGradient, cache: cache, context: context)
    }

    public func parameterGradients(_ outputGradient: Tensor, cache: Cache, context: ComputeContext) throws(ShapeError) -> [Tensor] {
        try wrapped.parameterGradients(outputGradient, cache: cache, context: context)
    }

    public func callAsFunction(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> Tensor {
        isTraining ? try forward(input, context: context).output : try wrapped(input, context: context)
    }
}
