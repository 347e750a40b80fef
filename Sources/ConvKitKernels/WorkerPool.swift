import ConvKitCKernels

/// ConvKit's persistent workers, the engine of ``parallelFor(_:grain:elementsPerIndex:context:_:)``.
///
/// The threads live in `ck_workers.c`: created lazily up to the largest thread count asked (the
/// caller is worker 0), they spin ``spinNanoseconds`` after a job, then sleep on a futex. Why not
/// `DispatchQueue.concurrentPerform`: on Linux, Dispatch lets its idle threads go and brings them
/// back slowly, so the first calls after a pause ran on one core (docs/Architecture.md).
public enum WorkerPool {
    /// Worker threads created so far (the caller's thread is not counted).
    public static var workerCount: Int { Int(ck_workers_count()) }

    /// How long an idle worker spins before it sleeps: it catches the next loop of the same call
    /// without a wake-up, and an idle process burns no CPU.
    public static var spinNanoseconds: Int { ck_workers_spin_ns() }

    /// `true` on a thread that is running a chunk of a parallel loop (a loop started there runs serially).
    public static var isInsideParallelLoop: Bool { ck_workers_inside() != 0 }
}

/// One parallel loop: chunk `c` covers `c * count / chunks ..< (c + 1) * count / chunks`.
@usableFromInline
struct ParallelJob {
    let count: Int
    let chunks: Int
    let flush: Bool
    let body: (Range<Int>) -> Void

    func run(_ chunk: Int) {
        let lower = chunk * count / chunks
        let upper = (chunk + 1) * count / chunks
        DenormalMode.run(flushing: flush) { body(lower..<upper) }
    }
}

/// Runs the `chunks` ranges of `0..<count` on the workers (chunk 0 on the caller). Nested in a
/// loop's chunk, or while another thread's loop holds the workers, the caller runs the same
/// ranges itself, in order.
@usableFromInline
func runChunks(_ count: Int, chunks: Int, flush: Bool, _ body: @Sendable (Range<Int>) -> Void) {
    withoutActuallyEscaping(body) { escapable in
        let job = ParallelJob(count: count, chunks: chunks, flush: flush, body: escapable)
        let ran = withUnsafePointer(to: job) { pointer in
            ck_workers_run({ context, chunk in
                context!.assumingMemoryBound(to: ParallelJob.self).pointee.run(chunk)
            }, UnsafeMutableRawPointer(mutating: pointer), chunks)
        }
        if ran == CK_WORKERS_RAN { return }
        let nested = ck_workers_inside() != 0
        if !nested { ck_workers_enter() }
        for chunk in 0..<chunks { job.run(chunk) }
        if !nested { ck_workers_leave() }
    }
}
