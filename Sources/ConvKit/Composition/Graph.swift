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
/// several layers receives the sum of their contributions.
///
/// Each node has a key, by default its index (the input is node 0), or the one given to `add`
/// (`"conv1"`, `"downsample"`: a torchvision block's attribute names), or a dotted path
/// (`"up1.up"`, `"up1.conv"`: the members of a PyTorch block with two inputs, which a one-input
/// container cannot hold). Parameters and buffers are named `"<key>.<name>"`; in training mode
/// each layer gets the mode's ``ForwardMode/child(_:)`` for each component of its key.
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
    /// The key of each node (the input's is `"0"`).
    public private(set) var keys: [String] = ["0"]
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

    /// The key of the next node: `key`, checked, or the node's index.
    ///
    /// A key is a child key (`conv1`) or a dotted path of child keys (`up1.conv`): the node is
    /// then a member of a submodule that has no container of its own, such as a block with two
    /// inputs (a U-Net's `up1` reads the layer below and the skip connection). No key may equal
    /// another or be a path prefix of it (`up1` beside `up1.up`), so parameter names stay unique.
    private func nextKey(_ key: String?) throws(ShapeError) -> String {
        let chosen = key ?? String(operations.count)
        if chosen.isEmpty || chosen.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
            throw ShapeError(.invalidValue,
                "Graph key '\(chosen)' must be a non-empty key or a dotted path of non-empty keys (graph node \(operations.count))")
        }
        for existing in keys where existing == chosen || existing.hasPrefix(chosen + ".") || chosen.hasPrefix(existing + ".") {
            throw ShapeError(.invalidValue,
                existing == chosen ? "Graph key '\(chosen)' is already used (graph node \(operations.count))"
                    : "Graph key '\(chosen)' and key '\(existing)' would name the same parameters (one is a path prefix of the other; graph node \(operations.count))")
        }
        return chosen
    }

    /// The mode of node `index`: ``ForwardMode/child(_:)`` applied per component of its key, as
    /// if the path's submodules were nested containers.
    private func childMode(_ mode: ForwardMode, _ index: Int) -> ForwardMode {
        let key = keys[index]
        if !key.contains(".") { return mode.child(key) }
        return key.split(separator: ".").reduce(mode) { $0.child(String($1)) }
    }

    /// The key of `node` (its index unless a key was given to `add`).
    public func key(of node: Node) -> String? {
        node.index >= 0 && node.index < keys.count ? keys[node.index] : nil
    }

    /// Adds `layer` applied to `input`; returns its output node. `key` names the node's
    /// parameters and buffers (default: the node's index); it may be a dotted path
    /// (`"up1.conv"`, a member of a two-input block).
    ///
    /// - Throws: ``ShapeError`` `.invalidValue` for an unknown node, or a key that is empty, has
    ///   an empty path component, is already used, or is a path prefix of another key (or the
    ///   other way round).
    @discardableResult
    public mutating func add(_ layer: some Layer, input: Node, key: String? = nil) throws(ShapeError) -> Node {
        try check(input)
        keys.append(try nextKey(key))
        operations.append(.layer(layer, input))
        output = Node(index: operations.count - 1)
        return output
    }

    /// Adds a merge (e.g. ``Add``) of `inputs`; returns its output node.
    ///
    /// - Throws: ``ShapeError`` `.invalidValue` for an unknown node, when the number of inputs
    ///   is outside the layer's ``MergeLayer/acceptedInputCounts``, or for a bad key (see
    ///   ``add(_:input:key:)``).
    @discardableResult
    public mutating func add(_ layer: some MergeLayer, inputs: [Node], key: String? = nil) throws(ShapeError) -> Node {
        let accepted = layer.acceptedInputCounts
        if !accepted.contains(inputs.count) {
            let needs = accepted.upperBound == Int.max ? "at least \(accepted.lowerBound)"
                : accepted.count == 1 ? "\(accepted.lowerBound)" : "\(accepted.lowerBound) to \(accepted.upperBound)"
            throw ShapeError(.invalidValue,
                "\(type(of: layer)) needs \(needs) inputs, got \(inputs.count) (graph node \(operations.count))")
        }
        for node in inputs { try check(node) }
        keys.append(try nextKey(key))
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
            if case .layer(let l, _) = op { return l.parameterNames.map { "\(keys[i]).\($0)" } }
            return []
        }
    }

    public var bufferNames: [String] {
        operations.enumerated().flatMap { i, op -> [String] in
            if case .layer(let l, _) = op { return l.bufferNames.map { "\(keys[i]).\($0)" } }
            return []
        }
    }

    public var buffers: [Tensor] {
        operations.flatMap { op -> [Tensor] in
            if case .layer(let l, _) = op { return l.buffers }
            return []
        }
    }

    public var bufferKinds: [BufferKind] {
        operations.flatMap { op -> [BufferKind] in
            if case .layer(let l, _) = op { return l.bufferKinds }
            return []
        }
    }

    public mutating func updateBuffers(_ body: (Int, inout Tensor) -> Void) {
        var offset = 0
        for i in operations.indices {
            guard case .layer(var l, let source) = operations[i] else { continue }
            operations[i] = .input  // drop the graph's reference so the update mutates in place
            let count = l.buffers.count
            openUpdateBuffers(&l, offset: offset, body)
            operations[i] = .layer(l, source)
            offset += count
        }
    }

    public func bufferUpdates(in cache: Cache) -> [BufferUpdate] {
        var updates: [BufferUpdate] = []
        var offset = 0
        for (i, op) in operations.enumerated() {
            guard case .layer(let l, _) = op else { continue }
            if i < cache.caches.count, let c = cache.caches[i] { updates += openBufferUpdates(l, c, offset: offset) }
            offset += l.buffers.count
        }
        return updates
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
        try forward(input, mode: .evaluation, context: context)
    }

    public func forward(_ input: Tensor, mode: ForwardMode, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Cache) {
        var probe = NonFiniteProbe(active: false)
        return try forward(input, mode: mode, context: context, probe: &probe, path: "")
    }

    func forward(_ input: Tensor, mode: ForwardMode, context: ComputeContext, probe: inout NonFiniteProbe, path: String)
        throws(ShapeError) -> (output: Tensor, cache: Cache) {
        var values: [Tensor] = [input]
        var caches: [(any Sendable)?] = [nil]
        values.reserveCapacity(operations.count)
        for (i, op) in operations.enumerated().dropFirst() {
            let node = NonFiniteProbe.path(path, keys[i])
            switch op {
            case .input:
                throw ShapeError(.invalidValue, "graph has a second input node")
            case .layer(let l, let source):
                let (y, c) = try probedForward(l, values[source.index], childMode(mode, i), context, &probe, path: node)
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

    /// Layers fed by the graph's input get no input gradient (``Layer/parameterGradients(_:cache:context:)``).
    public func parameterGradients(_ outputGradient: Tensor, cache: Cache, context: ComputeContext) throws(ShapeError) -> [Tensor] {
        var probe = NonFiniteProbe(active: false)
        return try backward(outputGradient, cache: cache, context: context, probe: &probe, path: "", inputGradient: false).parameterGradients
    }

    func backward(_ outputGradient: Tensor, cache: Cache, context: ComputeContext, probe: inout NonFiniteProbe, path: String)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        try backward(outputGradient, cache: cache, context: context, probe: &probe, path: path, inputGradient: true)
    }

    func backward(_ outputGradient: Tensor, cache: Cache, context: ComputeContext, probe: inout NonFiniteProbe, path: String,
                  inputGradient: Bool)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        if cache.shapes.count != operations.count {
            throw ShapeError(.mismatch, "Graph cache has \(cache.shapes.count) nodes, expected \(operations.count)")
        }
        try ShapeCheck.equal(outputGradient.shape, cache.shapes[output.index], "Graph output gradient")
        // A node's gradient is the first consumer's contribution, later ones added to it;
        // nodes no consumer reached have none.
        var gradients = [Tensor?](repeating: nil, count: operations.count)
        gradients[output.index] = outputGradient
        var perNode = [[Tensor]](repeating: [], count: operations.count)
        for i in operations.indices.reversed() {
            switch operations[i] {
            case .input:
                continue
            case .layer(let l, let source):
                guard let gradient = gradients[i] else {
                    perNode[i] = l.parameters.map { Tensor.zeros($0.shape) }  // does not feed the output
                    continue
                }
                gradients[i] = nil  // its last use: the layer may reuse the storage
                if source.index == 0 && !inputGradient {
                    perNode[i] = try openParameterGradients(l, gradient, cache.caches[i] ?? (), context)
                    continue
                }
                let (dx, dθ) = try probedBackward(l, gradient, cache.caches[i] ?? (), context, &probe,
                                                  path: NonFiniteProbe.path(path, keys[i]))
                perNode[i] = dθ
                Self.accumulate(dx, into: &gradients[source.index], context: context)
            case .merge(let m, let sources):
                guard let gradient = gradients[i] else { continue }
                gradients[i] = nil
                let dxs = try openMergeBackward(m, gradient, cache.caches[i] ?? (), context)
                for dx in dxs { probe.check(dx, .inputGradient, layer: NonFiniteProbe.path(path, keys[i]), type: type(of: m)) }
                for (k, source) in sources.enumerated() {
                    Self.accumulate(dxs[k], into: &gradients[source.index], context: context)
                }
            }
        }
        return (gradients[0] ?? Tensor.zeros(cache.shapes[0]), perNode.flatMap { $0 })
    }

    /// `total += value` through ``ElementwiseKernel/accumulate(_:into:context:)``, or
    /// `total = value` for the first contribution (shapes equal by construction: each gradient
    /// has the shape of the value it belongs to).
    private static func accumulate(_ value: Tensor, into total: inout Tensor?, context: ComputeContext) {
        guard var sum = total else {
            total = value
            return
        }
        total = nil  // `sum` holds the only reference: added in place
        require(value.shape == sum.shape, "internal: gradient \(value.shape) for value \(sum.shape)")
        value.withUnsafeBufferPointer { v in
            sum.withUnsafeMutableBufferPointer { t in ElementwiseKernel.accumulate(v, into: t, context: context) }
        }
        total = sum
    }
}

extension Graph {
    /// The same graph for inference, as ``Sequential/foldedForInference()``: a ``Conv2D`` node
    /// whose only reader is a ``BatchNorm2D`` node absorbs it, then one whose only reader (through
    /// ``Identity`` nodes) is a ``ReLU`` node fuses it; the absorbed nodes become ``Identity``.
    /// Nodes that are the graph's output or are read twice keep their values.
    public func foldedForInference() throws(ShapeError) -> Graph {
        var out = self
        for i in out.operations.indices {
            if case .layer(let layer, let source) = out.operations[i] {
                out.operations[i] = .layer(try ConvKit.foldedForInference(layer), source)
            }
        }
        var readers = [[Int]](repeating: [], count: out.operations.count)
        for (i, operation) in out.operations.enumerated() {
            switch operation {
            case .input: break
            case .layer(_, let source): readers[source.index].append(i)
            case .merge(_, let sources): for s in sources { readers[s.index].append(i) }
            }
        }
        /// The only reader of node `i`, when `i` is not the output.
        func onlyReader(_ i: Int) -> Int? {
            i != out.output.index && readers[i].count == 1 ? readers[i][0] : nil
        }
        for i in out.operations.indices {
            guard case .layer(let layer, let source) = out.operations[i], let conv = layer as? Conv2D, conv.activation == .identity,
                  let j = onlyReader(i), case .layer(let next, _) = out.operations[j],
                  let norm = next as? BatchNorm2D, norm.tracksRunningStatistics else { continue }
            out.operations[i] = .layer(try conv.folding(norm), source)
            out.operations[j] = .layer(Identity(), Node(index: i))
        }
        for i in out.operations.indices {
            guard case .layer(let layer, let source) = out.operations[i], var conv = layer as? Conv2D,
                  conv.activation == .identity else { continue }
            var at = i
            var reader = onlyReader(at)
            while let r = reader, case .layer(let l, _) = out.operations[r], l is Identity {
                at = r
                reader = onlyReader(at)
            }
            guard let r = reader, case .layer(let l, _) = out.operations[r], l is ReLU else { continue }
            conv.activation = .relu
            out.operations[i] = .layer(conv, source)
            out.operations[r] = .layer(Identity(), Node(index: at))
        }
        return out
    }
}
