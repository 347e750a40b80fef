import ConvKitKernels
import Foundation

/// What a result depends on besides the code: the machine, the BLAS build, the environment,
/// the toolchain and the run's settings. Printed above every table and stored in the JSON.
struct Machine: Encodable, Sendable {
    var cpuModel: String
    var cores: Int
    var threads: [Int]
    var blasCore: String
    var blasConfiguration: String
    /// `OPENBLAS_CORETYPE` / `OPENBLAS_L2_SIZE` when set (they change which kernels OpenBLAS runs).
    var openblasCoretype: String?
    var openblasL2Size: String?
    var openblasNumThreads: String?
    var swiftCompiler: String
    var buildConfiguration: String
    var date: String
    var loadAverage: [Double]
    /// 1-minute load average above half the cores: other work competes for the CPU.
    var noisy: Bool
    var suite: String
    var minTimeSeconds: Double
    var repeats: Int
    var naiveRepeats: Int
    var naiveBatch: Int
    /// How the cold figures were taken (`--cold`), `null` without them.
    var cold: String?

    enum CodingKeys: String, CodingKey {
        case cpuModel = "cpu_model", cores, threads, blasCore = "blas_core"
        case blasConfiguration = "blas_configuration", openblasCoretype = "OPENBLAS_CORETYPE"
        case openblasL2Size = "OPENBLAS_L2_SIZE", openblasNumThreads = "OPENBLAS_NUM_THREADS"
        case swiftCompiler = "swift_compiler", buildConfiguration = "build_configuration"
        case date, loadAverage = "load_average", noisy, suite, minTimeSeconds = "min_time_s"
        case repeats, naiveRepeats = "naive_repeats", naiveBatch = "naive_batch", cold
    }

    func encode(to encoder: any Encoder) throws {
        // Absent environment variables are written as null (not omitted): "unset" is information.
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cpuModel, forKey: .cpuModel)
        try c.encode(cores, forKey: .cores)
        try c.encode(threads, forKey: .threads)
        try c.encode(blasCore, forKey: .blasCore)
        try c.encode(blasConfiguration, forKey: .blasConfiguration)
        try c.encode(openblasCoretype, forKey: .openblasCoretype)
        try c.encode(openblasL2Size, forKey: .openblasL2Size)
        try c.encode(openblasNumThreads, forKey: .openblasNumThreads)
        try c.encode(swiftCompiler, forKey: .swiftCompiler)
        try c.encode(buildConfiguration, forKey: .buildConfiguration)
        try c.encode(date, forKey: .date)
        try c.encode(loadAverage, forKey: .loadAverage)
        try c.encode(noisy, forKey: .noisy)
        try c.encode(suite, forKey: .suite)
        try c.encode(minTimeSeconds, forKey: .minTimeSeconds)
        try c.encode(repeats, forKey: .repeats)
        try c.encode(naiveRepeats, forKey: .naiveRepeats)
        try c.encode(naiveBatch, forKey: .naiveBatch)
        try c.encode(cold, forKey: .cold)
    }

    static func current(threads: [Int], suite: String, minTime: Double, repeats: Int,
                        naiveRepeats: Int, naiveBatch: Int, cold: ColdSettings? = nil) -> Machine {
        let environment = ProcessInfo.processInfo.environment
        let cores = ComputeContext.availableCores
        let load = loadAverage()
        return Machine(
            cpuModel: cpuModel(), cores: cores, threads: threads,
            blasCore: BLAS.coreName,
            blasConfiguration: BLAS.configuration.trimmingCharacters(in: .whitespaces),
            openblasCoretype: environment["OPENBLAS_CORETYPE"],
            openblasL2Size: environment["OPENBLAS_L2_SIZE"],
            openblasNumThreads: environment["OPENBLAS_NUM_THREADS"],
            swiftCompiler: compilerVersion, buildConfiguration: buildConfiguration,
            date: Date().ISO8601Format(),
            loadAverage: load,
            noisy: (load.first ?? 0) > Double(cores) * 0.5,
            suite: suite, minTimeSeconds: minTime, repeats: repeats,
            naiveRepeats: naiveRepeats, naiveBatch: naiveBatch, cold: cold?.description)
    }

    /// `model name` of the first processor in /proc/cpuinfo (Linux), else "unknown".
    static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown"
    }

    /// 1, 5 and 15-minute load averages from /proc/loadavg (empty when unavailable).
    static func loadAverage() -> [Double] {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return [] }
        return text.split(separator: " ").prefix(3).compactMap { Double($0) }
    }

    /// The compiler that built this binary, from compile-time checks (no subprocess).
    static var compilerVersion: String {
        #if compiler(>=6.5)
        return "Swift >= 6.5"
        #elseif compiler(>=6.4)
        return "Swift 6.4.x"
        #elseif compiler(>=6.3.2)
        return "Swift 6.3.2+"
        #elseif compiler(>=6.3.1)
        return "Swift 6.3.1"
        #elseif compiler(>=6.3)
        return "Swift 6.3.0"
        #elseif compiler(>=6.2)
        return "Swift 6.2.x"
        #else
        return "Swift < 6.2"
        #endif
    }

    static var buildConfiguration: String {
        #if DEBUG
        return "debug"
        #else
        return "release"
        #endif
    }

    /// Markdown lines describing the machine (a bullet list).
    var markdownLines: [String] {
        func env(_ value: String?) -> String { value.map { "`\($0)`" } ?? "unset" }
        let loadText = loadAverage.map { String(format: "%.2f", $0) }.joined(separator: ", ")
        var lines = [
            "- CPU: \(cpuModel), \(cores) cores online; threads measured: \(threads.map(String.init).joined(separator: ", "))",
            "- OpenBLAS: core `\(blasCore)`; config `\(blasConfiguration)`",
            "- Environment: OPENBLAS_CORETYPE=\(env(openblasCoretype)), OPENBLAS_L2_SIZE=\(env(openblasL2Size)), OPENBLAS_NUM_THREADS=\(env(openblasNumThreads))",
            "- Build: \(swiftCompiler), \(buildConfiguration) configuration",
            "- Date: \(date); load average \(loadText)" + (noisy ? " **(noisy: 1-min load > cores/2)**" : ""),
            "- Settings: suite `\(suite)`, \(repeats) samples of >= \(minTimeSeconds) s each (naive: \(naiveRepeats) samples on \(naiveBatch) image(s), scaled to the full batch)",
        ]
        if let cold { lines.append("- Cold figures: \(cold)") }
        if buildConfiguration == "debug" { lines.append("- **Debug build: figures are meaningless, use `-c release`.**") }
        return lines
    }
}
