import Foundation

/// Settings and accumulated results of one benchmark run; prints a progress line per measurement.
final class Runner {
    let threads: [Int]
    let minTime: Double
    let repeats: Int
    let naiveRepeats: Int
    /// Images (rows for dense) the naive reference runs on; its times are scaled to the full batch.
    let naiveBatch: Int
    let progress: Bool
    /// Settings of the cold figures (`nil`: not measured).
    let cold: ColdSettings?

    private(set) var results: [ResultRow] = []
    private(set) var failures: [String] = []
    private let start = Stopwatch.now()

    init(threads: [Int], minTime: Double, repeats: Int, naiveRepeats: Int, naiveBatch: Int, progress: Bool,
         cold: ColdSettings? = nil) {
        self.threads = threads
        self.minTime = minTime
        self.repeats = repeats
        self.naiveRepeats = naiveRepeats
        self.naiveBatch = naiveBatch
        self.progress = progress
        self.cold = cold
    }

    /// Times a fast kernel (warm-up, `repeats` samples of >= `minTime` s).
    func time(_ body: () -> Void) -> Timing {
        Stopwatch.measure(minTime: minTime, repeats: repeats, body)
    }

    /// Times a fast kernel and its baseline (BLAS ceiling, copy) with interleaved samples.
    func timePair(_ kernel: () -> Void, baseline: () -> Void) -> (kernel: Timing, baseline: Timing) {
        Stopwatch.measurePair(minTime: minTime, repeats: repeats, kernel, baseline)
    }

    /// Times the naive reference right after it produced the reference values on the same data
    /// (that call was its warm-up); `naiveRepeats` samples.
    func timeNaive(_ body: () -> Void) -> Timing {
        Stopwatch.measure(minTime: minTime, repeats: naiveRepeats, warmUp: false, body)
    }

    /// The first call of `body` after a pause (median over the cold samples), when `--cold` is on.
    func timeCold(_ body: () -> Void) -> Timing? {
        cold?.time(body)
    }

    func record(_ row: ResultRow) {
        results.append(row)
        guard progress else { return }
        var line = String(format: "[%3d %6.1fs] ", results.count, Stopwatch.now() - start)
        line += "\(row.name) \(row.direction) \(row.algorithm) \(row.threads)T: \(Format.ms(row.medianMs)) ms"
        if let cold = row.coldMs { line += " (cold \(Format.ms(cold)) ms)" }
        if let gflops = row.gflops { line += ", \(Format.number(gflops)) GFLOP/s" }
        if let gbps = row.gbps { line += ", \(Format.number(gbps)) GB/s" }
        if let blas = row.fractionOfBLAS { line += ", \(Format.percent(blas)) of BLAS" }
        if let copy = row.fractionOfCopy { line += ", \(Format.percent(copy)) of copy" }
        if let speedup = row.speedupVsNaive, row.verified != nil { line += ", \(Format.ratio(speedup)) naive" }
        if row.verified == false { line += "  MISMATCH" }
        log(line)
    }

    func fail(_ message: String) {
        failures.append(message)
        log("MISMATCH: \(message)")
    }

    func log(_ line: String) { printError(line) }
}

/// Writes one line to standard error (progress and diagnostics; stdout carries the table).
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
