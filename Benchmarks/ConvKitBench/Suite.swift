import _ConvKitTestSupport

/// One entry of the suite the runner walks through, in order.
enum SuiteEntry {
    case conv(LayerSuite.ConvSpec)
    case dense(LayerSuite.DenseSpec)
    /// Built lazily: a memory-bound case allocates its tensors when it runs.
    case memory(PeerSpec, make: () -> MemoryCase)

    var name: String {
        switch self {
        case .conv(let spec): return spec.name
        case .dense(let spec): return spec.name
        case .memory(let spec, _): return spec.name
        }
    }

    var op: String {
        switch self {
        case .conv: return "conv2d"
        case .dense: return "dense"
        case .memory(let spec, _): return spec.op
        }
    }

    func run(_ runner: Runner) throws {
        switch self {
        case .conv(let spec): try ConvCase(spec: spec).run(runner)
        case .dense(let spec): try DenseCase(spec: spec).run(runner)
        case .memory(_, let make): make().run(runner)
        }
    }

    /// The shape in the form `Benchmarks/compare/peers.py` reads (`--print-suite`).
    var peerSpec: PeerSpec {
        switch self {
        case .conv(let s):
            return PeerSpec(name: s.name, op: "conv2d", N: s.batch, C: s.inputChannels, H: s.inputSize, W: s.inputSize,
                            K: s.outputChannels, R: s.kernelSize, S: s.kernelSize, stride: s.stride, pad: s.padding,
                            groups: s.groups)
        case .dense(let s):
            return PeerSpec(name: s.name, op: "dense", N: s.batch, IN: s.inputFeatures, OUT: s.outputFeatures)
        case .memory(let spec, _):
            return spec
        }
    }
}

/// One layer of the suite as plain numbers, for the peers (PyTorch, ONNX Runtime) to run the
/// same shapes: conv2d uses N C H W K R S stride pad groups; dense N IN OUT; maxpool2d N C H W R S stride pad;
/// relu count.
struct PeerSpec: Codable, Sendable {
    var name: String
    var op: String
    var N: Int? = nil, C: Int? = nil, H: Int? = nil, W: Int? = nil
    var K: Int? = nil, R: Int? = nil, S: Int? = nil, stride: Int? = nil, pad: Int? = nil
    var groups: Int? = nil
    var IN: Int? = nil, OUT: Int? = nil, count: Int? = nil
}

enum Suite {
    /// The full suite (`LayerSuite`: the anchors' shapes) or the quick one (small shapes).
    static func entries(quick: Bool) -> [SuiteEntry] {
        let conv = quick ? LayerSuite.quickConv : LayerSuite.conv
        let dense = quick ? LayerSuite.quickDense : LayerSuite.dense
        return conv.map(SuiteEntry.conv) + dense.map(SuiteEntry.dense) + memoryEntries(quick: quick)
    }

    /// Op names accepted by `--filter` besides layer names.
    static let opAliases: [String: String] = [
        "conv": "conv2d", "conv2d": "conv2d", "dense": "dense", "fc": "dense",
        "maxpool": "maxpool2d", "maxpool2d": "maxpool2d", "pool": "maxpool2d", "relu": "relu",
    ]

    /// Entries whose layer name or op is one of `tokens` (all when `tokens` is empty).
    /// - Throws: ``SuiteError`` naming the tokens that match nothing.
    static func filter(_ entries: [SuiteEntry], tokens: [String]) throws -> [SuiteEntry] {
        if tokens.isEmpty { return entries }
        let unknown = tokens.filter { token in
            !entries.contains { $0.name == token || $0.op == (opAliases[token] ?? token) }
        }
        if !unknown.isEmpty {
            let names = entries.map(\.name).joined(separator: ", ")
            throw SuiteError("--filter: no layer or op named \(unknown.joined(separator: ", ")); layers: \(names); ops: conv2d, dense, maxpool2d, relu")
        }
        return entries.filter { entry in
            tokens.contains { $0 == entry.name || (opAliases[$0] ?? $0) == entry.op }
        }
    }
}

struct SuiteError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
