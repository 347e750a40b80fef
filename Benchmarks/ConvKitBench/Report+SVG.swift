import Foundation

extension Report {
    /// A dependency-free SVG: grouped bars of GFLOP/s per layer and direction (log scale) for the
    /// naive reference and each ConvKit algorithm × thread count; below, each algorithm's fraction of
    /// its BLAS ceiling; and, when present, GB/s of the memory-bound rows beside the copy baseline.
    func svg() -> String {
        var panels: [BarChart] = []
        let compute = results.filter { $0.flops != nil }
        if !compute.isEmpty {
            let groups = Self.groupKeys(compute)
            let fast = Self.seriesKeys(compute.filter { $0.verified != nil })
            var gflops = [BarChart.Series(name: "naive (1T, scaled)", color: BarChart.palette[0], values: groups.map { key in
                compute.first { $0.name == key.name && $0.direction == key.direction && $0.verified == nil }?.gflops
            })]
            var fractions: [BarChart.Series] = []
            for (i, s) in fast.enumerated() {
                let color = BarChart.palette[(i + 1) % BarChart.palette.count]
                let rows = groups.map { key in
                    compute.first { $0.name == key.name && $0.direction == key.direction && $0.algorithm == s.algorithm && $0.threads == s.threads }
                }
                gflops.append(.init(name: "\(s.algorithm) \(s.threads)T", color: color, values: rows.map { $0?.gflops }))
                fractions.append(.init(name: "\(s.algorithm) \(s.threads)T", color: color, values: rows.map { $0?.fractionOfBLAS }))
            }
            let labels = groups.map { "\($0.name) \(Self.shortDirection($0.direction))" }
            panels.append(BarChart(title: "GFLOP/s (log scale; higher is better)", groups: labels, series: gflops, logScale: true))
            if fractions.contains(where: { $0.values.contains { $0 != nil } }) {
                panels.append(BarChart(title: "Fraction of the BLAS ceiling (same GEMM shapes, bare sgemm, same threads)",
                                       groups: labels, series: fractions, logScale: false, referenceLine: 1))
            }
        }
        let memory = results.filter { $0.bytes != nil }
        if !memory.isEmpty {
            let groups = Self.groupKeys(memory)
            var series: [BarChart.Series] = []
            for s in Self.seriesKeys(memory) {
                series.append(.init(name: "\(s.algorithm) \(s.threads)T",
                                    color: BarChart.palette[series.count % BarChart.palette.count], values: groups.map { key in
                    memory.first { $0.name == key.name && $0.direction == key.direction && $0.algorithm == s.algorithm && $0.threads == s.threads }?.gbps
                }))
            }
            for t in Array(Set(memory.map(\.threads))).sorted() {
                series.append(.init(name: "copy \(t)T", color: BarChart.palette[series.count % BarChart.palette.count],
                                    values: groups.map { key in
                    memory.first { $0.name == key.name && $0.direction == key.direction && $0.threads == t }
                        .flatMap { r in r.copyMs.flatMap { ms in r.bytes.map { $0 / (ms * 1e-3) / 1e9 } } }
                }))
            }
            panels.append(BarChart(title: "GB/s (bytes read + written / time) beside a plain copy",
                                   groups: groups.map { "\($0.name) \(Self.shortDirection($0.direction))" },
                                   series: series, logScale: false))
        }
        let title = "ConvKit — \(machine.cpuModel), OpenBLAS \(machine.blasCore), \(machine.date)"
            + (machine.noisy ? " (noisy machine)" : "")
        return BarChart.document(title: title, panels: panels)
    }

    struct GroupKey: Hashable { let name: String, direction: String }
    struct SeriesKey: Hashable { let algorithm: String, threads: Int }

    static func groupKeys(_ rows: [ResultRow]) -> [GroupKey] {
        var keys: [GroupKey] = []
        for r in rows where !keys.contains(GroupKey(name: r.name, direction: r.direction)) {
            keys.append(GroupKey(name: r.name, direction: r.direction))
        }
        return keys
    }

    static func seriesKeys(_ rows: [ResultRow]) -> [SeriesKey] {
        var keys: [SeriesKey] = []
        for r in rows where !keys.contains(SeriesKey(algorithm: r.algorithm, threads: r.threads)) {
            keys.append(SeriesKey(algorithm: r.algorithm, threads: r.threads))
        }
        return keys
    }

    static func shortDirection(_ direction: String) -> String {
        switch direction {
        case "forward": return "fwd"
        case "backwardData": return "bwd data"
        case "backwardFilter": return "bwd filter"
        case "backwardWeights": return "bwd weights"
        case "backward": return "bwd"
        case "inference": return "infer"
        default: return direction
        }
    }
}

/// A grouped bar chart panel, rendered to SVG by hand (no dependencies).
struct BarChart {
    struct Series {
        var name: String
        var color: String
        var values: [Double?]
    }

    var title: String
    var groups: [String]
    var series: [Series]
    var logScale: Bool
    var referenceLine: Double? = nil

    static let palette = ["#8c8c8c", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                          "#8c564b", "#e377c2", "#17becf", "#bcbd22"]
    static let left = 70.0, right = 20.0, plotHeight = 260.0, top = 56.0, bottom = 110.0

    var barWidth: Double { 7 }
    var groupWidth: Double { max(26, Double(series.count) * barWidth + 10) }
    var width: Double {
        let legend = Self.left + series.reduce(0) { $0 + 24 + Double($1.name.count) * 6.5 }
        return max(Self.left + Double(groups.count) * groupWidth + Self.right, legend, Double(title.count) * 7.5 + Self.left)
    }
    var height: Double { Self.top + Self.plotHeight + Self.bottom }

    static func document(title: String, panels: [BarChart]) -> String {
        let width = max(640, Double(title.count) * 8.5, panels.map(\.width).max() ?? 640)
        var y = 30.0
        var body: [String] = ["<text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">\(escape(title))</text>"]
        for panel in panels {
            body.append(panel.render(originY: y))
            y += panel.height
        }
        return """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(y))" viewBox="0 0 \(Int(width)) \(Int(y))" font-family="sans-serif">
        <rect width="100%" height="100%" fill="white"/>
        \(body.joined(separator: "\n"))
        </svg>

        """
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    private static func fmt(_ value: Double) -> String { String(format: "%.1f", value) }

    func render(originY: Double) -> String {
        var out: [String] = []
        let values = series.flatMap(\.values).compactMap { $0 }.filter { $0.isFinite && $0 > 0 }
        let plotTop = originY + Self.top
        let plotBottom = plotTop + Self.plotHeight
        // Axis range and ticks.
        var ticks: [Double]
        let lo: Double, hi: Double
        if logScale {
            let minValue = values.min() ?? 1, maxValue = values.max() ?? 10
            lo = pow(10, floor(log10(minValue)))
            hi = max(lo * 10, pow(10, ceil(log10(maxValue))))
            ticks = []
            var t = lo
            while t <= hi * 1.0001 { ticks.append(t); t *= 10 }
        } else {
            let maxValue = max(values.max() ?? 1, referenceLine ?? 0) * 1.05
            let step = Self.niceStep(maxValue / 5)
            lo = 0
            hi = (maxValue / step).rounded(.up) * step
            ticks = stride(from: 0, through: hi + step / 2, by: step).map { $0 }
        }
        func yOf(_ v: Double) -> Double {
            let f = logScale ? (log10(max(v, lo)) - log10(lo)) / (log10(hi) - log10(lo)) : (v - lo) / (hi - lo)
            return plotBottom - f * Self.plotHeight
        }
        let plotRight = Self.left + Double(groups.count) * groupWidth
        out.append("<text x=\"\(Self.left)\" y=\"\(Self.fmt(originY + 18))\" font-size=\"13\" font-weight=\"bold\">\(Self.escape(title))</text>")
        // Legend.
        var lx = Self.left
        for s in series {
            let color = s.color
            out.append("<rect x=\"\(Self.fmt(lx))\" y=\"\(Self.fmt(originY + 28))\" width=\"10\" height=\"10\" fill=\"\(color)\"/>")
            out.append("<text x=\"\(Self.fmt(lx + 14))\" y=\"\(Self.fmt(originY + 37))\" font-size=\"11\">\(Self.escape(s.name))</text>")
            lx += 24 + Double(s.name.count) * 6.5
        }
        // Grid and axis labels.
        for t in ticks {
            let y = yOf(t)
            out.append("<line x1=\"\(Self.left)\" y1=\"\(Self.fmt(y))\" x2=\"\(Self.fmt(plotRight))\" y2=\"\(Self.fmt(y))\" stroke=\"#dddddd\"/>")
            out.append("<text x=\"\(Self.fmt(Self.left - 6))\" y=\"\(Self.fmt(y + 4))\" font-size=\"10\" text-anchor=\"end\">\(Format.significant(t))</text>")
        }
        if let reference = referenceLine {
            let y = yOf(reference)
            out.append("<line x1=\"\(Self.left)\" y1=\"\(Self.fmt(y))\" x2=\"\(Self.fmt(plotRight))\" y2=\"\(Self.fmt(y))\" stroke=\"#444444\" stroke-dasharray=\"4 3\"/>")
        }
        out.append("<line x1=\"\(Self.left)\" y1=\"\(Self.fmt(plotBottom))\" x2=\"\(Self.fmt(plotRight))\" y2=\"\(Self.fmt(plotBottom))\" stroke=\"black\"/>")
        out.append("<line x1=\"\(Self.left)\" y1=\"\(Self.fmt(plotTop))\" x2=\"\(Self.left)\" y2=\"\(Self.fmt(plotBottom))\" stroke=\"black\"/>")
        // Bars and group labels.
        for (g, label) in groups.enumerated() {
            let gx = Self.left + Double(g) * groupWidth + 5
            for (i, s) in series.enumerated() {
                guard g < s.values.count, let v = s.values[g], v.isFinite, v > 0 else { continue }
                let x = gx + Double(i) * barWidth
                let y = yOf(v)
                let color = s.color
                out.append("<rect x=\"\(Self.fmt(x))\" y=\"\(Self.fmt(y))\" width=\"\(Self.fmt(barWidth - 1))\" height=\"\(Self.fmt(max(0, plotBottom - y)))\" fill=\"\(color)\"><title>\(Self.escape("\(label), \(s.name): \(Format.significant(v))"))</title></rect>")
            }
            let tx = gx + Double(series.count) * barWidth / 2
            let ty = plotBottom + 10
            out.append("<text x=\"\(Self.fmt(tx))\" y=\"\(Self.fmt(ty))\" font-size=\"10\" text-anchor=\"end\" transform=\"rotate(-55 \(Self.fmt(tx)) \(Self.fmt(ty)))\">\(Self.escape(label))</text>")
        }
        return out.joined(separator: "\n")
    }

    /// 1, 2 or 5 × a power of ten, at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let magnitude = pow(10, floor(log10(raw)))
        for m in [1.0, 2, 5, 10] where m * magnitude >= raw { return m * magnitude }
        return 10 * magnitude
    }
}
