import ConvKitKernels

/// A run of identical `sgemm` calls, as one algorithm issues them in one kernel call.
///
/// Strides say which operand moves from call to call (0 = the same memory every call), so the
/// bare calls touch memory like the kernel does: e.g. im2col forward reuses one column buffer
/// (B) and the filter (A) but writes a new output plane (C) per image.
struct GemmCall: Sendable {
    var transA = false, transB = false
    var m: Int, n: Int, k: Int
    var count: Int
    var aStride = 0, bStride = 0, cStride = 0
    /// beta of the first call and of the following ones (backwardFilter accumulates over images).
    var firstBeta: Float = 0, laterBeta: Float = 0
    /// When > 0, the operands repeat every `period` calls (call `i` uses offset `(i % period)·stride`),
    /// as Winograd's 16 GEMMs per block reuse one block's buffers.
    var period = 0

    var flops: Double { 2 * Double(m) * Double(n) * Double(k) * Double(count) }
    var description: String {
        "\(count) x sgemm(\(transA ? "T" : "N")\(transB ? "T" : "N") m=\(m) n=\(n) k=\(k))"
    }
}

/// The BLAS ceiling of an algorithm: the same GEMM calls without anything else.
struct GemmPlan: Sendable {
    var calls: [GemmCall]
    /// The kernel splits the calls (in groups of `period`) over its workers, each issuing its share
    /// with OpenBLAS at one thread (Winograd, im2colImageParallel); otherwise the calls run in turn,
    /// each split by columns over the workers (im2col, dense).
    var workerParallel = false
    var flops: Double { calls.reduce(0) { $0 + $1.flops } }
    var description: String { calls.map(\.description).joined(separator: " + ") }

    /// The GEMMs one call of a convolution algorithm issues, as the kernel reports them
    /// (``Conv2DKernel/gemmCalls(_:algorithm:direction:workspaceCount:)``), with the operand that
    /// walks through the tensors marked as moving. im2col: the output chunk (forward), the
    /// output-gradient chunk (backwardData, backwardFilter), and the input itself for pointwise
    /// convolutions; the filter and the column workspace stay put. Winograd: see below.
    /// `nil` when the algorithm issues no GEMM.
    static func conv(_ g: Conv2DGeometry, _ direction: Conv2DDirection, _ algorithm: Conv2DAlgorithm,
                     workspaceCount: Int) -> GemmPlan? {
        let calls = Conv2DKernel.gemmCalls(g, algorithm: algorithm, direction: direction, workspaceCount: workspaceCount)
        if calls.isEmpty { return nil }
        let pointwise = g.isPointwise
        var plan = GemmPlan(calls: calls.map { c in
            var call = GemmCall(transA: c.transA, transB: c.transB, m: c.m, n: c.n, k: c.k, count: c.count)
            if algorithm.isWinograd {
                // 16 (F(2x2)) or 36 (F(4x4)) GEMMs per block, one per tile position, on the block's
                // transformed tiles (reused by the next block of the same worker); the filter
                // gradient (C) is accumulated.
                call.period = algorithm == .winograd4x4 ? 36 : 16
                call.aStride = c.m * c.k
                call.bStride = c.k * c.n
                call.cStride = c.m * c.n
                if direction == .backwardFilter { call.laterBeta = 1 }
                return call
            }
            switch direction {
            case .forward:
                call.cStride = c.m * c.n
                if pointwise { call.bStride = c.k * c.n }
            case .backwardData:
                call.bStride = c.k * c.n
                if pointwise { call.cStride = c.m * c.n }
            case .backwardFilter:
                call.aStride = c.m * c.k
                if pointwise { call.bStride = c.k * c.n }
                call.laterBeta = 1
            }
            return call
        })
        // Winograd's and im2colImageParallel's workers each issue whole calls (blocks, images).
        plan.workerParallel = algorithm.isWinograd || algorithm == .im2colImageParallel
        return plan
    }

    /// The GEMM-based dense kernel (`DenseKernel`, algorithm `gemm`): one call per direction.
    static func dense(_ g: DenseGeometry, _ direction: DenseDirection) -> GemmPlan {
        let N = g.batch, I = g.inputFeatures, O = g.outputFeatures
        switch direction {
        case .forward: return GemmPlan(calls: [GemmCall(transB: true, m: N, n: O, k: I, count: 1)])
        case .backwardData: return GemmPlan(calls: [GemmCall(m: N, n: I, k: O, count: 1)])
        case .backwardWeights: return GemmPlan(calls: [GemmCall(transA: true, m: O, n: I, k: N, count: 1)])
        }
    }
}

/// Operands for a ``GemmPlan`` (allocated once, outside the timed region) and the timed body.
/// Worker-parallel plans get one set of operands per possible worker (each worker writes only its own).
final class GemmBench: @unchecked Sendable {
    private struct Operands {
        let call: GemmCall
        let a: FloatBuffer, b: FloatBuffer, c: FloatBuffer
    }
    private let plan: GemmPlan
    private let operands: [[Operands]]

    init(_ plan: GemmPlan) {
        self.plan = plan
        let sets = plan.workerParallel ? ComputeContext.availableCores : 1
        operands = (0..<sets).map { _ in
            plan.calls.enumerated().map { index, call in
                func size(_ rows: Int, _ cols: Int, _ stride: Int) -> Int {
                    let distinct = call.period > 0 ? min(call.count, call.period) : call.count
                    return stride > 0 ? stride * (distinct - 1) + rows * cols : rows * cols
                }
                let seed = UInt64(100 + 3 * index)
                return Operands(call: call,
                                a: FloatBuffer(random: size(call.m, call.k, call.aStride), seed: seed),
                                b: FloatBuffer(random: size(call.k, call.n, call.bStride), seed: seed + 1),
                                c: FloatBuffer(count: size(call.m, call.n, call.cStride)))
            }
        }
    }

    /// Issues every call of the plan once, the way the kernels do, through the same thread gate
    /// (`BLAS.withThreads`, OpenBLAS at one thread): each call split by columns over
    /// `context.threads` workers (`BLAS.sgemm(..., context:)`, as im2col and dense issue them), or,
    /// for a worker-parallel plan, whole calls split over up to `context.threads` workers.
    func run(_ context: ComputeContext) {
        let workers = plan.workerParallel ? min(context.threads, operands.count) : 1
        if workers <= 1 {
            BLAS.withThreads(for: ComputeContext(threads: 1)) {
                issue(worker: 0, of: 1, split: plan.workerParallel ? ComputeContext(threads: 1) : context)
            }
            return
        }
        BLAS.withThreads(for: ComputeContext(threads: 1)) {
            parallelFor(workers, context: ComputeContext(threads: workers, minimumElementsPerThread: 1)) { range in
                for worker in range { self.issue(worker: worker, of: workers) }
            }
        }
    }

    /// Worker `worker`'s share of the calls: a contiguous range of whole periods (blocks).
    private func issue(worker: Int, of workers: Int, split: ComputeContext = ComputeContext(threads: 1)) {
        for op in operands[worker] {
            let call = op.call
            guard let a = op.a.read.baseAddress, let b = op.b.read.baseAddress,
                  let c = op.c.mutable.baseAddress else { continue }
            let period = max(1, call.period)
            let groups = (call.count + period - 1) / period
            let first = worker * groups / workers * period
            let end = min(call.count, (worker + 1) * groups / workers * period)
            for i in first..<max(first, end) {
                let j = call.period > 0 ? i % call.period : i
                BLAS.sgemm(transA: call.transA, transB: call.transB, m: call.m, n: call.n, k: call.k,
                           a: a + j * call.aStride, lda: call.transA ? call.m : call.k,
                           b: b + j * call.bStride, ldb: call.transB ? call.k : call.n,
                           beta: i < first + period ? call.firstBeta : call.laterBeta,
                           c: c + j * call.cStride, ldc: call.n, context: split)
            }
        }
    }
}
