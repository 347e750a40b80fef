import Foundation

/// Everything a networks run produced: `{"machine", "networks", "profiles", "failures"}` in JSON.
struct NetworkReport: Encodable, Sendable {
    var machine: Machine
    var networks: [NetworkRow]
    var profiles: [NetworkProfile]
    /// Non-finite outputs or losses (the run exits 1).
    var failures: [String]

    func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(contentsOf: Array("\n".utf8))
        return data
    }

    func markdown() -> String {
        var out = ["# ConvKit benchmark: whole networks", "", "## Machine", ""]
        out += machine.markdownLines.filter { !$0.hasPrefix("- Settings:") }
        out.append("- Settings: warm-up >= \(Format.number(NetworkTimer.warmUpSeconds)) s (at least one call), then up to "
                   + "\(machine.repeats) samples of >= \(machine.minTimeSeconds) s, fewer when they would take more than "
                   + "\(Format.number(NetworkTimer.budgetSeconds)) s (at least \(NetworkTimer.minimumSamples))")
        let hasCold = networks.contains { $0.coldMs != nil }
        out += ["", "## Training step and inference", "",
                "| network | batch | input | parameters | direction | threads | median ms | min ms |" + (hasCold ? " cold ms |" : "")
                    + " images/s | peak RSS | RSS before the model | samples |",
                "|---|--:|---|--:|---|--:|--:|--:|" + (hasCold ? "--:|" : "") + "--:|--:|--:|--:|"]
        for r in networks {
            out.append("| \(r.name) | \(r.batch) | \(r.input.dropFirst().map(String.init).joined(separator: "×")) | "
                + "\(r.parameters) | \(r.direction) | \(r.threads) | \(Format.ms(r.medianMs)) | \(Format.ms(r.minMs)) | "
                + (hasCold ? "\(Format.number(r.coldMs)) | " : "")
                + "\(Format.number(r.imagesPerSecond)) | \(mebibytes(r.peakRSSBytes)) | \(mebibytes(r.baselineRSSBytes)) | "
                + "\(r.samples)×\(r.callsPerSample) |")
        }
        out += ["", "Notes:",
                "- train: one `trainStep` (forward in training mode, softmax cross-entropy, backward, SGD with momentum "
                    + "\(Format.number(Double(NetworkCatalogue.momentum))), running statistics) with `checkFinite: false`; "
                    + "the CycleGAN generator: the same public calls with the mean squared error against a random target. "
                    + "infer: `model(x, context:)` (evaluation mode).",
                "- peak RSS: the process's `VmHWM`, reset (after `malloc_trim`) before each row; ConvKit's tensor cache "
                    + "(`TensorMemory`) is emptied before each network, not between its rows; inference rows run before "
                    + "any training step, so they do not hold the optimiser's velocities.",
                "- `samples`: samples × calls per sample."]
        if hasCold, let cold = machine.cold { out.append("- `cold ms`: \(cold).") }
        for p in profiles { out += profileLines(p) }
        if !failures.isEmpty { out += ["", "## Failures", ""] + failures.map { "- \($0)" } }
        return out.joined(separator: "\n") + "\n"
    }

    /// One profile as a table: per unit forward, backward, share of the training step, inference
    /// and share of inference.
    func profileLines(_ p: NetworkProfile) -> [String] {
        let train = p.trainTotalMs, infer = p.inferTotalMs
        func share(_ ms: Double, _ total: Double) -> String { total > 0 ? String(format: "%.1f%%", ms / total * 100) : "–" }
        var out = ["", "## Profile: \(p.name), batch \(p.batch), \(p.threads) thread(s)", "",
                   "Layer-by-layer rerun (median of \(p.samples) pass(es)): each unit timed on its own; graphs "
                       + "(residual blocks) are one unit each.", "",
                   "| unit | type | output | parameters | forward ms | backward ms | train share | infer ms | infer share |",
                   "|---|---|---|--:|--:|--:|--:|--:|--:|"]
        for u in p.units {
            out.append("| \(u.path) | \(u.type) | \(u.outputShape.map(String.init).joined(separator: "×")) | \(u.parameters) | "
                + "\(Format.ms(u.forwardMs)) | \(Format.ms(u.backwardMs)) | \(share(u.forwardMs + u.backwardMs, train)) | "
                + "\(Format.ms(u.inferMs)) | \(share(u.inferMs, infer)) |")
        }
        out.append("| loss | | | | \(Format.ms(p.lossMs)) | | \(share(p.lossMs, train)) | | |")
        out.append("| SGD update | | | | \(Format.ms(p.optimizerMs)) | | \(share(p.optimizerMs, train)) | | |")
        out.append("| **sum** | | | | | | **\(Format.ms(train)) ms** | | **\(Format.ms(infer)) ms** |")
        out.append("| measured (whole step) | | | | | | \(Format.number(p.measuredTrainMs)) ms | | \(Format.number(p.measuredInferMs)) ms |")
        if let measured = p.measuredTrainMs {
            out.append("| outside the units (measured − sum) | | | | | | \(Format.ms(measured - train)) ms | | "
                + (p.measuredInferMs.map { "\(Format.ms($0 - infer)) ms" } ?? "–") + " |")
        }
        let stages = NetworkProfiler.stageNames.map { name in "\(name) \(Format.number(p.stages[name])) ms" }
        out += ["", "The same step as whole-model calls (`model.forward`, the loss, `model.backward`, `SGD.update` with the "
                    + "forward cache alive, `applyBufferUpdates`; medians): " + stages.joined(separator: ", ") + "."]
        return out
    }

    private func mebibytes(_ bytes: Int?) -> String {
        guard let bytes else { return "–" }
        return String(format: "%.0f MiB", Double(bytes) / Double(1 << 20))
    }
}
