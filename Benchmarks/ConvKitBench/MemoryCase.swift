import ConvKitKernels

/// One variant (direction × algorithm) of a memory-bound kernel such as pooling or an activation.
struct MemoryVariant {
    var direction: String
    var algorithm: String
    /// `false` when the kernel ignores the context's thread count: measured once, reported at 1 thread.
    var threaded: Bool
    /// One call on the case's tensors.
    var run: (ComputeContext) -> Void
    /// Poisons the outputs, runs the variant and compares with the reference; `nil` for the
    /// reference itself (algorithm `naive`).
    var verify: ((ComputeContext) -> Check)?
}

/// A memory-bound layer of the suite: its variants are timed beside a plain copy of the same
/// number of bytes (read + written), with the same thread count.
///
/// To add one (e.g. when the pooling and activation kernels land): build its tensors, list a
/// `naive` variant and the fast ones per direction with `bytes[direction]` = bytes read +
/// written by one call, and return it from ``Suite/memoryCases(quick:)``.
struct MemoryCase {
    var name: String
    /// `maxpool2d`, `relu`, ...
    var op: String
    var shape: String
    var batch: Int
    /// Bytes read + written by one call, per direction.
    var bytes: [String: Double]
    var variants: [MemoryVariant]

    func run(_ runner: Runner) {
        var directions: [String] = []
        for v in variants where !directions.contains(v.direction) { directions.append(v.direction) }
        for direction in directions {
            let moved = bytes[direction] ?? 0
            let copy = CopyBench(bytes: moved)
            let forDirection = variants.filter { $0.direction == direction }
            var naive: Timing? = nil
            if let reference = forDirection.first(where: { $0.verify == nil }) {
                let (t, copyTime) = runner.timePair({ reference.run(.serial) }, baseline: { copy.run(.serial) })
                naive = t
                runner.record(row(direction, reference.algorithm, threads: 1, timing: t, naive: t,
                                  copy: copyTime, bytes: moved, check: nil))
            }
            for variant in forDirection where variant.verify != nil {
                for threads in variant.threaded ? runner.threads : [1] {
                    let context = ComputeContext(threads: threads)
                    let check = variant.verify?(context) ?? .passed
                    if !check.passed {
                        runner.fail("\(name) \(direction) \(variant.algorithm) \(threads)T: \(check.message ?? "mismatch")")
                    }
                    let (t, copyTime) = runner.timePair({ variant.run(context) }, baseline: { copy.run(context) })
                    runner.record(row(direction, variant.algorithm, threads: threads, timing: t, naive: naive,
                                      copy: copyTime, bytes: moved, check: check))
                }
            }
        }
    }

    private func row(_ direction: String, _ algorithm: String, threads: Int, timing: Timing, naive: Timing?,
                     copy: Timing, bytes: Double, check: Check?) -> ResultRow {
        ResultRow(
            name: name, op: op, direction: direction, algorithm: algorithm, threads: threads,
            batch: batch, timedBatch: batch, shape: shape, flops: nil, bytes: bytes,
            medianMs: timing.medianMilliseconds, minMs: timing.minimumMilliseconds,
            gflops: nil, gbps: bytes / timing.median / 1e9,
            speedupVsNaive: naive.map { $0.median / timing.median },
            fractionOfBLAS: nil, blasCeilingMs: nil, blasCeilingGflops: nil,
            fractionOfCopy: copy.median / timing.median, copyMs: copy.medianMilliseconds,
            workspaceBytes: 0, callsPerSample: timing.callsPerSample, samples: timing.samples,
            verified: check?.passed, worstErrorRatio: check?.worstRatio)
    }
}

/// The copy baseline: `bytes / 2` read and `bytes / 2` written with `update(from:)` (memcpy),
/// split into `context.threads` contiguous chunks.
final class CopyBench {
    let source: FloatBuffer, target: FloatBuffer

    init(bytes: Double) {
        let count = max(1, Int(bytes / 2) / MemoryLayout<Float>.stride)
        source = FloatBuffer(random: count, seed: 77)
        target = FloatBuffer(count: count)
    }

    func run(_ context: ComputeContext) {
        let s = SharedBuffer(readOnly: source.read), t = SharedBuffer(target.mutable)
        let count = source.count
        let chunks = min(context.threads, max(1, count >> 16))
        parallelFor(chunks, context: ComputeContext(threads: chunks, minimumElementsPerThread: 1)) { range in
            for chunk in range {
                let lower = chunk * count / chunks, upper = (chunk + 1) * count / chunks
                (t.base + lower).update(from: s.base + lower, count: upper - lower)
            }
        }
    }
}
