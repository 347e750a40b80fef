/// A differentiable function of one tensor with (possibly) trainable parameters.
///
/// A layer is a value: parameters are stored properties (`var`), hyper-parameters are `let`.
/// It does no arithmetic itself: it validates shapes (throwing ``ShapeError``) and calls the
/// kernels of `ConvKitKernels`.
///
/// Training uses the pair ``forward(_:context:)`` / ``backward(_:cache:context:)``:
///
///     let (y, cache) = try layer.forward(x, context: ctx)            // y = f(x; θ)
///     let (dx, dθ)   = try layer.backward(dy, cache: cache, context: ctx)
///     // dx = (∂f/∂x)ᵀ · dy,  dθ[i] = (∂f/∂θ_i)ᵀ · dy  (fresh tensors, never accumulated)
///
/// `dθ` is aligned with ``parameters`` (same order, same shapes).
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

    /// Output and cache for the backward pass.
    func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Cache)

    /// Gradients with respect to the input and to each parameter, given the gradient of the
    /// loss with respect to the output. Returns fresh tensors (nothing is accumulated).
    func backward(_ outputGradient: Tensor, cache: Cache, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor])

    /// Inference: the output only.
    func callAsFunction(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> Tensor
}

extension Layer {
    public var parameterNames: [String] { [] }
    public var parameters: [Tensor] { [] }
    public mutating func updateParameters(_ body: (Int, inout Tensor) -> Void) {}

    public func callAsFunction(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> Tensor {
        try forward(input, context: context).output
    }

    /// Inference on the caller's thread.
    public func callAsFunction(_ input: Tensor) throws(ShapeError) -> Tensor {
        try callAsFunction(input, context: .serial)
    }

    /// Total number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Replaces every parameter by `values` (same order and shapes as ``parameters``).
    ///
    /// - Throws: ``ShapeError`` `.mismatch` when the count or a shape differs (nothing is
    ///   changed then).
    public mutating func setParameters(_ values: [Tensor]) throws(ShapeError) {
        let shapes = parameters.map(\.shape)
        if values.count != shapes.count {
            throw ShapeError(.mismatch, "layer has \(shapes.count) parameters, got \(values.count) tensors")
        }
        let names = parameterNames
        for i in shapes.indices where shapes[i] != values[i].shape {
            let name = i < names.count ? names[i] : "#\(i)"
            throw ShapeError(.mismatch, "parameter \(name) has shape \(shapes[i]), got \(values[i].shape)")
        }
        updateParameters { i, p in p = values[i] }
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
