import Dispatch
import Testing
import _ConvKitTestSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `parallelFor` over ConvKit's persistent workers: every index exactly once in the documented
/// ranges, at most `threads` threads with the caller as one of them, nested loops serial on their
/// thread, several application threads at once, and calls after the workers went to sleep.
/// No timings here: speed lives in the benchmark (`convkit-bench --cold`).
@Suite("Worker pool", .serialized)
struct WorkerPoolTests {
    /// What one `parallelFor` call did, recorded per range (ranges are disjoint, so the writes are).
    final class Trace: @unchecked Sendable {
        let hits: SharedBuffer<Int32>
        /// At a range's lower bound: its upper bound + 1 (0 = no range starts here).
        let ends: SharedBuffer<Int>
        let threadAt: SharedBuffer<UInt>
        let flushingAt: SharedBuffer<Bool>
        private let storage: (UnsafeMutableBufferPointer<Int32>, UnsafeMutableBufferPointer<Int>,
                              UnsafeMutableBufferPointer<UInt>, UnsafeMutableBufferPointer<Bool>)

        init(count: Int) {
            let n = max(count, 1)
            storage = (.allocate(capacity: n), .allocate(capacity: n), .allocate(capacity: n), .allocate(capacity: n))
            storage.0.initialize(repeating: 0)
            storage.1.initialize(repeating: 0)
            storage.2.initialize(repeating: 0)
            storage.3.initialize(repeating: false)
            hits = SharedBuffer(storage.0)
            ends = SharedBuffer(storage.1)
            threadAt = SharedBuffer(storage.2)
            flushingAt = SharedBuffer(storage.3)
        }

        deinit {
            storage.0.deallocate(); storage.1.deallocate(); storage.2.deallocate(); storage.3.deallocate()
        }

        func record(_ range: Range<Int>) {
            ends[range.lowerBound] = range.upperBound + 1
            threadAt[range.lowerBound] = UInt(pthread_self())
            flushingAt[range.lowerBound] = DenormalMode.isFlushingOnCurrentThread
            for i in range { hits[i] += 1 }
        }
    }

    static var currentThread: UInt { UInt(pthread_self()) }

    /// The chunk count `parallelFor` documents for `count` with grain 1 and one element per index.
    static func chunks(_ count: Int, _ context: ComputeContext) -> Int {
        min(context.threads, max(1, count / max(1, context.minimumElementsPerThread)))
    }

    /// Runs one loop and checks coverage, the exact split and the threads used.
    static func check(count: Int, context: ComputeContext) {
        let trace = Trace(count: count)
        let caller = currentThread
        parallelFor(count, context: context) { range in trace.record(range) }
        if count <= 0 { return }
        let chunks = chunks(count, context)
        var threads = Set<UInt>()
        for c in 0..<chunks {
            let lower = c * count / chunks, upper = (c + 1) * count / chunks
            guard lower < upper else { continue }
            #expect(trace.ends[lower] == upper + 1, "count \(count) \(context): chunk \(c) is not \(lower)..<\(upper)")
            #expect(trace.flushingAt[lower] == context.flushesDenormals, "chunk \(c) flushing")
            threads.insert(trace.threadAt[lower])
        }
        #expect(trace.threadAt[0] == caller, "chunk 0 runs on the caller")
        #expect(threads.count <= context.threads, "\(threads.count) threads for \(context)")
        let wrong = (0..<count).filter { trace.hits[$0] != 1 }
        #expect(wrong.isEmpty, "count \(count) \(context): indices not covered once: \(wrong.prefix(8))")
    }

    @Test func everyIndexExactlyOnceInTheDocumentedRanges() {
        var rng = SplitMix64(seed: 12)
        for trial in 0..<400 {
            let count = Int(rng.next() % 3000) + (trial % 7 == 0 ? 0 : 1) - (trial % 13 == 0 ? 1 : 0)
            let threads = [1, 2, 3, 4, 5, 8, 16, 31, 64, 256][Int(rng.next() % 10)]
            let minimum = [1, 1, 7, 100, 1 << 15][Int(rng.next() % 5)]
            let context = ComputeContext(threads: threads, minimumElementsPerThread: minimum,
                                         flushesDenormals: rng.next() % 2 == 0)
            Self.check(count: count, context: context)
        }
        #expect(WorkerPool.workerCount <= 255)
        #expect(!WorkerPool.isInsideParallelLoop)
    }

    @Test func grainAndElementsPerIndexKeepSmallLoopsSerial() {
        let caller = Self.currentThread
        let trace = Trace(count: 100)
        parallelFor(100, grain: 60, context: ComputeContext(threads: 4, minimumElementsPerThread: 1)) { trace.record($0) }
        #expect(trace.ends[0] == 101 && trace.threadAt[0] == caller)
        let trace2 = Trace(count: 100)
        parallelFor(100, elementsPerIndex: 10, context: ComputeContext(threads: 4, minimumElementsPerThread: 400)) {
            trace2.record($0)
        }
        // 400 elements per chunk = 40 indices: 100 / 40 = 2 chunks.
        #expect(trace2.ends[0] == 51 && trace2.ends[50] == 101)
    }

    /// A worker started from inside a flushing region (a kernel's GEMM phase) must not keep that
    /// state: chunks of a loop with `flushesDenormals: false` run unflushed.
    @Test func workersStartedInsideAFlushingRegionStartUnflushed() {
        let threads = min(256, WorkerPool.workerCount + 3)
        DenormalMode.run(flushing: true) {
            Self.check(count: 4096, context: ComputeContext(threads: threads, minimumElementsPerThread: 1))
        }
        Self.check(count: 4096, context: ComputeContext(threads: threads, minimumElementsPerThread: 1,
                                                        flushesDenormals: false))
    }

    @Test func nestedLoopRunsSeriallyOnItsThread() {
        let outer = ComputeContext(threads: 3, minimumElementsPerThread: 1)
        let inner = ComputeContext(threads: 4, minimumElementsPerThread: 1)
        let count = 3, innerCount = 1000
        let traces = (0..<count).map { _ in Trace(count: innerCount) }
        let outerThreads = Trace(count: count)
        let insideFlags = SharedBuffer(UnsafeMutableBufferPointer<Bool>.allocate(capacity: count))
        defer { UnsafeMutableBufferPointer(start: insideFlags.base, count: count).deallocate() }
        parallelFor(count, context: outer) { range in
            outerThreads.record(range)
            for i in range {
                insideFlags[i] = WorkerPool.isInsideParallelLoop
                parallelFor(innerCount, context: inner) { traces[i].record($0) }
            }
        }
        for i in 0..<count {
            #expect(insideFlags[i], "outer chunk \(i) is marked inside a loop")
            let t = traces[i]
            #expect((0..<innerCount).allSatisfy { t.hits[$0] == 1 }, "inner loop \(i) covers every index once")
            for c in 0..<4 {
                let lower = c * innerCount / 4
                #expect(t.ends[lower] == (c + 1) * innerCount / 4 + 1, "inner loop keeps the documented split")
                #expect(t.threadAt[lower] == outerThreads.threadAt[i], "inner chunk runs on the outer chunk's thread")
            }
        }
        #expect(!WorkerPool.isInsideParallelLoop)
    }

    @Test func concurrentCallersGetCorrectResults() {
        let callers = 8
        let failures = SharedBuffer(UnsafeMutableBufferPointer<Int>.allocate(capacity: callers))
        defer { UnsafeMutableBufferPointer(start: failures.base, count: callers).deallocate() }
        DispatchQueue.concurrentPerform(iterations: callers) { caller in
            var rng = SplitMix64(seed: UInt64(100 + caller))
            var bad = 0
            for _ in 0..<150 {
                let count = Int(rng.next() % 4000) + 1
                let context = ComputeContext(threads: Int(rng.next() % 4) + 1, minimumElementsPerThread: 1)
                let trace = Trace(count: count)
                parallelFor(count, context: context) { trace.record($0) }
                let chunks = Self.chunks(count, context)
                for c in 0..<chunks where trace.ends[c * count / chunks] != (c + 1) * count / chunks + 1 { bad += 1 }
                bad += (0..<count).filter { trace.hits[$0] != 1 }.count
            }
            failures[caller] = bad
        }
        for caller in 0..<callers { #expect(failures[caller] == 0, "caller \(caller)") }
    }

    /// After the workers have gone to sleep (well past their spin budget), calls still run every
    /// chunk, on the workers when the pool is free.
    @Test func callsAfterAnIdlePauseAreCorrect() {
        let context = ComputeContext(threads: 2, minimumElementsPerThread: 1)
        Self.check(count: 1000, context: context)
        for pause in [1_000, 50_000, 300_000] {
            usleep(UInt32(pause))
            for _ in 0..<3 { Self.check(count: 1000, context: context) }
            Self.check(count: 777, context: ComputeContext(threads: 5, minimumElementsPerThread: 1))
        }
    }
}
