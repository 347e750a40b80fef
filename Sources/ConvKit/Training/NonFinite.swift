/// A NaN or ±∞ found by the check of ``Layer/trainStep(input:labels:optimizer:context:checkFinite:)``:
/// where it was (the first layer, in the order of computation, whose output or gradient holds one)
/// and how many elements of that tensor are not finite.
public struct NonFiniteError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Which value of the layer was not finite.
    public enum Stage: String, Hashable, Sendable {
        /// The layer's forward output.
        case output
        /// The loss, although the model's output was finite.
        case loss
        /// The gradient of one of the layer's parameters (named by ``NonFiniteError/tensor``).
        case parameterGradient
        /// The gradient with respect to the layer's input.
        case inputGradient
    }

    public let stage: Stage
    /// The layer's position, the prefix of its ``Layer/parameterNames``: `"3"` for layer 3 of a
    /// ``Sequential`` or node 3 of a ``Graph``, `"1.2"` for a container nested at index 1 (keys
    /// where the containers name their children: `"layer1.0.conv1"`); empty
    /// for the model itself (a model that is not a container) and for the loss.
    public let layer: String
    /// The layer's type (`"Conv2D"`); empty for the loss.
    public let layerType: String
    /// For `.parameterGradient`, the parameter's full name (`"3.weight"`, its checkpoint key);
    /// empty otherwise.
    public let tensor: String
    /// Elements of that tensor that are NaN or ±∞.
    public let count: Int
    /// Elements of that tensor.
    public let elementCount: Int

    public init(stage: Stage, layer: String, layerType: String, tensor: String = "", count: Int, elementCount: Int) {
        self.stage = stage
        self.layer = layer
        self.layerType = layerType
        self.tensor = tensor
        self.count = count
        self.elementCount = elementCount
    }

    public var description: String {
        let place = layer.isEmpty ? "the model (\(layerType))" : "layer \(layer) (\(layerType))"
        let values = "\(count) non-finite value\(count == 1 ? "" : "s") of \(elementCount)"
        switch stage {
        case .output: return "NonFiniteError: output of \(place) has \(values)"
        case .loss: return "NonFiniteError: the loss is not finite although the model's output is"
        case .parameterGradient: return "NonFiniteError: gradient of \(tensor) in \(place) has \(values)"
        case .inputGradient: return "NonFiniteError: input gradient of \(place) has \(values)"
        }
    }
}

/// What ``Layer/trainStep(input:labels:optimizer:context:checkFinite:)`` throws.
public enum TrainingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Bad sizes or labels (nothing was updated).
    case shape(ShapeError)
    /// A non-finite value; the optimiser update was refused (parameters and optimiser state untouched).
    case nonFinite(NonFiniteError)

    public var description: String {
        switch self {
        case .shape(let e): return e.description
        case .nonFinite(let e): return e.description
        }
    }
}

extension Tensor {
    /// `true` when no element is NaN or ±∞: one vectorised pass (`x − x` is 0 for finite `x`,
    /// NaN otherwise).
    public var isFinite: Bool {
        withUnsafeBufferPointer { NonFiniteScan.isFinite($0) }
    }

    /// Number of elements that are NaN or ±∞.
    public var nonFiniteCount: Int {
        withUnsafeBufferPointer { NonFiniteScan.count($0) }
    }
}

enum NonFiniteScan {
    /// Two 16-lane accumulators, so that consecutive adds do not wait on each other.
    static func isFinite(_ x: UnsafeBufferPointer<Float>) -> Bool {
        guard let base = x.baseAddress else { return true }
        let n = x.count
        var a = SIMD16<Float>(repeating: 0), b = SIMD16<Float>(repeating: 0)
        var i = 0
        while i + 32 <= n {
            let u = UnsafeRawPointer(base + i).loadUnaligned(as: SIMD16<Float>.self)
            let v = UnsafeRawPointer(base + i + 16).loadUnaligned(as: SIMD16<Float>.self)
            a += u - u
            b += v - v
            i += 32
        }
        var scalar: Float = (a + b).sum()
        while i < n { scalar += base[i] - base[i]; i += 1 }
        return scalar == 0
    }

    /// Counts elements whose exponent bits are all ones (NaN and ±∞); only on the slow path.
    static func count(_ x: UnsafeBufferPointer<Float>) -> Int {
        if isFinite(x) { return 0 }
        var n = 0
        for v in x where !v.isFinite { n += 1 }
        return n
    }
}

/// The state of a run that looks at every layer's values (``ProbedLayer``): the first non-finite
/// tensor seen, in the order of computation. Inactive, it checks nothing.
struct NonFiniteProbe {
    let isActive: Bool
    private(set) var first: NonFiniteError?

    init(active: Bool) { isActive = active }

    static func path(_ parent: String, _ key: String) -> String { parent.isEmpty ? key : "\(parent).\(key)" }

    mutating func check(_ t: Tensor, _ stage: NonFiniteError.Stage, layer: String, type: Any.Type, tensor: String = "") {
        guard isActive && first == nil else { return }
        let bad = t.nonFiniteCount
        if bad > 0 {
            first = NonFiniteError(stage: stage, layer: layer, layerType: String(describing: type), tensor: tensor,
                                   count: bad, elementCount: t.count)
        }
    }

    /// Records the loss when nothing before it was reported.
    mutating func checkLoss(_ loss: Float) {
        if isActive && first == nil && !loss.isFinite {
            first = NonFiniteError(stage: .loss, layer: "", layerType: "", count: 1, elementCount: 1)
        }
    }
}

/// A container (``Sequential``, ``Graph``) whose forward and backward passes can check each of
/// its layers' values; the plain passes are these with an inactive probe.
protocol ProbedLayer: Layer {
    func forward(_ input: Tensor, mode: ForwardMode, context: ComputeContext, probe: inout NonFiniteProbe, path: String)
        throws(ShapeError) -> (output: Tensor, cache: Cache)
    func backward(_ outputGradient: Tensor, cache: Cache, context: ComputeContext, probe: inout NonFiniteProbe, path: String)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor])
}

/// Forward of one layer of a container: containers recurse, other layers have their output checked.
func probedForward<L: Layer>(_ layer: L, _ input: Tensor, _ mode: ForwardMode, _ context: ComputeContext,
                             _ probe: inout NonFiniteProbe, path: String)
    throws(ShapeError) -> (output: Tensor, cache: any Sendable) {
    if !probe.isActive { return try openForward(layer, input, mode, context) }
    if let container = layer as? any ProbedLayer {
        return try openProbedForward(container, input, mode, context, &probe, path)
    }
    let (y, cache) = try layer.forward(input, mode: mode, context: context)
    probe.check(y, .output, layer: path, type: L.self)
    return (y, cache)
}

/// Backward of one layer of a container: containers recurse, other layers have their parameter
/// gradients (in order) and then their input gradient checked.
func probedBackward<L: Layer>(_ layer: L, _ outputGradient: Tensor, _ cache: any Sendable, _ context: ComputeContext,
                              _ probe: inout NonFiniteProbe, path: String)
    throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
    if !probe.isActive { return try openBackward(layer, outputGradient, cache, context) }
    if let container = layer as? any ProbedLayer {
        return try openProbedBackward(container, outputGradient, cache, context, &probe, path)
    }
    let (dx, dθ) = try openBackward(layer, outputGradient, cache, context)
    let names = layer.parameterNames
    for (i, g) in dθ.enumerated() {
        let name = i < names.count ? names[i] : "#\(i)"
        probe.check(g, .parameterGradient, layer: path, type: L.self, tensor: path.isEmpty ? name : "\(path).\(name)")
    }
    probe.check(dx, .inputGradient, layer: path, type: L.self)
    return (dx, dθ)
}

private func openProbedForward<P: ProbedLayer>(_ layer: P, _ input: Tensor, _ mode: ForwardMode, _ context: ComputeContext,
                                               _ probe: inout NonFiniteProbe, _ path: String)
    throws(ShapeError) -> (output: Tensor, cache: any Sendable) {
    let (y, cache) = try layer.forward(input, mode: mode, context: context, probe: &probe, path: path)
    return (y, cache)
}

private func openProbedBackward<P: ProbedLayer>(_ layer: P, _ outputGradient: Tensor, _ cache: any Sendable,
                                                _ context: ComputeContext, _ probe: inout NonFiniteProbe, _ path: String)
    throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
    guard let typed = cache as? P.Cache else {
        throw ShapeError(.invalidValue, "cache of type \(type(of: cache)) does not belong to layer \(P.self)")
    }
    return try layer.backward(outputGradient, cache: typed, context: context, probe: &probe, path: path)
}
