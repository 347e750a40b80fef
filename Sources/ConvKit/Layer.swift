/// A differentiable function of one tensor with (possibly) trainable parameters and
/// (possibly) non-trainable state.
///
/// A layer is a value: parameters and buffers are stored properties (`var`), hyper-parameters
/// are `let`. It does no arithmetic itself: it validates shapes (throwing ``ShapeError``) and
/// calls the kernels of `ConvKitKernels`.
///
/// Training uses the pair ``forward(_:mode:context:)`` / ``backward(_:cache:context:)``:
///
///     let (y, cache) = try layer.forward(x, mode: .training(seed: s), context: ctx)  // y = f(x; θ, state)
///     let (dx, dθ)   = try layer.backward(dy, cache: cache, context: ctx)
///     // dx = (∂f/∂x)ᵀ · dy,  dθ[i] = (∂f/∂θ_i)ᵀ · dy  (fresh tensors, never accumulated)
///     try layer.applyBufferUpdates(from: cache)   // running statistics, when the layer has any
///
/// `dθ` is aligned with ``parameters`` (same order, same shapes).
///
/// **Mode.** A ``ForwardMode`` is passed to each call; nothing global or stored decides it.
/// ``forward(_:context:)`` and ``callAsFunction(_:context:)`` are the evaluation mode.
/// Layers whose output does not depend on the mode implement only ``forward(_:context:)``;
/// the default ``forward(_:mode:context:)`` calls it.
///
/// **State.** Buffers (``buffers``, e.g. a batch norm's running mean) are not trained by the
/// optimiser. A forward pass never mutates the layer: a training pass that changes buffers
/// returns their new values in its cache (``bufferUpdates(in:)``), and the caller applies them
/// with ``applyBufferUpdates(from:)``, as the optimiser applies gradients. So a step can be
/// refused (non-finite values) or a batch evaluated in training mode without side effects.
public protocol Layer: Sendable {
    /// What the backward pass needs from the forward pass (inputs, outputs, indices, sizes).
    associatedtype Cache: Sendable

    /// Names of the parameters, in the order of ``parameters`` (e.g. `["weight", "bias"]`,
    /// PyTorch's names, so that checkpoints map onto `state_dict` keys).
    var parameterNames: [String] { get }

    /// The trainable tensors, in a fixed order. Empty for parameter-free layers.
    var parameters: [Tensor] { get }

    /// Calls `body(index, &parameter)` for every parameter in the order of ``parameters``,
    /// in place (no copy when the storage is unique). `body` must keep each shape.
    mutating func updateParameters(_ body: (Int, inout Tensor) -> Void)

    /// Names of the buffers, in the order of ``buffers`` (PyTorch's registered-buffer names:
    /// `"running_mean"`, `"running_var"`, `"num_batches_tracked"`). Empty by default.
    var bufferNames: [String] { get }

    /// Non-trainable state saved in checkpoints beside the parameters, in a fixed order.
    var buffers: [Tensor] { get }

    /// What each buffer holds, aligned with ``buffers``: `.integer` buffers (counters) are
    /// written to checkpoints as `I64`, like PyTorch's. Default: all `.floatingPoint`.
    var bufferKinds: [BufferKind] { get }

    /// Calls `body(index, &buffer)` for every buffer in the order of ``buffers``, in place.
    /// `body` must keep each shape.
    mutating func updateBuffers(_ body: (Int, inout Tensor) -> Void)

    /// Output and cache for the backward pass, in evaluation mode.
    func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Cache)

    /// Output and cache for the backward pass, in `mode` (training: batch statistics, active
    /// dropout). Default: ``forward(_:context:)``, for layers that behave the same in both modes.
    func forward(_ input: Tensor, mode: ForwardMode, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Cache)

    /// The new buffer values a forward pass computed (indices into ``buffers``); empty when it
    /// changed none (evaluation mode, or a layer without buffers). Default: empty.
    func bufferUpdates(in cache: Cache) -> [BufferUpdate]

    /// Gradients with respect to the input and to each parameter, given the gradient of the
    /// loss with respect to the output. Returns fresh tensors (nothing is accumulated).
    func backward(_ outputGradient: Tensor, cache: Cache, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor])

    /// The parameter gradients of ``backward(_:cache:context:)`` without the input gradient, for
    /// a layer whose input needs none (the first layer of a model, fed by data): convolution and
    /// dense layers skip that product. Default: `backward`'s parameter gradients.
    func parameterGradients(_ outputGradient: Tensor, cache: Cache, context: ComputeContext) throws(ShapeError) -> [Tensor]

    /// Inference (evaluation mode): the output only.
    func callAsFunction(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> Tensor
}

/// Whether a forward pass trains or evaluates, and the seed of its randomness (PyTorch's
/// `module.training`, passed per call instead of stored in the model).
///
/// - `evaluation`: batch norm uses its running statistics, dropout is the identity.
/// - `training(seed:)`: batch norm uses the batch's statistics and returns updated running
///   statistics in its cache; dropout draws its mask from `seed`.
///
/// Containers hand each child ``child(_:)`` of their mode, with the child's key, so two
/// dropout layers of one model draw independent masks from one call seed, and the same seed
/// gives the same masks on every run and at every thread count.
public struct ForwardMode: Sendable, Hashable, CustomStringConvertible {
    /// Training (`true`) or evaluation (`false`).
    public let isTraining: Bool
    /// The seed of this layer's randomness (unused in evaluation).
    public let seed: UInt64

    public init(isTraining: Bool, seed: UInt64 = 0) {
        self.isTraining = isTraining
        self.seed = isTraining ? seed : 0
    }

    /// Running statistics, no dropout.
    public static let evaluation = ForwardMode(isTraining: false)

    /// Batch statistics, dropout drawn from `seed`.
    public static func training(seed: UInt64) -> ForwardMode { ForwardMode(isTraining: true, seed: seed) }

    /// The mode of the child called `key` (e.g. `"3"` or `"conv1"`): same phase, seed mixed with
    /// the key (64-bit FNV-1a of its UTF-8 bytes through the SplitMix64 finaliser), so that the
    /// seed of a layer depends on the call seed and the layer's path only.
    public func child(_ key: String) -> ForwardMode {
        guard isTraining else { return self }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return ForwardMode(isTraining: true, seed: SeedMixing.mix(seed ^ SeedMixing.mix(hash)))
    }

    public var description: String { isTraining ? "training(seed: \(seed))" : "evaluation" }
}

/// What a buffer holds (see ``Layer/bufferKinds``).
public enum BufferKind: Sendable, Hashable {
    /// Real values (running mean and variance), written to checkpoints as `F32`.
    case floatingPoint
    /// Whole numbers stored as `Float` (exact up to 2²⁴), written to checkpoints as `I64`.
    case integer
}

/// A new value for buffer `index` of a layer, computed by a training forward pass.
public struct BufferUpdate: Sendable, Equatable {
    /// Index into the layer's ``Layer/buffers``.
    public let index: Int
    public let value: Tensor

    public init(index: Int, value: Tensor) {
        self.index = index
        self.value = value
    }
}

extension Layer {
    public var parameterNames: [String] { [] }
    public var parameters: [Tensor] { [] }
    public mutating func updateParameters(_ body: (Int, inout Tensor) -> Void) {}

    public var bufferNames: [String] { [] }
    public var buffers: [Tensor] { [] }
    public var bufferKinds: [BufferKind] { buffers.map { _ in .floatingPoint } }
    public mutating func updateBuffers(_ body: (Int, inout Tensor) -> Void) {}

    public func forward(_ input: Tensor, mode: ForwardMode, context: ComputeContext)
        throws(ShapeError) -> (output: Tensor, cache: Cache) {
        try forward(input, context: context)
    }

    public func bufferUpdates(in cache: Cache) -> [BufferUpdate] { [] }

    public func parameterGradients(_ outputGradient: Tensor, cache: Cache, context: ComputeContext) throws(ShapeError) -> [Tensor] {
        try backward(outputGradient, cache: cache, context: context).parameterGradients
    }

    public func callAsFunction(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> Tensor {
        try forward(input, context: context).output
    }

    /// Inference (evaluation mode) on every core the process may use (``ComputeContext/default``),
    /// as PyTorch and BLAS default to; pass `context: .serial` to stay on the caller's thread.
    public func callAsFunction(_ input: Tensor) throws(ShapeError) -> Tensor {
        try callAsFunction(input, context: .default)
    }

    /// Total number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Replaces every parameter by `values` (same order and shapes as ``parameters``).
    ///
    /// - Throws: ``ShapeError`` `.mismatch` when the count or a shape differs (nothing is
    ///   changed then).
    public mutating func setParameters(_ values: [Tensor]) throws(ShapeError) {
        try Self.checkReplacement(values, current: parameters.map(\.shape), names: parameterNames, what: "parameter")
        updateParameters { i, p in p = values[i] }
    }

    /// Replaces every buffer by `values` (same order and shapes as ``buffers``).
    ///
    /// - Throws: ``ShapeError`` `.mismatch` when the count or a shape differs (nothing is
    ///   changed then).
    public mutating func setBuffers(_ values: [Tensor]) throws(ShapeError) {
        try Self.checkReplacement(values, current: buffers.map(\.shape), names: bufferNames, what: "buffer")
        updateBuffers { i, b in b = values[i] }
    }

    /// Writes the buffer values a training forward pass left in `cache` (``bufferUpdates(in:)``):
    /// the running statistics of every batch norm in the model. Nothing happens for a cache of
    /// an evaluation pass.
    ///
    /// - Throws: ``ShapeError`` `.mismatch` when an update does not fit this layer's buffers
    ///   (a cache from another model); nothing is changed then.
    public mutating func applyBufferUpdates(from cache: Cache) throws(ShapeError) {
        let updates = bufferUpdates(in: cache)
        if updates.isEmpty { return }
        let shapes = buffers.map(\.shape), names = bufferNames
        var values = [Tensor?](repeating: nil, count: shapes.count)
        for u in updates {
            guard u.index >= 0 && u.index < shapes.count else {
                throw ShapeError(.mismatch, "buffer update for index \(u.index), the layer has \(shapes.count) buffers")
            }
            if u.value.shape != shapes[u.index] {
                let name = u.index < names.count ? names[u.index] : "#\(u.index)"
                throw ShapeError(.mismatch, "update of buffer \(name) has shape \(u.value.shape), expected \(shapes[u.index])")
            }
            values[u.index] = u.value
        }
        updateBuffers { i, b in if let v = values[i] { b = v } }
    }

    private static func checkReplacement(_ values: [Tensor], current shapes: [Shape], names: [String], what: String) throws(ShapeError) {
        if values.count != shapes.count {
            throw ShapeError(.mismatch, "layer has \(shapes.count) \(what)s, got \(values.count) tensors")
        }
        for i in shapes.indices where shapes[i] != values[i].shape {
            let name = i < names.count ? names[i] : "#\(i)"
            throw ShapeError(.mismatch, "\(what) \(name) has shape \(shapes[i]), got \(values[i].shape)")
        }
    }
}

/// A differentiable function of several tensors without parameters (e.g. ``Add``), for the
/// merge nodes of a ``Graph``.
public protocol MergeLayer: Sendable {
    associatedtype Cache: Sendable
    /// How many inputs ``forward(_:context:)`` takes; ``Graph`` checks it when the node is
    /// added, not at the first forward pass.
    var acceptedInputCounts: ClosedRange<Int> { get }
    func forward(_ inputs: [Tensor], context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Cache)
    /// One gradient per input, in the order of the inputs (fresh tensors).
    func backward(_ outputGradient: Tensor, cache: Cache, context: ComputeContext) throws(ShapeError) -> [Tensor]
}

extension MergeLayer {
    /// Any non-empty list of inputs.
    public var acceptedInputCounts: ClosedRange<Int> { 1...Int.max }
}
