/// Layers applied one after the other: `y = fₖ(…f₂(f₁(x)))`.
///
/// Parameters are those of the layers in order, named `"<index>.<name>"` (e.g. `"0.weight"`),
/// which are the keys of a PyTorch `nn.Sequential` `state_dict` when the layers line up.
public struct Sequential: Layer, ProbedLayer {
    public var layers: [any Layer]

    public init(_ layers: [any Layer]) { self.layers = layers }
    public init(_ layers: any Layer...) { self.layers = layers }

    /// One cache per layer.
    public typealias Cache = [any Sendable]

    public var parameterNames: [String] {
        layers.enumerated().flatMap { i, layer in layer.parameterNames.map { "\(i).\($0)" } }
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

    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Cache) {
        var probe = NonFiniteProbe(active: false)
        return try forward(input, context: context, probe: &probe, path: "")
    }

    func forward(_ input: Tensor, context: ComputeContext, probe: inout NonFiniteProbe, path: String)
        throws(ShapeError) -> (output: Tensor, cache: Cache) {
        var x = input
        var caches: [any Sendable] = []
        caches.reserveCapacity(layers.count)
        for (i, layer) in layers.enumerated() {
            let (y, cache) = try probedForward(layer, x, context, &probe, path: NonFiniteProbe.path(path, i))
            caches.append(cache)
            x = y
        }
        return (x, caches)
    }

    public func callAsFunction(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> Tensor {
        var x = input
        for layer in layers { x = try layer(x, context: context) }
        return x
    }

    public func backward(_ outputGradient: Tensor, cache: Cache, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        var probe = NonFiniteProbe(active: false)
        return try backward(outputGradient, cache: cache, context: context, probe: &probe, path: "")
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
                                              path: NonFiniteProbe.path(path, i))
            perLayer[i] = dθ
            gradient = dx
        }
        return (gradient, perLayer.flatMap { $0 })
    }
}
