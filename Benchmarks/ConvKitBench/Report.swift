/// One measured row: one layer, direction, algorithm and thread count.
///
/// JSON names (stable; peers' tooling reads them): `name`, `op`, `direction`, `algorithm`,
/// `threads`, `batch`, `flops`, `median_ms`, `min_ms`, `gflops`, `speedup_vs_naive`,
/// `fraction_of_blas`, `workspace_bytes`, `cold_ms`; memory-bound rows add `bytes`, `gbps`, `copy_ms`
/// and `fraction_of_copy`. Figures that do not apply are `null`.
struct ResultRow: Encodable, Sendable {
    var name: String
    /// `conv2d`, `dense`, `maxpool2d`, `relu`.
    var op: String
    /// `forward`, `backwardData`, `backwardFilter` (conv) / `backwardWeights` (dense).
    var direction: String
    var algorithm: String
    /// Threads of the ComputeContext (naive kernels are single-threaded: measured once, `threads` 1).
    var threads: Int
    /// The batch the row's figures refer to (the layer's full batch).
    var batch: Int
    /// The batch actually run while timing (naive: a reduced batch, figures scaled by batch / timedBatch).
    var timedBatch: Int
    var shape: String
    var flops: Double?
    /// Bytes read + written by one call (memory-bound rows).
    var bytes: Double?
    var medianMs: Double
    var minMs: Double
    /// First call after an idle pause (median over the pauses; `--cold`), `null` when not measured.
    var coldMs: Double? = nil
    var gflops: Double?
    var gbps: Double?
    var speedupVsNaive: Double?
    /// Median time of the bare `sgemm` calls the algorithm issues / the algorithm's median time.
    var fractionOfBLAS: Double?
    var blasCeilingMs: Double?
    var blasCeilingGflops: Double?
    /// Median time of copying the same number of bytes / the kernel's median time.
    var fractionOfCopy: Double?
    var copyMs: Double?
    var workspaceBytes: Int
    var callsPerSample: Int
    var samples: Int
    /// `true`/`false` after the check against the naive reference; `null` for the reference itself.
    var verified: Bool?
    /// Largest |fast − naive| / tolerance seen in the check (<= 1 passes).
    var worstErrorRatio: Double?
    /// Conv rows: `true` on the algorithm `Conv2DAlgorithm.automatic` runs for this shape.
    var chosenByAutomatic: Bool? = nil

    enum CodingKeys: String, CodingKey {
        case name, op, direction, algorithm, threads, batch, timedBatch = "timed_batch", shape, flops, bytes
        case medianMs = "median_ms", minMs = "min_ms", coldMs = "cold_ms", gflops, gbps, speedupVsNaive = "speedup_vs_naive"
        case fractionOfBLAS = "fraction_of_blas", blasCeilingMs = "blas_ceiling_ms"
        case blasCeilingGflops = "blas_ceiling_gflops", fractionOfCopy = "fraction_of_copy", copyMs = "copy_ms"
        case workspaceBytes = "workspace_bytes", callsPerSample = "calls_per_sample", samples
        case verified, worstErrorRatio = "worst_error_ratio", chosenByAutomatic = "chosen_by_automatic"
    }

    func encode(to encoder: any Encoder) throws {
        // Explicit nulls for figures that do not apply; non-finite numbers become null.
        var c = encoder.container(keyedBy: CodingKeys.self)
        func number(_ value: Double?, _ key: CodingKeys) throws {
            try c.encode(value.flatMap { $0.isFinite ? $0 : nil }, forKey: key)
        }
        try c.encode(name, forKey: .name)
        try c.encode(op, forKey: .op)
        try c.encode(direction, forKey: .direction)
        try c.encode(algorithm, forKey: .algorithm)
        try c.encode(threads, forKey: .threads)
        try c.encode(batch, forKey: .batch)
        try c.encode(timedBatch, forKey: .timedBatch)
        try c.encode(shape, forKey: .shape)
        try number(flops, .flops)
        if bytes != nil || gbps != nil {
            try number(bytes, .bytes)
            try number(gbps, .gbps)
            try number(copyMs, .copyMs)
            try number(fractionOfCopy, .fractionOfCopy)
        }
        try number(medianMs, .medianMs)
        try number(minMs, .minMs)
        try number(coldMs, .coldMs)
        try number(gflops, .gflops)
        try number(speedupVsNaive, .speedupVsNaive)
        try number(fractionOfBLAS, .fractionOfBLAS)
        try number(blasCeilingMs, .blasCeilingMs)
        try number(blasCeilingGflops, .blasCeilingGflops)
        try c.encode(workspaceBytes, forKey: .workspaceBytes)
        try c.encode(callsPerSample, forKey: .callsPerSample)
        try c.encode(samples, forKey: .samples)
        try c.encode(verified, forKey: .verified)
        try number(worstErrorRatio, .worstErrorRatio)
        if let chosenByAutomatic { try c.encode(chosenByAutomatic, forKey: .chosenByAutomatic) }
    }
}

/// Everything one run produced.
struct Report: Encodable, Sendable {
    var machine: Machine
    var results: [ResultRow]
    /// One line per fast result that did not match the naive reference (the run exits 1).
    var failures: [String]
}
