import ArgumentParser
import Foundation

/// `convkit-bench`: checks every ConvKit algorithm against the naive reference, then times it
/// on the suite's layers beside the naive loops and the bare BLAS calls it issues.
@main
struct ConvKitBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convkit-bench",
        abstract: "Time ConvKit's kernels (conv2d, dense, ...) on named layer shapes, after checking them against the naive reference.",
        discussion: """
        Prints a Markdown table (with a machine block) on stdout and a progress line per measurement \
        on stderr. Exits 1 when a fast result does not match the naive reference (after writing the outputs).
        See docs/Benchmarks.md for what is timed and the formulas.
        """)

    @Option(help: "Comma-separated layer names (e.g. alexnet_c2,resnet_1x1) or ops (conv2d, dense, maxpool2d, relu); with --suite networks, network names (resnet18) or name/batch (resnet18/16).")
    var filter: String?

    @Option(help: "Comma-separated thread counts, each used for a ComputeContext and OpenBLAS.")
    var threads: String = "1,2"

    @Option(name: .customLong("min-time"), help: "Minimum seconds per sample (default 0.05; 0.01 with --quick).")
    var minTime: Double?

    @Option(help: "Samples per measurement (default 5; 3 with --quick).")
    var repeats: Int?

    @Option(name: .customLong("naive-repeats"), help: "Samples for the naive reference.")
    var naiveRepeats: Int = 3

    @Option(name: .customLong("naive-batch"), help: "Images (dense: rows) the naive reference runs on; its times are scaled to the full batch.")
    var naiveBatch: Int = 1

    @Option(help: "Write the results as JSON to this path.")
    var json: String?

    @Option(help: "Write the Markdown table to this path (it is printed on stdout in any case).")
    var markdown: String?

    @Option(help: "Write an SVG chart to this path.")
    var svg: String?

    @Option(help: "Which layers: default (the anchors' suite), broad (conv layers of ResNet-50, MobileNetV2, ResNeXt, Inception-v3, DenseNet, DeepLabv3, U-Net, CycleGAN, VGG-16), all (default and broad) or networks (whole networks: training step and inference; not part of all).")
    var suite: String = "default"

    @Flag(help: "Reduced suite with small shapes (CI smoke test; seconds in total).")
    var quick = false

    @Flag(help: "Also time each row's first call after a pause (conv rows that automatic picks, dense rows): the cold figure.")
    var cold = false

    @Option(name: .customLong("cold-pause"), help: "Seconds of the pause before a cold call (default 2).")
    var coldPause: Double = 2

    @Flag(name: .customLong("cold-busy"), help: "Cold pauses are serial busy work on the calling thread instead of sleep.")
    var coldBusy = false

    @Option(name: .customLong("cold-samples"), help: "Pauses per cold figure (its median; default 1).")
    var coldSamples: Int = 1

    @Flag(help: "--suite networks: also print each network's time per layer (a layer-by-layer rerun) and share of the step.")
    var profile = false

    @Flag(help: "No progress lines on stderr.")
    var quiet = false

    @Flag(name: .customLong("print-suite"), help: "Print the selected layers as JSON (for Benchmarks/compare/peers.py) and exit.")
    var printSuite = false

    func validate() throws {
        if threadCounts.isEmpty || threadCounts.contains(where: { $0 < 1 }) {
            throw ValidationError("--threads must be a comma-separated list of positive integers, got '\(threads)'")
        }
        if let minTime, !(minTime >= 0) { throw ValidationError("--min-time must be >= 0, got \(minTime)") }
        if let repeats, repeats < 1 { throw ValidationError("--repeats must be >= 1, got \(repeats)") }
        if naiveRepeats < 1 { throw ValidationError("--naive-repeats must be >= 1, got \(naiveRepeats)") }
        if !(coldPause >= 0) { throw ValidationError("--cold-pause must be >= 0, got \(coldPause)") }
        if coldSamples < 1 { throw ValidationError("--cold-samples must be >= 1, got \(coldSamples)") }
        if naiveBatch < 1 { throw ValidationError("--naive-batch must be >= 1, got \(naiveBatch)") }
        guard let choice = SuiteChoice(rawValue: suite) else {
            throw ValidationError("--suite must be one of \(SuiteChoice.allCases.map(\.rawValue).joined(separator: ", ")), got '\(suite)'")
        }
        if quick && choice == .broad { throw ValidationError("--quick selects the quick suite; it does not combine with --suite broad") }
        if choice == .networks && svg != nil { throw ValidationError("--svg charts the layer suites; the networks chart is Benchmarks/compare/combine.py's") }
        if profile && choice != .networks { throw ValidationError("--profile applies to --suite networks") }
    }

    var suiteChoice: SuiteChoice { SuiteChoice(rawValue: suite) ?? .default }

    var threadCounts: [Int] {
        threads.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) ?? 0 }
    }

    func run() throws {
        let minTime = self.minTime ?? (quick ? 0.01 : 0.05)
        let repeats = self.repeats ?? (quick ? 3 : 5)
        let tokens = (filter ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if suiteChoice == .networks {
            try runNetworks(tokens: tokens, minTime: minTime, repeats: repeats)
            return
        }
        let entries: [SuiteEntry]
        do {
            entries = try Suite.filter(Suite.entries(suiteChoice, quick: quick), tokens: tokens)
        } catch {
            throw ValidationError("\(error)")
        }
        if printSuite {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let specs = entries.map { entry in
                var spec = entry.peerSpec
                spec.suite = Suite.suiteName(of: entry, quick: quick)
                return spec
            }
            print(String(decoding: try encoder.encode(specs), as: UTF8.self))
            return
        }
        let coldSettings = cold ? ColdSettings(pause: coldBusy ? .busy : .sleep, seconds: coldPause, samples: coldSamples) : nil
        // Load average before we load the machine ourselves.
        let suiteLabel = quick ? (suiteChoice == .all ? "quick+broad" : "quick") : suiteChoice.reportName
        let machine = Machine.current(threads: threadCounts, suite: suiteLabel, minTime: minTime,
                                      repeats: repeats, naiveRepeats: naiveRepeats, naiveBatch: naiveBatch,
                                      cold: coldSettings)
        if machine.noisy {
            printError("warning: 1-minute load average \(machine.loadAverage.first ?? 0) > \(machine.cores)/2: figures will be noisy")
        }
        let runner = Runner(threads: threadCounts, minTime: minTime, repeats: repeats, naiveRepeats: naiveRepeats,
                            naiveBatch: naiveBatch, progress: !quiet, cold: coldSettings)
        for entry in entries { try entry.run(runner) }

        let report = Report(machine: machine, results: runner.results, failures: runner.failures)
        let table = report.markdown()
        print(table, terminator: "")
        if let markdown { try write(table, to: markdown) }
        if let json { try write(report.jsonData(), to: json) }
        if let svg { try write(report.svg(), to: svg) }
        if !runner.failures.isEmpty {
            printError("\(runner.failures.count) result(s) did not match the naive reference:")
            for f in runner.failures { printError("  \(f)") }
            throw ExitCode(1)
        }
    }

    /// `--suite networks`: the networks of ``NetworkCatalogue`` (``NetworkRunner``).
    private func runNetworks(tokens: [String], minTime: Double, repeats: Int) throws {
        let specs: [NetworkSpec]
        do {
            specs = try NetworkCatalogue.filter(quick ? NetworkCatalogue.quick : NetworkCatalogue.all, tokens: tokens)
        } catch {
            throw ValidationError("\(error)")
        }
        if printSuite {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(specs), as: UTF8.self))
            return
        }
        let coldSettings = cold ? ColdSettings(pause: coldBusy ? .busy : .sleep, seconds: coldPause, samples: coldSamples) : nil
        let machine = Machine.current(threads: threadCounts, suite: quick ? "networks-quick" : "networks", minTime: minTime,
                                      repeats: repeats, naiveRepeats: 0, naiveBatch: 0, cold: coldSettings)
        if machine.noisy {
            printError("warning: 1-minute load average \(machine.loadAverage.first ?? 0) > \(machine.cores)/2: figures will be noisy")
        }
        let runner = NetworkRunner(NetworkSettings(threads: threadCounts, minTime: minTime, repeats: repeats, progress: !quiet,
                                                   cold: coldSettings, profile: profile))
        for spec in specs { try runner.run(spec) }
        let report = NetworkReport(machine: machine, networks: runner.rows, profiles: runner.profiles, failures: runner.failures)
        let table = report.markdown()
        print(table, terminator: "")
        if let markdown { try write(table, to: markdown) }
        if let json { try write(report.jsonData(), to: json) }
        if !runner.failures.isEmpty {
            printError("\(runner.failures.count) network row(s) computed NaN or ±∞:")
            for f in runner.failures { printError("  \(f)") }
            throw ExitCode(1)
        }
    }

    private func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }

    private func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
    }
}
