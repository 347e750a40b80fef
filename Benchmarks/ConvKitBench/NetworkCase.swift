import ConvKit
import Foundation

/// One measured row of the networks suite: one network, batch, direction and thread count.
///
/// JSON names (`Benchmarks/compare/combine.py` reads them): `name`, `model`, `batch`, `input`,
/// `direction` (`train` or `infer`), `threads`, `median_ms`, `min_ms`, `cold_ms`, `images_per_s`,
/// `peak_rss_bytes`, `baseline_rss_bytes`, `parameters`, `samples`, `calls_per_sample`,
/// `warm_up_calls`, `loss_first`, `loss_last`, `output_finite`, `check_finite`.
struct NetworkRow: Encodable, Sendable {
    var name: String
    var model: String
    var batch: Int
    var input: [Int]
    var loss: String
    var direction: String
    var threads: Int
    var medianMs: Double
    var minMs: Double
    var coldMs: Double?
    var imagesPerSecond: Double
    /// Peak resident size during this row's measurement (`VmHWM` after a reset), `null` where unknown.
    var peakRSSBytes: Int?
    /// Resident size before the model was built: peak − baseline is what the network and its step hold.
    var baselineRSSBytes: Int?
    var parameters: Int
    var samples: Int
    var callsPerSample: Int
    var warmUpCalls: Int
    /// Training rows: the loss of the first and of the last step timed (finite: the steps computed numbers).
    var lossFirst: Double?
    var lossLast: Double?
    /// Inference rows: every output element finite.
    var outputFinite: Bool?
    /// Training rows: the `checkFinite` argument of `trainStep` (`false`: no scan, as PyTorch).
    var checkFinite: Bool?

    enum CodingKeys: String, CodingKey {
        case name, model, batch, input, loss, direction, threads, medianMs = "median_ms", minMs = "min_ms"
        case coldMs = "cold_ms", imagesPerSecond = "images_per_s", peakRSSBytes = "peak_rss_bytes"
        case baselineRSSBytes = "baseline_rss_bytes", parameters, samples, callsPerSample = "calls_per_sample"
        case warmUpCalls = "warm_up_calls", lossFirst = "loss_first", lossLast = "loss_last"
        case outputFinite = "output_finite", checkFinite = "check_finite"
    }

    func encode(to encoder: any Encoder) throws {
        // Explicit nulls for figures that do not apply; non-finite numbers become null.
        var c = encoder.container(keyedBy: CodingKeys.self)
        func number(_ value: Double?, _ key: CodingKeys) throws {
            try c.encode(value.flatMap { $0.isFinite ? $0 : nil }, forKey: key)
        }
        try c.encode(name, forKey: .name)
        try c.encode(model, forKey: .model)
        try c.encode(batch, forKey: .batch)
        try c.encode(input, forKey: .input)
        try c.encode(loss, forKey: .loss)
        try c.encode(direction, forKey: .direction)
        try c.encode(threads, forKey: .threads)
        try number(medianMs, .medianMs)
        try number(minMs, .minMs)
        try number(coldMs, .coldMs)
        try number(imagesPerSecond, .imagesPerSecond)
        try c.encode(peakRSSBytes, forKey: .peakRSSBytes)
        try c.encode(baselineRSSBytes, forKey: .baselineRSSBytes)
        try c.encode(parameters, forKey: .parameters)
        try c.encode(samples, forKey: .samples)
        try c.encode(callsPerSample, forKey: .callsPerSample)
        try c.encode(warmUpCalls, forKey: .warmUpCalls)
        try number(lossFirst, .lossFirst)
        try number(lossLast, .lossLast)
        try c.encode(outputFinite, forKey: .outputFinite)
        try c.encode(checkFinite, forKey: .checkFinite)
    }
}

/// How a whole-network call is timed: warm-up, then samples of whole calls until a time budget is
/// spent (big networks: few samples, small ones: `repeats`).
enum NetworkTimer {
    /// Warm-up: calls until this many seconds have passed, and at least one (the first step also
    /// allocates the optimiser's state and wakes the workers).
    static let warmUpSeconds = 0.25
    /// Samples are taken until they add up to this many seconds (at most `repeats`)...
    static let budgetSeconds = 5.0
    /// ...but at least this many (or `repeats`, when smaller): 3 steps after the warm-up for the
    /// biggest networks.
    static let minimumSamples = 3

    struct Result {
        var timing: Timing
        var warmUpCalls: Int
    }

    /// Calls per sample (a sample lasts >= `minTime`) and samples (up to `repeats` within the budget,
    /// at least ``minimumSamples`` or `repeats` when smaller) for a call of `secondsPerCall`.
    static func plan(secondsPerCall: Double, minTime: Double, repeats: Int) -> (calls: Int, samples: Int) {
        let perCall = max(secondsPerCall, 1e-9)
        let calls = max(1, Int((minTime / perCall).rounded(.up)))
        let affordable = Int(min(budgetSeconds / (perCall * Double(calls)), 1e6))
        return (calls, max(min(minimumSamples, repeats), min(repeats, affordable)))
    }

    static func measure(minTime: Double, repeats: Int, _ body: () throws -> Void) throws -> Result {
        let warmStart = Stopwatch.now()
        var perCall = 0.0
        var warmUpCalls = 0
        repeat {
            let t0 = Stopwatch.now()
            try body()
            perCall = Stopwatch.now() - t0
            warmUpCalls += 1
        } while Stopwatch.now() - warmStart < warmUpSeconds
        let (calls, samples) = plan(secondsPerCall: perCall, minTime: minTime, repeats: repeats)
        var perSample: [Double] = []
        for _ in 0..<samples {
            let t0 = Stopwatch.now()
            for _ in 0..<calls { try body() }
            perSample.append((Stopwatch.now() - t0) / Double(calls))
        }
        let sorted = perSample.sorted()
        return Result(timing: Timing(median: Stopwatch.median(ofSorted: sorted), minimum: sorted[0],
                                     callsPerSample: calls, samples: sorted.count),
                      warmUpCalls: warmUpCalls)
    }
}

/// Settings of a networks run.
struct NetworkSettings {
    var threads: [Int]
    var minTime: Double
    var repeats: Int
    var progress: Bool
    var cold: ColdSettings?
    /// Also run the layer-by-layer profile (``NetworkProfiler``) of every network and thread count.
    var profile: Bool
}

/// Runs the networks suite: per network, inference at every thread count, then training at every
/// thread count (so inference's peak memory does not hold the optimiser's velocities), then the
/// profile when asked.
final class NetworkRunner {
    let settings: NetworkSettings
    private(set) var rows: [NetworkRow] = []
    private(set) var profiles: [NetworkProfile] = []
    private(set) var failures: [String] = []
    private let start = Stopwatch.now()

    init(_ settings: NetworkSettings) { self.settings = settings }

    func run(_ spec: NetworkSpec) throws {
        // The previous network's freed blocks must not count in this one's memory.
        TensorMemory.releaseCache()
        ResidentMemory.resetPeak()
        let baseline = ResidentMemory.currentBytes
        let session = try NetworkSession(spec)
        let parameters = session.model.parameterCount
        log("\(spec.id): \(parameters) parameters, input \(spec.inputShape)")
        for threads in settings.threads {
            let context = ComputeContext(threads: threads)
            let (result, peak) = try measured {
                try NetworkTimer.measure(minTime: settings.minTime, repeats: settings.repeats) { _ = try session.infer(context) }
            }
            let cold = try coldTime { try session.infer(context) }
            let finite = try session.infer(context).isFinite
            if !finite { fail("\(spec.id) infer \(threads)T: the output holds NaN or ±∞") }
            record(row(spec, "infer", threads, result, cold: cold, peak: peak, baseline: baseline, parameters: parameters,
                       outputFinite: finite))
        }
        for threads in settings.threads {
            let context = ComputeContext(threads: threads)
            var first: Float? = nil, last: Float = 0
            let (result, peak) = try measured {
                try NetworkTimer.measure(minTime: settings.minTime, repeats: settings.repeats) {
                    last = try session.train(context)
                    if first == nil { first = last }
                }
            }
            let cold = try coldTime { try session.train(context) }
            if !last.isFinite { fail("\(spec.id) train \(threads)T: the loss is \(last)") }
            var r = row(spec, "train", threads, result, cold: cold, peak: peak, baseline: baseline, parameters: parameters)
            r.lossFirst = first.map(Double.init)
            r.lossLast = Double(last)
            r.checkFinite = false
            record(r)
        }
        if settings.profile {
            for threads in settings.threads {
                let profile = try NetworkProfiler(session: session, context: ComputeContext(threads: threads),
                                                  samples: min(settings.repeats, NetworkProfiler.maximumSamples)).run()
                func measuredMs(_ direction: String) -> Double? {
                    rows.last { $0.name == spec.name && $0.batch == spec.batch && $0.threads == threads && $0.direction == direction }?.medianMs
                }
                var p = profile
                p.measuredTrainMs = measuredMs("train")
                p.measuredInferMs = measuredMs("infer")
                profiles.append(p)
                log("\(spec.id) profile \(threads)T: layers \(Format.ms(p.trainTotalMs)) ms per training step (measured \(Format.number(p.measuredTrainMs)) ms)")
            }
        }
    }

    /// `body`'s result and the peak resident size while it ran.
    private func measured<T>(_ body: () throws -> T) throws -> (T, Int?) {
        let reset = ResidentMemory.resetPeak()
        let value = try body()
        return (value, reset ? ResidentMemory.peakBytes : nil)
    }

    /// The cold figure (`--cold`): one call after the pause, in milliseconds.
    private func coldTime(_ body: () throws -> Any) throws -> Double? {
        guard let cold = settings.cold else { return nil }
        var failure: (any Error)? = nil
        let timing = cold.time {
            do { _ = try body() } catch { failure = error }
        }
        if let failure { throw failure }
        return timing.medianMilliseconds
    }

    private func row(_ spec: NetworkSpec, _ direction: String, _ threads: Int, _ result: NetworkTimer.Result, cold: Double?,
                     peak: Int?, baseline: Int?, parameters: Int, outputFinite: Bool? = nil) -> NetworkRow {
        NetworkRow(name: spec.name, model: spec.model, batch: spec.batch, input: spec.inputShape, loss: spec.loss,
                   direction: direction, threads: threads, medianMs: result.timing.medianMilliseconds,
                   minMs: result.timing.minimumMilliseconds, coldMs: cold,
                   imagesPerSecond: Double(spec.batch) / result.timing.median, peakRSSBytes: peak,
                   baselineRSSBytes: baseline, parameters: parameters, samples: result.timing.samples,
                   callsPerSample: result.timing.callsPerSample, warmUpCalls: result.warmUpCalls,
                   outputFinite: outputFinite)
    }

    private func record(_ r: NetworkRow) {
        rows.append(r)
        var line = "\(r.name)/\(r.batch) \(r.direction) \(r.threads)T: \(Format.ms(r.medianMs)) ms, \(Format.number(r.imagesPerSecond)) images/s"
        if let cold = r.coldMs { line += " (cold \(Format.ms(cold)) ms)" }
        if let peak = r.peakRSSBytes { line += ", peak RSS \(Format.bytes(peak))" }
        line += ", \(r.samples) samples"
        log(line)
    }

    private func fail(_ message: String) {
        failures.append(message)
        log("FAILED: \(message)")
    }

    private func log(_ line: String) {
        guard settings.progress else { return }
        printError(String(format: "[%6.1fs] ", Stopwatch.now() - start) + line)
    }
}
