import Foundation

extension Report {
    /// The machine block, the compute table (conv, dense), the memory-bound table (when present)
    /// and the footnotes, as GitHub Markdown.
    func markdown() -> String {
        var out = ["# ConvKit benchmark", "", "## Machine", ""]
        out += machine.markdownLines
        let compute = results.filter { $0.flops != nil }
        let hasCold = compute.contains { $0.coldMs != nil }
        if !compute.isEmpty {
            out += ["", "## Compute-bound kernels (conv2d, dense)", "",
                    "| layer | shape | direction | algorithm | threads | median ms | min ms |" + (hasCold ? " cold ms |" : "")
                        + " GFLOP/s | x naive | of BLAS | workspace |",
                    "|---|---|---|---|--:|--:|--:|" + (hasCold ? "--:|" : "") + "--:|--:|--:|--:|"]
            for r in compute {
                let algorithm = r.timedBatch == r.batch
                    ? r.algorithm + (r.chosenByAutomatic == true ? " (auto)" : "") : "\(r.algorithm) *"
                out.append("| \(r.name) | \(r.shape) | \(r.direction) | \(algorithm) | \(r.threads) | "
                    + "\(Format.ms(r.medianMs)) | \(Format.ms(r.minMs)) | " + (hasCold ? "\(Format.number(r.coldMs)) | " : "")
                    + "\(Format.number(r.gflops)) | "
                    + "\(Format.ratio(r.speedupVsNaive)) | \(Format.percent(r.fractionOfBLAS)) | \(Format.bytes(r.workspaceBytes)) |"
                    + (r.verified == false ? " **MISMATCH**" : ""))
            }
        }
        out += automaticLines(compute)
        let memory = results.filter { $0.bytes != nil }
        if !memory.isEmpty {
            out += ["", "## Memory-bound kernels", "",
                    "| layer | shape | direction | algorithm | threads | median ms | min ms | GB/s | x naive | of copy | copy GB/s |",
                    "|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|"]
            for r in memory {
                let copyGBps = r.copyMs.flatMap { ms in r.bytes.map { $0 / (ms * 1e-3) / 1e9 } }
                out.append("| \(r.name) | \(r.shape) | \(r.direction) | \(r.algorithm) | \(r.threads) | "
                    + "\(Format.ms(r.medianMs)) | \(Format.ms(r.minMs)) | \(Format.number(r.gbps)) | "
                    + "\(Format.ratio(r.speedupVsNaive)) | \(Format.percent(r.fractionOfCopy)) | \(Format.number(copyGBps)) |"
                    + (r.verified == false ? " **MISMATCH**" : ""))
            }
        }
        out += ["", "Notes:",
                "- GFLOP/s = 2·N·K·OH·OW·C·R·S / median time (the same count for every conv direction; dense 2·N·in·out).",
                "- `*` naive rows are single-threaded and timed on \(machine.naiveBatch) image(s); their times are scaled to the full batch (x batch / \(machine.naiveBatch)). `x naive` compares with that scaled time.",
                "- `(auto)`: the algorithm `Conv2DAlgorithm.automatic` picks for the shape.",
                "- `of BLAS` = median time of the bare `sgemm` calls the algorithm issues (same shapes, transposes and count, same threads, same run) / the algorithm's median time.",
                "- GB/s = bytes read + written / median time; `of copy` = time to copy the same bytes (`update(from:)`) / the kernel's time.",
            ] + (hasCold ? ["- `cold ms`: \(machine.cold ?? "first call after a pause") (rows that `automatic` picks, and dense rows); compare it with the median: a threaded row that is much slower cold ran on fewer cores than asked."] : []) + [
                "- Every fast result was checked against the naive reference before it was timed (tolerance 2·k·ε·Σ|a·b| per element).",
                "- Median and min over \(machine.repeats) samples of >= \(machine.minTimeSeconds) s each. The machine may be shared: compare rows of one run, not across runs."]
        if !failures.isEmpty {
            out += ["", "## Mismatches", ""] + failures.map { "- \($0)" }
        }
        return out.joined(separator: "\n") + "\n"
    }
}

extension Report {
    /// How far `automatic` is from the fastest verified algorithm of each conv row (layer,
    /// direction, threads): the rows where it is not the fastest, worst first, and how many are above
    /// the 1.10 target.
    func automaticLines(_ compute: [ResultRow]) -> [String] {
        struct Key: Hashable { let name, direction: String; let threads: Int }
        var groups: [Key: [ResultRow]] = [:]
        var order: [Key] = []
        for r in compute where r.op == "conv2d" && r.verified != nil {
            let key = Key(name: r.name, direction: r.direction, threads: r.threads)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(r)
        }
        var gaps: [(key: Key, auto: ResultRow, best: ResultRow, ratio: Double)] = []
        for key in order {
            guard let rows = groups[key], let auto = rows.first(where: { $0.chosenByAutomatic == true }),
                  let best = rows.min(by: { $0.medianMs < $1.medianMs }) else { continue }
            gaps.append((key, auto, best, auto.medianMs / best.medianMs))
        }
        if gaps.isEmpty { return [] }
        let behind = gaps.filter { $0.ratio > 1 }.sorted { $0.ratio > $1.ratio }
        let over = gaps.filter { $0.ratio > 1.10 }.count
        var out = ["", "## `automatic` against the fastest algorithm", "",
                   "\(gaps.count) conv rows; `automatic` runs the fastest verified algorithm on \(gaps.count - behind.count), "
                       + "and is more than 1.10x slower than the fastest on \(over)."]
        if !behind.isEmpty {
            out += ["", "| layer | direction | threads | automatic | ms | fastest | ms | automatic / fastest |",
                    "|---|---|--:|---|--:|---|--:|--:|"]
            for g in behind {
                out.append("| \(g.key.name) | \(g.key.direction) | \(g.key.threads) | \(g.auto.algorithm) | "
                    + "\(Format.ms(g.auto.medianMs)) | \(g.best.algorithm) | \(Format.ms(g.best.medianMs)) | "
                    + String(format: "%.2f", g.ratio) + (g.ratio > 1.10 ? " **>1.10**" : "") + " |")
            }
        }
        return out
    }
}

/// Number formatting for tables and charts.
enum Format {
    static func ms(_ value: Double) -> String { significant(value) }

    static func number(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "–" }
        return significant(value)
    }

    static func ratio(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "–" }
        return significant(value) + "x"
    }

    static func percent(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "–" }
        return String(format: "%.0f%%", value * 100)
    }

    static func bytes(_ value: Int) -> String {
        if value == 0 { return "0" }
        if value >= 1 << 20 { return String(format: "%.1f MiB", Double(value) / Double(1 << 20)) }
        return String(format: "%.1f KiB", Double(value) / 1024)
    }

    /// Three significant digits, no exponent for ordinary magnitudes.
    static func significant(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude >= 100 { return String(format: "%.0f", value) }
        if magnitude >= 10 { return String(format: "%.1f", value) }
        if magnitude >= 1 { return String(format: "%.2f", value) }
        if magnitude >= 0.001 || magnitude == 0 { return String(format: "%.3g", value) }
        return String(format: "%.2e", value)
    }
}
