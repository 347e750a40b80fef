/// A first-order optimiser: updates a model's parameters in place from their gradients.
public protocol Optimizer: Sendable {
    /// One step. `gradients` are aligned with `model.parameters` (what ``Layer/backward(_:cache:context:)``
    /// returns).
    ///
    /// - Throws: ``ShapeError`` `.mismatch` when the number or shapes of the gradients differ
    ///   from the parameters (or from the state built at the first step); nothing is updated then.
    mutating func update<L: Layer>(_ model: inout L, gradients: [Tensor]) throws(ShapeError)
}

enum OptimizerCheck {
    /// Checks gradients against parameters and the optimiser state (`state` empty = first step).
    /// Only shapes are kept (not the tensors), so that the update that follows mutates each
    /// parameter's storage in place instead of copying it.
    static func validate(shapes: [Shape], gradients: [Tensor], state: [Tensor], names: [String]) throws(ShapeError) {
        if gradients.count != shapes.count {
            throw ShapeError(.mismatch, "model has \(shapes.count) parameters, got \(gradients.count) gradients")
        }
        for i in shapes.indices {
            let name = i < names.count ? names[i] : "#\(i)"
            if gradients[i].shape != shapes[i] {
                throw ShapeError(.mismatch, "gradient of \(name) has shape \(gradients[i].shape), expected \(shapes[i])")
            }
            if !state.isEmpty && (state.count != shapes.count || state[i].shape != shapes[i]) {
                throw ShapeError(.mismatch, "optimiser state was built for other parameters (\(name): \(shapes[i]))")
            }
        }
    }
}

/// Stochastic gradient descent with momentum and L2 weight decay (PyTorch's `torch.optim.SGD`
/// with dampening 0, no Nesterov); arithmetic in ``OptimizerKernel/sgd(parameter:gradient:velocity:learningRate:momentum:weightDecay:)``.
///
///     v ← momentum · v + (g + weightDecay · θ);   θ ← θ − learningRate · v
public struct SGD: Optimizer {
    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: Float
    /// One velocity per parameter (empty before the first step).
    public private(set) var velocities: [Tensor] = []

    public init(learningRate: Float, momentum: Float = 0, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    public mutating func update<L: Layer>(_ model: inout L, gradients: [Tensor]) throws(ShapeError) {
        let shapes = model.parameters.map(\.shape)
        try OptimizerCheck.validate(shapes: shapes, gradients: gradients, state: velocities, names: model.parameterNames)
        if velocities.isEmpty { velocities = shapes.map { Tensor.zeros($0) } }
        let (lr, mu, wd) = (learningRate, momentum, weightDecay)
        model.updateParameters { i, parameter in
            parameter.withUnsafeMutableBufferPointer { p in
                gradients[i].withUnsafeBufferPointer { g in
                    velocities[i].withUnsafeMutableBufferPointer { v in
                        OptimizerKernel.sgd(parameter: p, gradient: g, velocity: v,
                                            learningRate: lr, momentum: mu, weightDecay: wd)
                    }
                }
            }
        }
    }
}

/// Adam with bias correction and L2 weight decay (PyTorch's `torch.optim.Adam`); arithmetic in
/// ``OptimizerKernel/adam(parameter:gradient:firstMoment:secondMoment:step:learningRate:beta1:beta2:epsilon:weightDecay:)``.
public struct Adam: Optimizer {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    /// Steps taken so far.
    public private(set) var step = 0
    public private(set) var firstMoments: [Tensor] = []
    public private(set) var secondMoments: [Tensor] = []

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    public mutating func update<L: Layer>(_ model: inout L, gradients: [Tensor]) throws(ShapeError) {
        let shapes = model.parameters.map(\.shape)
        try OptimizerCheck.validate(shapes: shapes, gradients: gradients, state: firstMoments, names: model.parameterNames)
        if firstMoments.isEmpty {
            firstMoments = shapes.map { Tensor.zeros($0) }
            secondMoments = firstMoments
        }
        step += 1
        let (t, lr, b1, b2, eps, wd) = (step, learningRate, beta1, beta2, epsilon, weightDecay)
        model.updateParameters { i, parameter in
            parameter.withUnsafeMutableBufferPointer { p in
                gradients[i].withUnsafeBufferPointer { g in
                    firstMoments[i].withUnsafeMutableBufferPointer { m in
                        secondMoments[i].withUnsafeMutableBufferPointer { v in
                            OptimizerKernel.adam(parameter: p, gradient: g, firstMoment: m, secondMoment: v, step: t,
                                                 learningRate: lr, beta1: b1, beta2: b2, epsilon: eps, weightDecay: wd)
                        }
                    }
                }
            }
        }
    }
}
