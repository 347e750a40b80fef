/// Batch normalisation of `[N, C, H, W]` images per channel (PyTorch's `nn.BatchNorm2d`).
///
///     x̂ = (x − μ_c) / √(v_c + ε),   y = γ_c · x̂ + β_c        (γ = weight, β = bias: [C])
///
/// - **Training** (``ForwardMode/training(seed:)``, or always when the layer does not track
///   running statistics): `μ, v` are the batch's mean and **biased** variance over the
///   `N·H·W` values of each channel. The cache then carries the new running statistics
///   (``Layer/applyBufferUpdates(from:)`` writes them):
///   `running = (1 − f) · running + f · batch` with `f = momentum` (or `1/num_batches_tracked`
///   when `momentum` is `nil`: the cumulative average), the variance's batch term being the
///   **unbiased** variance (`· m/(m − 1)`, `m = N·H·W`), and `num_batches_tracked + 1`.
///   A channel needs more than one value (`m ≥ 2`): PyTorch's
///   "Expected more than 1 value per channel when training".
/// - **Evaluation**: `μ, v` are ``runningMean`` and ``runningVariance``: an affine map.
///
/// Backward (``BatchNormKernel/backward(batchStatistics:normalized:outputGradient:batch:channels:plane:inverseStandardDeviation:weight:inputGradient:weightGradient:biasGradient:context:)``):
/// through the batch statistics in training, through the fixed affine map in evaluation.
/// Parameters `weight`, `bias` (only when affine); buffers `running_mean`, `running_var`,
/// `num_batches_tracked` (only when tracking running statistics), PyTorch's `state_dict` names.
public struct BatchNorm2D: Layer {
    var core: BatchNormCore

    /// - Parameters:
    ///   - channels: `C` (PyTorch's `num_features`).
    ///   - epsilon: `ε` added to the variance (PyTorch's default 1e-5).
    ///   - momentum: the weight of a new batch in the running statistics (PyTorch's default 0.1);
    ///     `nil` averages all batches equally.
    ///   - affine: learn `weight` (ones) and `bias` (zeros).
    ///   - trackRunningStatistics: keep running statistics (zero mean, unit variance at first) and
    ///     use them in evaluation; without them both modes use the batch's statistics.
    /// - Throws: ``ShapeError`` `.nonPositive` for `channels < 1`, `.invalidValue` for an
    ///   `epsilon` that is not finite and positive or a `momentum` outside `[0, 1]`.
    public init(channels: Int, epsilon: Float = 1e-5, momentum: Float? = 0.1, affine: Bool = true,
                trackRunningStatistics: Bool = true) throws(ShapeError) {
        core = try BatchNormCore(name: "BatchNorm2D", channels: channels, epsilon: epsilon, momentum: momentum,
                                 affine: affine, trackRunningStatistics: trackRunningStatistics)
    }

    /// `C`.
    public var channels: Int { core.channels }
    public var epsilon: Float { core.epsilon }
    /// `nil`: cumulative average.
    public var momentum: Float? { core.momentum }
    public var isAffine: Bool { core.isAffine }
    public var tracksRunningStatistics: Bool { core.tracksRunningStatistics }
    /// `γ` `[C]` when affine, empty (`[0]`) otherwise.
    public var weight: Tensor { get { core.weight } set { core.weight = newValue } }
    /// `β` `[C]` when affine, empty (`[0]`) otherwise.
    public var bias: Tensor { get { core.bias } set { core.bias = newValue } }
    /// `[C]` when tracking running statistics, empty (`[0]`) otherwise.
    public var runningMean: Tensor { get { core.runningMean } set { core.runningMean = newValue } }
    /// `[C]` (unbiased batch variances averaged) when tracking, empty (`[0]`) otherwise.
    public var runningVariance: Tensor { get { core.runningVariance } set { core.runningVariance = newValue } }
    /// A scalar (shape `[]`) counting training batches when tracking, empty (`[0]`) otherwise.
    /// Held as a `Float`, exact up to 2²⁴ batches.
    public var numBatchesTracked: Tensor { get { core.numBatchesTracked } set { core.numBatchesTracked = newValue } }

    public typealias Cache = BatchNormCache

    public var parameterNames: [String] { core.parameterNames }
    public var parameters: [Tensor] { core.parameters }
    public mutating func updateParameters(_ body: (Int, inout Tensor) -> Void) { core.updateParameters(body) }
    public var bufferNames: [String] { core.bufferNames }
    public var buffers: [Tensor] { core.buffers }
    public var bufferKinds: [BufferKind] { core.bufferKinds }
    public mutating func updateBuffers(_ body: (Int, inout Tensor) -> Void) { core.updateBuffers(body) }
    public func bufferUpdates(in cache: BatchNormCache) -> [BufferUpdate] { cache.updates }

    /// `(batch, plane)` of an `[N, C, H, W]` input.
    ///
    /// - Throws: ``ShapeError`` `.mismatch` for another rank or channel count.
    func layout(_ shape: Shape) throws(ShapeError) -> (batch: Int, plane: Int) {
        try ShapeCheck.rank(shape, 4, "BatchNorm2D input", layout: "[batch, channels, height, width]")
        try ShapeCheck.axis(shape, 1, core.channels, "BatchNorm2D input", "channels")
        return (shape[0], shape[2] * shape[3])
    }

    /// Evaluation mode.
    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: BatchNormCache) {
        try forward(input, mode: .evaluation, context: context)
    }

    public func forward(_ input: Tensor, mode: ForwardMode, context: ComputeContext)
        throws(ShapeError) -> (output: Tensor, cache: BatchNormCache) {
        try core.forward(input, layout: try layout(input.shape), training: mode.isTraining, context: context)
    }

    /// Returns `(dL/dx, [dL/dweight, dL/dbias])` (no parameter gradients when not affine).
    public func backward(_ outputGradient: Tensor, cache: BatchNormCache, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        try core.backward(outputGradient, cache: cache, context: context)
    }
}

/// Batch normalisation of `[N, C]` features or `[N, C, L]` sequences per channel (PyTorch's
/// `nn.BatchNorm1d`): the rules of ``BatchNorm2D`` with the statistics of each channel taken
/// over `N` (rank 2) or `N·L` (rank 3) values.
public struct BatchNorm1D: Layer {
    var core: BatchNormCore

    /// The parameters of ``BatchNorm2D/init(channels:epsilon:momentum:affine:trackRunningStatistics:)``.
    public init(channels: Int, epsilon: Float = 1e-5, momentum: Float? = 0.1, affine: Bool = true,
                trackRunningStatistics: Bool = true) throws(ShapeError) {
        core = try BatchNormCore(name: "BatchNorm1D", channels: channels, epsilon: epsilon, momentum: momentum,
                                 affine: affine, trackRunningStatistics: trackRunningStatistics)
    }

    public var channels: Int { core.channels }
    public var epsilon: Float { core.epsilon }
    public var momentum: Float? { core.momentum }
    public var isAffine: Bool { core.isAffine }
    public var tracksRunningStatistics: Bool { core.tracksRunningStatistics }
    public var weight: Tensor { get { core.weight } set { core.weight = newValue } }
    public var bias: Tensor { get { core.bias } set { core.bias = newValue } }
    public var runningMean: Tensor { get { core.runningMean } set { core.runningMean = newValue } }
    public var runningVariance: Tensor { get { core.runningVariance } set { core.runningVariance = newValue } }
    public var numBatchesTracked: Tensor { get { core.numBatchesTracked } set { core.numBatchesTracked = newValue } }

    public typealias Cache = BatchNormCache

    public var parameterNames: [String] { core.parameterNames }
    public var parameters: [Tensor] { core.parameters }
    public mutating func updateParameters(_ body: (Int, inout Tensor) -> Void) { core.updateParameters(body) }
    public var bufferNames: [String] { core.bufferNames }
    public var buffers: [Tensor] { core.buffers }
    public var bufferKinds: [BufferKind] { core.bufferKinds }
    public mutating func updateBuffers(_ body: (Int, inout Tensor) -> Void) { core.updateBuffers(body) }
    public func bufferUpdates(in cache: BatchNormCache) -> [BufferUpdate] { cache.updates }

    /// `(batch, plane)` of an `[N, C]` (plane 1) or `[N, C, L]` (plane `L`) input.
    ///
    /// - Throws: ``ShapeError`` `.mismatch` for another rank or channel count.
    func layout(_ shape: Shape) throws(ShapeError) -> (batch: Int, plane: Int) {
        if shape.rank != 2 && shape.rank != 3 {
            throw ShapeError(.mismatch,
                "BatchNorm1D input must have rank 2 or 3 ([batch, channels] or [batch, channels, length]), got shape \(shape)")
        }
        try ShapeCheck.axis(shape, 1, core.channels, "BatchNorm1D input", "channels")
        return (shape[0], shape.rank == 3 ? shape[2] : 1)
    }

    /// Evaluation mode.
    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: BatchNormCache) {
        try forward(input, mode: .evaluation, context: context)
    }

    public func forward(_ input: Tensor, mode: ForwardMode, context: ComputeContext)
        throws(ShapeError) -> (output: Tensor, cache: BatchNormCache) {
        try core.forward(input, layout: try layout(input.shape), training: mode.isTraining, context: context)
    }

    /// Returns `(dL/dx, [dL/dweight, dL/dbias])` (no parameter gradients when not affine).
    public func backward(_ outputGradient: Tensor, cache: BatchNormCache, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        try core.backward(outputGradient, cache: cache, context: context)
    }
}

/// What a batch norm's backward pass needs, and the running statistics a training pass computed.
public struct BatchNormCache: Sendable {
    /// `x̂`, the shape of the input.
    public let normalized: Tensor
    /// `1/√(v_c + ε)` per channel, with the statistics the forward pass used.
    public let inverseStandardDeviation: [Float]
    /// Whether the forward pass normalised with the batch's statistics (the gradient then flows
    /// through them).
    public let usedBatchStatistics: Bool
    /// New buffer values (empty unless a training pass of a layer tracking running statistics).
    public let updates: [BufferUpdate]
    let batch: Int
    let plane: Int
}

/// The state and arithmetic shared by ``BatchNorm1D`` and ``BatchNorm2D`` (they differ only in
/// the input layouts they accept).
struct BatchNormCore: Sendable {
    let name: String
    let channels: Int
    let epsilon: Float
    let momentum: Float?
    let isAffine: Bool
    let tracksRunningStatistics: Bool
    var weight: Tensor
    var bias: Tensor
    var runningMean: Tensor
    var runningVariance: Tensor
    var numBatchesTracked: Tensor

    init(name: String, channels: Int, epsilon: Float, momentum: Float?, affine: Bool,
         trackRunningStatistics: Bool) throws(ShapeError) {
        if channels < 1 { throw ShapeError(.nonPositive, "\(name) needs channels >= 1, got \(channels)") }
        if !(epsilon.isFinite && epsilon > 0) {
            throw ShapeError(.invalidValue, "\(name) epsilon must be finite and > 0, got \(epsilon)")
        }
        if let momentum, !(momentum >= 0 && momentum <= 1) {
            throw ShapeError(.invalidValue, "\(name) momentum must lie in [0, 1], got \(momentum)")
        }
        let vector = try Shape([channels]), empty = Shape(uncheckedDimensions: [0], count: 0)
        self.name = name
        self.channels = channels
        self.epsilon = epsilon
        self.momentum = momentum
        self.isAffine = affine
        self.tracksRunningStatistics = trackRunningStatistics
        weight = affine ? Tensor(shape: vector, repeating: 1) : Tensor.zeros(empty)
        bias = affine ? Tensor.zeros(vector) : Tensor.zeros(empty)
        runningMean = trackRunningStatistics ? Tensor.zeros(vector) : Tensor.zeros(empty)
        runningVariance = trackRunningStatistics ? Tensor(shape: vector, repeating: 1) : Tensor.zeros(empty)
        numBatchesTracked = trackRunningStatistics ? Tensor.zeros(Shape(uncheckedDimensions: [], count: 1)) : Tensor.zeros(empty)
    }

    var parameterNames: [String] { isAffine ? ["weight", "bias"] : [] }
    var parameters: [Tensor] { isAffine ? [weight, bias] : [] }
    mutating func updateParameters(_ body: (Int, inout Tensor) -> Void) {
        guard isAffine else { return }
        body(0, &weight)
        body(1, &bias)
    }

    var bufferNames: [String] { tracksRunningStatistics ? ["running_mean", "running_var", "num_batches_tracked"] : [] }
    var buffers: [Tensor] { tracksRunningStatistics ? [runningMean, runningVariance, numBatchesTracked] : [] }
    var bufferKinds: [BufferKind] { tracksRunningStatistics ? [.floatingPoint, .floatingPoint, .integer] : [] }
    mutating func updateBuffers(_ body: (Int, inout Tensor) -> Void) {
        guard tracksRunningStatistics else { return }
        body(0, &runningMean)
        body(1, &runningVariance)
        body(2, &numBatchesTracked)
    }

    /// Throws `.mismatch` unless the public `var`s still have the shapes the layer was made with.
    func validateState() throws(ShapeError) {
        let vector = Shape(uncheckedDimensions: [channels], count: channels), empty = Shape(uncheckedDimensions: [0], count: 0)
        try ShapeCheck.equal(weight.shape, isAffine ? vector : empty, "\(name) weight")
        try ShapeCheck.equal(bias.shape, isAffine ? vector : empty, "\(name) bias")
        try ShapeCheck.equal(runningMean.shape, tracksRunningStatistics ? vector : empty, "\(name) running_mean")
        try ShapeCheck.equal(runningVariance.shape, tracksRunningStatistics ? vector : empty, "\(name) running_var")
        try ShapeCheck.equal(numBatchesTracked.shape,
                             tracksRunningStatistics ? Shape(uncheckedDimensions: [], count: 1) : empty, "\(name) num_batches_tracked")
    }

    func forward(_ input: Tensor, layout: (batch: Int, plane: Int), training: Bool, context: ComputeContext)
        throws(ShapeError) -> (output: Tensor, cache: BatchNormCache) {
        try validateState()
        let (batch, plane) = layout
        let values = batch * plane
        let batchStatistics = training || !tracksRunningStatistics
        if batchStatistics && values < 2 {
            throw ShapeError(.invalidValue,
                "\(name) expected more than 1 value per channel when using batch statistics, got input shape \(input.shape)")
        }
        var mean = Scratch(copying: runningMean), variance = Scratch(copying: runningVariance)
        if batchStatistics {
            mean = scratch(channels)
            variance = scratch(channels)
            input.withUnsafeBufferPointer { x in
                mean.withUnsafeMutableBufferPointer { mu in
                    variance.withUnsafeMutableBufferPointer { v in
                        BatchNormKernel.statistics(input: x, batch: batch, channels: channels, plane: plane,
                                                   mean: mu, variance: v, context: context)
                    }
                }
            }
        }
        var inverse = scratch(channels)
        variance.withUnsafeBufferPointer { v in
            inverse.withUnsafeMutableBufferPointer { s in
                BatchNormKernel.inverseStandardDeviation(variance: v, epsilon: epsilon, output: s)
            }
        }
        var normalized = scratch(input.count), output = scratch(input.count)
        input.withUnsafeBufferPointer { x in
            mean.withUnsafeBufferPointer { mu in
                inverse.withUnsafeBufferPointer { s in
                    weight.withUnsafeBufferPointer { w in
                        bias.withUnsafeBufferPointer { b in
                            normalized.withUnsafeMutableBufferPointer { h in
                                output.withUnsafeMutableBufferPointer { y in
                                    BatchNormKernel.forward(input: x, batch: batch, channels: channels, plane: plane,
                                                            mean: mu, inverseStandardDeviation: s,
                                                            weight: isAffine ? w : nil, bias: isAffine ? b : nil,
                                                            normalized: h, output: y, context: context)
                                }
                            }
                        }
                    }
                }
            }
        }
        var updates: [BufferUpdate] = []
        if training && tracksRunningStatistics {
            let count = numBatchesTracked[flat: 0] + 1
            let factor = momentum ?? 1 / count
            var newMean = runningMean, newVariance = runningVariance
            newMean.withUnsafeMutableBufferPointer { rm in
                newVariance.withUnsafeMutableBufferPointer { rv in
                    mean.withUnsafeBufferPointer { mu in
                        variance.withUnsafeBufferPointer { v in
                            BatchNormKernel.updateRunningStatistics(runningMean: rm, runningVariance: rv, batchMean: mu,
                                                                    batchVariance: v, count: values, factor: factor)
                        }
                    }
                }
            }
            var counter = numBatchesTracked
            counter[flat: 0] = count
            updates = [BufferUpdate(index: 0, value: newMean), BufferUpdate(index: 1, value: newVariance),
                       BufferUpdate(index: 2, value: counter)]
        }
        let cache = BatchNormCache(normalized: Tensor(uncheckedShape: input.shape, scalars: normalized),
                                   inverseStandardDeviation: inverse.array, usedBatchStatistics: batchStatistics,
                                   updates: updates, batch: batch, plane: plane)
        return (Tensor(uncheckedShape: input.shape, scalars: output), cache)
    }

    func backward(_ outputGradient: Tensor, cache: BatchNormCache, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        try ShapeCheck.equal(outputGradient.shape, cache.normalized.shape, "\(name) output gradient")
        try validateState()
        if cache.inverseStandardDeviation.count != channels || cache.batch * channels * cache.plane != cache.normalized.count {
            throw ShapeError(.mismatch, "\(name) cache holds \(cache.inverseStandardDeviation.count) channels, the layer has \(channels)")
        }
        let count = cache.normalized.count
        var dx = scratch(count)
        var dw = scratch(isAffine ? channels : 0), db = scratch(isAffine ? channels : 0)
        cache.normalized.withUnsafeBufferPointer { h in
            outputGradient.withUnsafeBufferPointer { dy in
                cache.inverseStandardDeviation.withUnsafeBufferPointer { s in
                    weight.withUnsafeBufferPointer { w in
                        dx.withUnsafeMutableBufferPointer { dxp in
                            dw.withUnsafeMutableBufferPointer { dwp in
                                db.withUnsafeMutableBufferPointer { dbp in
                                    BatchNormKernel.backward(batchStatistics: cache.usedBatchStatistics, normalized: h,
                                                             outputGradient: dy, batch: cache.batch, channels: channels,
                                                             plane: cache.plane, inverseStandardDeviation: s,
                                                             weight: isAffine ? w : nil, inputGradient: dxp,
                                                             weightGradient: isAffine ? dwp : nil,
                                                             biasGradient: isAffine ? dbp : nil, context: context)
                                }
                            }
                        }
                    }
                }
            }
        }
        let gradients = isAffine ? [Tensor(uncheckedShape: weight.shape, scalars: dw), Tensor(uncheckedShape: bias.shape, scalars: db)] : []
        return (Tensor(uncheckedShape: outputGradient.shape, scalars: dx), gradients)
    }
}
