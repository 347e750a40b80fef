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
            // Per-axis fields always; `stride` and `pad` only when both axes agree.
            let square = s.strideHeight == s.strideWidth && s.paddingHeight == s.paddingWidth
            return PeerSpec(name: s.name, op: "conv2d", N: s.batch, C: s.inputChannels, H: s.inputHeight, W: s.inputWidth,
                            K: s.outputChannels, R: s.kernelHeight, S: s.kernelWidth,
                            stride: square ? s.strideHeight : nil, pad: square ? s.paddingHeight : nil,
                            groups: s.groups, strideH: s.strideHeight, strideW: s.strideWidth,
                            padH: s.paddingHeight, padW: s.paddingWidth,
                            dilationH: s.dilationHeight, dilationW: s.dilationWidth)
        case .dense(let s):
            return PeerSpec(name: s.name, op: "dense", N: s.batch, IN: s.inputFeatures, OUT: s.outputFeatures)
        case .memory(let spec, _):
            return spec
        }
    }
}

/// One layer of the suite as plain numbers, for the peers (PyTorch, ONNX Runtime) to run the
/// same shapes: conv2d uses N C H W K R S groups and strideH strideW padH padW dilationH dilationW (plus
/// stride and pad when both axes agree); dense N IN OUT; maxpool2d N C H W R S stride pad; relu count.
/// `suite` names the suite the row belongs to (`default`, `broad`, `quick`).
struct PeerSpec: Codable, Sendable {
    var name: String
    var op: String
    var N: Int? = nil, C: Int? = nil, H: Int? = nil, W: Int? = nil
    var K: Int? = nil, R: Int? = nil, S: Int? = nil, stride: Int? = nil, pad: Int? = nil
    var groups: Int? = nil
    var strideH: Int? = nil, strideW: Int? = nil, padH: Int? = nil, padW: Int? = nil
    var dilationH: Int? = nil, dilationW: Int? = nil
    var suite: String? = nil
    var IN: Int? = nil, OUT: Int? = nil, count: Int? = nil
}

/// Which layers `--suite` selects.
enum SuiteChoice: String, CaseIterable {
    /// The anchors' suite (`LayerSuite.conv`, `.dense`, pooling, ReLU): what `make bench` runs.
    case `default`
    /// `LayerSuite.broadConv`: conv layers of ResNet-50, MobileNetV2, ResNeXt, Inception-v3, ...
    case broad
    /// Both, default first.
    case all
    /// Whole networks (``NetworkCatalogue``): training step and inference; not part of `all`.
    case networks

    /// The name recorded in the machine block (`full` is the default suite's historical name).
    var reportName: String {
        switch self {
        case .default: return "full"
        case .broad: return "broad"
        case .all: return "full+broad"
        case .networks: return "networks"
        }
    }
}

enum Suite {
    /// The full suite (`LayerSuite`: the anchors' shapes) or the quick one (small shapes).
    static func entries(quick: Bool) -> [SuiteEntry] {
        let conv = quick ? LayerSuite.quickConv : LayerSuite.conv
        let dense = quick ? LayerSuite.quickDense : LayerSuite.dense
        return conv.map(SuiteEntry.conv) + dense.map(SuiteEntry.dense) + memoryEntries(quick: quick)
    }

    /// The entries of `choice` (`quick` replaces the default suite by the quick one).
    static func entries(_ choice: SuiteChoice, quick: Bool) -> [SuiteEntry] {
        let broad = LayerSuite.broadConv.map(SuiteEntry.conv)
        switch choice {
        case .default: return entries(quick: quick)
        case .broad: return broad
        case .all: return entries(quick: quick) + broad
        case .networks: return []
        }
    }

    /// The suite an entry comes from, for `--print-suite` (`peers.py` and `combine.py` group by it).
    static func suiteName(of entry: SuiteEntry, quick: Bool) -> String {
        if case .conv(let spec) = entry, LayerSuite.broadConv.contains(spec) { return "broad" }
        return quick ? "quick" : "default"
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
