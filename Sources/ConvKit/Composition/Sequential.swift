/// Layers applied one after the other: `y = fₖ(…f₂(f₁(x)))`.
///
/// Each layer has a key, by default its index (`"0"`, `"1"`, …), or the names given to
/// ``init(named:)`` (`"conv1"`, `"bn1"`, `"layer1"`, like the attribute names of a PyTorch
/// module). Parameters and buffers are those of the layers in order, named `"<key>.<name>"`
/// (`"0.weight"`, `"layer1.0.bn1.running_var"` when containers nest), which are the keys of the
/// matching PyTorch `state_dict`. In training mode each layer gets the mode's
/// ``ForwardMode/child(_:)`` for its key.
public struct Sequential: Layer, ProbedLayer {
    public var layers: [any Layer]
    /// The key of each layer. Layers beyond the end of this list (appended to ``layers`` later)
    /// are keyed by their index.
    public private(set) var keys: [String]

    public init(_ layers: [any Layer]) {
        self.layers = layers
        self.keys = layers.indices.map { String($0) }
    }
    public init(_ layers: any Layer...) { self.init(layers) }

    /// Layers with the given keys, in order: `Sequential(named: ["conv1": conv, "bn1": bn])`.
    ///
    /// - Throws: ``ShapeError`` `.invalidValue` for an empty key, a key containing `.`, or a
    ///   key given twice.
    public init(named layers: KeyValuePairs<String, any Layer>) throws(ShapeError) {
        try self.init(keyed: layers.map { (key: $0.key, layer: $0.value) })
    }

    /// Layers with the given keys, from a list built at run time (a model whose optional parts
    /// depend on its options); the keys are checked as in ``init(named:)``.
    public init(keyed layers: [(key: String, layer: any Layer)]) throws(ShapeError) {
        var seen = Set<String>()
        for (key, _) in layers {
            try validateChildKey(key, "Sequential")
            if !seen.insert(key).inserted { throw ShapeError(.invalidValue, "Sequential child key '\(key)' is given twice") }
        }
        self.layers = layers.map { $0.layer }
        self.keys = layers.map { $0.key }
    }

    /// The key of layer `index` (see ``keys``).
    public func key(at index: Int) -> String { index < keys.count ? keys[index] : String(index) }

    /// One cache per layer.
    public typealias Cache = [any Sendable]

    public var parameterNames: [String] {
        layers.enumerated().flatMap { i, layer in layer.parameterNames.map { "\(key(at: i)).\($0)" } }
    }
    public var parameters: [Tensor] { layers.flatMap { $0.parameters } }

    public mutating func updateParameters(_ body: (Int, inout Tensor) -> Void) {
        var offset = 0
        for i in layers.indices {
            let count = layers[i].parameters.count
            openUpdate(&layers[i], offset: offset, body)
            offset += count
        }
    }

    public var bufferNames: [String] {
        layers.enumerated().flatMap { i, layer in layer.bufferNames.map { "\(key(at: i)).\($0)" } }
    }
    public var buffers: [Tensor] { layers.flatMap { $0.buffers } }
    public var bufferKinds: [BufferKind] { layers.flatMap { $0.bufferKinds } }

    public mutating func updateBuffers(_ body: (Int, inout Tensor) -> Void) {
        var offset = 0
        for i in layers.indices {
            let count = layers[i].buffers.count
            openUpdateBuffers(&layers[i], offset: offset, body)
            offset += count
        }
    }

    public func bufferUpdates(in cache: Cache) -> [BufferUpdate] {
        var updates: [BufferUpdate] = []
        var offset = 0
        for (i, layer) in layers.enumerated() {
            if i < cache.count { updates += openBufferUpdates(layer, cache[i], offset: offset) }
            offset += layer.buffers.count
        }
        return updates
    }

    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Cache) {
        try forward(input, mode: .evaluation, context: context)
    }

    public func forward(_ input: Tensor, mode: ForwardMode, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Cache) {
        var probe = NonFiniteProbe(active: false)
        return try forward(input, mode: mode, context: context, probe: &probe, path: "")
    }

    func forward(_ input: Tensor, mode: ForwardMode, context: ComputeContext, probe: inout NonFiniteProbe, path: String)
        throws(ShapeError) -> (output: Tensor, cache: Cache) {
        var x = input
        var caches: [any Sendable] = []
        caches.reserveCapacity(layers.count)
        var i = 0
        while i < layers.count {
            if !probe.isActive, let conv = fusibleConvolution(at: i) {
                // Conv2D then ReLU in one pass: the ReLU's cache is its output, as its own forward keeps.
                let (y, cache) = try conv.forward(x, activation: .relu, context: context)
                caches.append(cache)
                caches.append(y)
                x = y
                i += 2
                continue
            }
            let key = key(at: i), layer = layers[i]
            let (y, cache) = try probedForward(layer, x, mode.child(key), context, &probe, path: NonFiniteProbe.path(path, key))
            caches.append(cache)
            x = y
            i += 1
        }
        return (x, caches)
    }

    public func callAsFunction(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> Tensor {
        var x = input
        var i = 0
        while i < layers.count {
            if let conv = fusibleConvolution(at: i) {
                x = try conv.forward(x, activation: .relu, context: context).output
                i += 2
            } else {
                x = try layers[i](x, context: context)
                i += 1
            }
        }
        return x
    }

    /// Layer `i` when it is a ``Conv2D`` without fused activation followed by a ``ReLU`` (SIMD):
    /// the pair runs as one convolution with a ReLU epilogue, one pass over the output fewer.
    private func fusibleConvolution(at i: Int) -> Conv2D? {
        guard i + 1 < layers.count, let conv = layers[i] as? Conv2D, conv.activation == .identity,
              let relu = layers[i + 1] as? ReLU, relu.algorithm == .simd else { return nil }
        return conv
    }

    public func backward(_ outputGradient: Tensor, cache: Cache, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        var probe = NonFiniteProbe(active: false)
        return try backward(outputGradient, cache: cache, context: context, probe: &probe, path: "")
    }

    /// No input gradient: the layers before the first one with parameters (padding, …) run no
    /// backward at all, and that one runs ``Layer/parameterGradients(_:cache:context:)``.
    public func parameterGradients(_ outputGradient: Tensor, cache: Cache, context: ComputeContext) throws(ShapeError) -> [Tensor] {
        if cache.count != layers.count {
            throw ShapeError(.mismatch, "Sequential cache holds \(cache.count) entries, expected \(layers.count) (one per layer)")
        }
        guard let first = layers.firstIndex(where: { !$0.parameters.isEmpty }) else {
            return []  // no parameters: nothing to compute
        }
        var gradient = outputGradient
        var perLayer = [[Tensor]](repeating: [], count: layers.count)
        for i in layers.indices.dropFirst(first + 1).reversed() {
            let (dx, dθ) = try openBackward(layers[i], gradient, cache[i], context)
            perLayer[i] = dθ
            gradient = dx
        }
        perLayer[first] = try openParameterGradients(layers[first], gradient, cache[first], context)
        return perLayer.flatMap { $0 }
    }

    func backward(_ outputGradient: Tensor, cache: Cache, context: ComputeContext, probe: inout NonFiniteProbe, path: String)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        if cache.count != layers.count {
            throw ShapeError(.mismatch, "Sequential cache holds \(cache.count) entries, expected \(layers.count) (one per layer)")
        }
        var gradient = outputGradient
        var perLayer = [[Tensor]](repeating: [], count: layers.count)
        for i in layers.indices.reversed() {
            let (dx, dθ) = try probedBackward(layers[i], gradient, cache[i], context, &probe,
                                              path: NonFiniteProbe.path(path, key(at: i)))
            perLayer[i] = dθ
            gradient = dx
        }
        return (gradient, perLayer.flatMap { $0 })
    }
}
