/// A directed acyclic graph of layers with one input and one output, for networks where one
/// value feeds several layers (residual blocks, `z1 → {z2, z3} → z4`).
///
/// Nodes are added in topological order: each new node reads nodes that already exist.
///
///     var g = Graph()
///     let z1 = try g.add(Dense(…), input: g.input)
///     let z2 = try g.add(ReLU(), input: z1)
///     let z3 = try g.add(Dense(…), input: z1)
///     let z4 = try g.add(Add(), inputs: [z2, z3])
///     try g.setOutput(z4)
///
/// Backward: every node's gradient starts at **zero** and **accumulates** (`+=`) the
/// input-gradient of each consumer, visited in reverse topological order, so a value used by
/// several layers receives the sum of their contributions. Parameters are named
/// `"<node>.<name>"`.
public struct Graph: Layer, ProbedLayer {
    /// A value of the graph (the input, or a layer's output).
    public struct Node: Hashable, Sendable, CustomStringConvertible {
        public let index: Int
        public var description: String { "node \(index)" }
    }

    enum Operation: Sendable {
        case input
        case layer(any Layer, Node)
        case merge(any MergeLayer, [Node])
    }

    private(set) var operations: [Operation] = [.input]
    /// The node whose value is the graph's output (initially the input).
    public private(set) var output = Node(index: 0)

    public init() {}

    /// The graph's input value.
    public var input: Node { Node(index: 0) }

    /// Number of nodes, the input included.
    public var nodeCount: Int { operations.count }

    private func check(_ node: Node) throws(ShapeError) {
        if node.index < 0 || node.index >= operations.count {
            throw ShapeError(.invalidValue, "\(node) does not exist in this graph (nodes 0..<\(operations.count))")
        }
    }

    /// Adds `layer` applied to `input`; returns its output node.
    @discardableResult
    public mutating func add(_ layer: some Layer, input: Node) throws(ShapeError) -> Node {
        try check(input)
        operations.append(.layer(layer, input))
        output = Node(index: operations.count - 1)
        return output
    }

    /// Adds a merge (e.g. ``Add``) of `inputs`; returns its output node.
    ///
    /// - Throws: ``ShapeError`` `.invalidValue` for an unknown node, or when the number of inputs
    ///   is outside the layer's ``MergeLayer/acceptedInputCounts``.
    @discardableResult
    public mutating func add(_ layer: some MergeLayer, inputs: [Node]) throws(ShapeError) -> Node {
        let accepted = layer.acceptedInputCounts
        if !accepted.contains(inputs.count) {
            let needs = accepted.upperBound == Int.max ? "at least \(accepted.lowerBound)"
                : accepted.count == 1 ? "\(accepted.lowerBound)" : "\(accepted.lowerBound) to \(accepted.upperBound)"
            throw ShapeError(.invalidValue,
                "\(type(of: layer)) needs \(needs) inputs, got \(inputs.count) (graph node \(operations.count))")
        }
        for node in inputs { try check(node) }
        operations.append(.merge(layer, inputs))
        output = Node(index: operations.count - 1)
        return output
    }

    /// Makes `node` the graph's output (by default the last node added).
    public mutating func setOutput(_ node: Node) throws(ShapeError) {
        try check(node)
        output = node
    }

    /// The layer computing `node`, if it is a single-input layer.
    public func layer(at node: Node) -> (any Layer)? {
        guard node.index >= 0 && node.index < operations.count, case .layer(let l, _) = operations[node.index] else { return nil }
        return l
    }

    public var parameterNames: [String] {
        operations.enumerated().flatMap { i, op -> [String] in
            if case .layer(let l, _) = op { return l.parameterNames.map { "\(i).\($0)" } }
            return []
        }
    }

    public var parameters: [Tensor] {
        operations.flatMap { op -> [Tensor] in
            if case .layer(let l, _) = op { return l.parameters }
            return []
        }
    }

    public mutating func updateParameters(_ body: (Int, inout Tensor) -> Void) {
        var offset = 0
        for i in operations.indices {
            guard case .layer(var l, let source) = operations[i] else { continue }
            operations[i] = .input  // drop the graph's reference so the update mutates in place
            let count = l.parameters.count
            openUpdate(&l, offset: offset, body)
            operations[i] = .layer(l, source)
            offset += count
        }
    }

    /// Every node's output shape and cache.
    public struct Cache: Sendable {
        let shapes: [Shape]
        let caches: [(any Sendable)?]
    }

    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Cache) {
        var probe = NonFiniteProbe(active: false)
        return try forward(input, context: context, probe: &probe, path: "")
    }

    func forward(_ input: Tensor, context: ComputeContext, probe: inout NonFiniteProbe, path: String)
        throws(ShapeError) -> (output: Tensor, cache: Cache) {
        var values: [Tensor] = [input]
        var caches: [(any Sendable)?] = [nil]
        values.reserveCapacity(operations.count)
        for (i, op) in operations.enumerated().dropFirst() {
            let node = NonFiniteProbe.path(path, i)
            switch op {
            case .input:
                throw ShapeError(.invalidValue, "graph has a second input node")
            case .layer(let l, let source):
                let (y, c) = try probedForward(l, values[source.index], context, &probe, path: node)
                values.append(y); caches.append(c)
            case .merge(let m, let sources):
                let (y, c) = try openMergeForward(m, sources.map { values[$0.index] }, context)
                probe.check(y, .output, layer: node, type: type(of: m))
                values.append(y); caches.append(c)
            }
        }
        return (values[output.index], Cache(shapes: values.map(\.shape), caches: caches))
    }

    public func backward(_ outputGradient: Tensor, cache: Cache, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        var probe = NonFiniteProbe(active: false)
        return try backward(outputGradient, cache: cache, context: context, probe: &probe, path: "")
    }

    func backward(_ outputGradient: Tensor, cache: Cache, context: ComputeContext, probe: inout NonFiniteProbe, path: String)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        if cache.shapes.count != operations.count {
            throw ShapeError(.mismatch, "Graph cache has \(cache.shapes.count) nodes, expected \(operations.count)")
        }
        try ShapeCheck.equal(outputGradient.shape, cache.shapes[output.index], "Graph output gradient")
        // Gradients start at zero for every node and accumulate over consumers.
        var gradients = cache.shapes.map { Tensor.zeros($0) }
        var reached = [Bool](repeating: false, count: operations.count)
        Self.accumulate(outputGradient, into: &gradients[output.index], context: context)
        reached[output.index] = true
        var perNode = [[Tensor]](repeating: [], count: operations.count)
        for i in operations.indices.reversed() {
            switch operations[i] {
            case .input:
                continue
            case .layer(let l, let source):
                if !reached[i] {
                    perNode[i] = l.parameters.map { Tensor.zeros($0.shape) }  // does not feed the output
                    continue
                }
                let (dx, dθ) = try probedBackward(l, gradients[i], cache.caches[i] ?? (), context, &probe,
                                                  path: NonFiniteProbe.path(path, i))
                perNode[i] = dθ
                Self.accumulate(dx, into: &gradients[source.index], context: context)
                reached[source.index] = true
            case .merge(let m, let sources):
                if !reached[i] { continue }
                let dxs = try openMergeBackward(m, gradients[i], cache.caches[i] ?? (), context)
                for dx in dxs { probe.check(dx, .inputGradient, layer: NonFiniteProbe.path(path, i), type: type(of: m)) }
                for (k, source) in sources.enumerated() {
                    Self.accumulate(dxs[k], into: &gradients[source.index], context: context)
                    reached[source.index] = true
                }
            }
        }
        return (gradients[0], perNode.flatMap { $0 })
    }

    /// `total += value` through ``ElementwiseKernel/accumulate(_:into:context:)`` (shapes
    /// equal by construction: each gradient has the shape of the value it belongs to).
    private static func accumulate(_ value: Tensor, into total: inout Tensor, context: ComputeContext) {
        require(value.shape == total.shape, "internal: gradient \(value.shape) for value \(total.shape)")
        value.withUnsafeBufferPointer { v in
            total.withUnsafeMutableBufferPointer { t in ElementwiseKernel.accumulate(v, into: t, context: context) }
        }
    }
}
