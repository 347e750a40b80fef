import ConvKit

/// Where a network's step goes, layer by layer (`--profile`).
///
/// A **layer-by-layer rerun**, not an instrumented step: the model is flattened into units (every
/// ``Sequential`` is opened, recursively; any other layer, a ``Graph`` block included, is one unit,
/// because a graph's wiring is not public), and each unit's `forward` (training mode), `backward`
/// and inference call is timed on its own, feeding the next unit as the containers would. The loss
/// and the SGD update are timed too. The sum can differ from the measured step: the containers'
/// own work (a graph's gradient accumulation is inside its unit, a sequential's bookkeeping is not)
/// and the running-statistics update are left out.
struct NetworkProfile: Encodable, Sendable {
    struct Unit: Encodable, Sendable {
        /// Key path in the model (`layer1.0`, `features.3`).
        var path: String
        /// The layer's type; graphs list their node keys.
        var type: String
        var outputShape: [Int]
        var forwardMs: Double
        var backwardMs: Double
        var inferMs: Double
        var parameters: Int

        enum CodingKeys: String, CodingKey {
            case path, type, outputShape = "output_shape", forwardMs = "forward_ms", backwardMs = "backward_ms"
            case inferMs = "infer_ms", parameters
        }
    }

    var name: String
    var batch: Int
    var threads: Int
    var samples: Int
    var units: [Unit]
    var lossMs: Double
    var optimizerMs: Double
    /// The same step as whole-model calls, in `trainStep`'s order and with its lifetimes (the
    /// forward cache alive during the update): forward, loss, backward, SGD update, running statistics.
    var stages: [String: Double]
    /// Measured rows of the same network and thread count (the whole step, for comparison).
    var measuredTrainMs: Double?
    var measuredInferMs: Double?

    var trainTotalMs: Double { units.reduce(0) { $0 + $1.forwardMs + $1.backwardMs } + lossMs + optimizerMs }
    var inferTotalMs: Double { units.reduce(0) { $0 + $1.inferMs } }

    enum CodingKeys: String, CodingKey {
        case name, batch, threads, samples, units, lossMs = "loss_ms", optimizerMs = "optimizer_ms", stages = "stages_ms"
        case measuredTrainMs = "measured_train_ms", measuredInferMs = "measured_infer_ms"
        case trainTotalMs = "train_total_ms", inferTotalMs = "infer_total_ms"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(batch, forKey: .batch)
        try c.encode(threads, forKey: .threads)
        try c.encode(samples, forKey: .samples)
        try c.encode(units, forKey: .units)
        try c.encode(lossMs, forKey: .lossMs)
        try c.encode(optimizerMs, forKey: .optimizerMs)
        try c.encode(stages, forKey: .stages)
        try c.encode(measuredTrainMs, forKey: .measuredTrainMs)
        try c.encode(measuredInferMs, forKey: .measuredInferMs)
        try c.encode(trainTotalMs, forKey: .trainTotalMs)
        try c.encode(inferTotalMs, forKey: .inferTotalMs)
    }
}

/// Runs the layer-by-layer profile of one session (see ``NetworkProfile``).
struct NetworkProfiler {
    /// Passes per profile at most (each unit's figure is the median over them).
    static let maximumSamples = 3

    let session: NetworkSession
    let context: ComputeContext
    let samples: Int

    /// One unit of the flattened model.
    struct Part {
        var path: String
        var layer: any Layer
        var mode: ForwardMode
    }

    /// The model's units: sequentials opened recursively, keys joined with `.`.
    static func flatten(_ layer: any Layer, path: String, mode: ForwardMode, into parts: inout [Part]) {
        if let sequential = layer as? Sequential {
            for (i, child) in sequential.layers.enumerated() {
                let key = sequential.key(at: i)
                flatten(child, path: path.isEmpty ? key : path + "." + key, mode: mode.child(key), into: &parts)
            }
        } else {
            parts.append(Part(path: path, layer: layer, mode: mode))
        }
    }

    /// `Conv2D`, or `Graph[conv1 bn1 relu1 …]` with the graph's node keys.
    static func typeName(_ layer: any Layer) -> String {
        if let graph = layer as? Graph { return "Graph[" + graph.keys.dropFirst().joined(separator: " ") + "]" }
        return String(describing: type(of: layer))
    }

    func run() throws -> NetworkProfile {
        var parts: [Part] = []
        Self.flatten(session.model, path: "", mode: .training(seed: 1), into: &parts)
        var forward = [[Double]](repeating: [], count: parts.count)
        var backward = forward, infer = forward
        var shapes = [[Int]](repeating: [], count: parts.count)
        var loss: [Double] = [], update: [Double] = []
        for _ in 0..<max(1, samples) {
            // Training: forward unit by unit, the loss, backward in reverse, the SGD update.
            var x = session.input
            var caches: [any Sendable] = []
            for (i, part) in parts.enumerated() {
                let t0 = Stopwatch.now()
                let (y, cache) = try profiledForward(part.layer, x, part.mode, context)
                forward[i].append(Stopwatch.now() - t0)
                shapes[i] = y.shape.dimensions
                caches.append(cache)
                x = y
            }
            var t0 = Stopwatch.now()
            var (_, gradient) = try session.lossAndGradient(x, context)
            loss.append(Stopwatch.now() - t0)
            var perPart = [[Tensor]](repeating: [], count: parts.count)
            for i in parts.indices.reversed() {
                let t0 = Stopwatch.now()
                let (dx, dθ) = try profiledBackward(parts[i].layer, gradient, caches[i], context)
                backward[i].append(Stopwatch.now() - t0)
                perPart[i] = dθ
                gradient = dx
            }
            caches.removeAll()
            let gradients = perPart.flatMap { $0 }
            t0 = Stopwatch.now()
            try session.optimizer.update(&session.model, gradients: gradients)
            update.append(Stopwatch.now() - t0)
            // Inference, unit by unit.
            x = session.input
            for (i, part) in parts.enumerated() {
                let t0 = Stopwatch.now()
                x = try part.layer(x, context: context)
                infer[i].append(Stopwatch.now() - t0)
            }
        }
        let stages = try wholeModelStages()
        let units = parts.indices.map { i in
            NetworkProfile.Unit(path: parts[i].path, type: Self.typeName(parts[i].layer), outputShape: shapes[i],
                                forwardMs: median(forward[i]), backwardMs: median(backward[i]), inferMs: median(infer[i]),
                                parameters: parts[i].layer.parameterCount)
        }
        return NetworkProfile(name: session.spec.name, batch: session.spec.batch, threads: context.threads,
                              samples: max(1, samples), units: units, lossMs: median(loss), optimizerMs: median(update),
                              stages: stages)
    }

    /// Stage names of ``NetworkProfile/stages``, in order.
    static let stageNames = ["forward", "loss", "backward", "update", "running statistics"]

    /// The training step as whole-model calls (what `trainStep` runs), each stage timed: median ms per stage.
    private func wholeModelStages() throws -> [String: Double] {
        var times = [[Double]](repeating: [], count: Self.stageNames.count)
        for sample in 0..<max(1, samples) {
            var t0 = Stopwatch.now()
            let (output, cache) = try session.model.forward(session.input, mode: .training(seed: UInt64(sample)), context: context)
            times[0].append(Stopwatch.now() - t0)
            t0 = Stopwatch.now()
            let (_, gradient) = try session.lossAndGradient(output, context)
            times[1].append(Stopwatch.now() - t0)
            t0 = Stopwatch.now()
            let gradients = try session.model.backward(gradient, cache: cache, context: context).parameterGradients
            times[2].append(Stopwatch.now() - t0)
            t0 = Stopwatch.now()
            try session.optimizer.update(&session.model, gradients: gradients)
            times[3].append(Stopwatch.now() - t0)
            t0 = Stopwatch.now()
            try session.model.applyBufferUpdates(from: cache)
            times[4].append(Stopwatch.now() - t0)
        }
        var out: [String: Double] = [:]
        for (i, name) in Self.stageNames.enumerated() { out[name] = median(times[i]) }
        return out
    }

    private func median(_ seconds: [Double]) -> Double {
        Stopwatch.median(ofSorted: seconds.sorted()) * 1e3
    }
}

/// `layer.forward(x, mode:context:)` on an existential, its cache boxed.
private func profiledForward<L: Layer>(_ layer: L, _ input: Tensor, _ mode: ForwardMode, _ context: ComputeContext)
    throws -> (Tensor, any Sendable) {
    let (y, cache) = try layer.forward(input, mode: mode, context: context)
    return (y, cache)
}

/// `layer.backward` on an existential, with the cache ``profiledForward(_:_:_:_:)`` boxed.
private func profiledBackward<L: Layer>(_ layer: L, _ outputGradient: Tensor, _ cache: any Sendable, _ context: ComputeContext)
    throws -> (Tensor, [Tensor]) {
    guard let typed = cache as? L.Cache else { throw SuiteError("profile: cache of \(type(of: cache)) does not belong to \(L.self)") }
    let (dx, dθ) = try layer.backward(outputGradient, cache: typed, context: context)
    return (dx, dθ)
}
