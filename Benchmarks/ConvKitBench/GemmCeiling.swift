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

    var flops: Double { 2 * Double(m) * Double(n) * Double(k) * Double(count) }
    var description: String {
        "\(count) x sgemm(\(transA ? "T" : "N")\(transB ? "T" : "N") m=\(m) n=\(n) k=\(k))"
    }
}

/// The BLAS ceiling of an algorithm: the same GEMM calls without anything else.
struct GemmPlan: Sendable {
    var calls: [GemmCall]
    var flops: Double { calls.reduce(0) { $0 + $1.flops } }
    var description: String { calls.map(\.description).joined(separator: " + ") }

    /// im2col + sgemm (`Conv2DKernel+Im2col.swift`): per image and group, with
    /// `M = O/G`, `N = OH·OW`, `K = C/G·KH·KW`:
    ///   forward `W·cols` (NN, M×N×K), backwardData `Wᵀ·dY` (TN, K×N×M),
    ///   backwardFilter `dY·colsᵀ` (NT, M×K×N, accumulating over images).
    /// Pointwise convolutions read/write the image directly instead of the column buffer.
    static func im2col(_ g: Conv2DGeometry, _ direction: Conv2DDirection) -> GemmPlan {
        let Og = g.outputChannelsPerGroup, P = g.columnCols, K = g.columnRows
        let count = g.batch * g.groups
        let imageStride = g.isPointwise ? g.inputChannelsPerGroup * g.inputPlane : 0
        switch direction {
        case .forward:
            return GemmPlan(calls: [GemmCall(m: Og, n: P, k: K, count: count, bStride: imageStride, cStride: Og * P)])
        case .backwardData:
            return GemmPlan(calls: [GemmCall(transA: true, m: K, n: P, k: Og, count: count,
                                             bStride: Og * P, cStride: imageStride)])
        case .backwardFilter:
            return GemmPlan(calls: [GemmCall(transB: true, m: Og, n: K, k: P, count: count,
                                             aStride: Og * P, bStride: imageStride, firstBeta: 0, laterBeta: 1)])
        }
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
final class GemmBench {
    private struct Operands {
        let call: GemmCall
        let a: FloatBuffer, b: FloatBuffer, c: FloatBuffer
    }
    private let operands: [Operands]

    init(_ plan: GemmPlan) {
        operands = plan.calls.enumerated().map { index, call in
            func size(_ rows: Int, _ cols: Int, _ stride: Int) -> Int {
                stride > 0 ? stride * (call.count - 1) + rows * cols : rows * cols
            }
            let seed = UInt64(100 + 3 * index)
            return Operands(call: call,
                            a: FloatBuffer(random: size(call.m, call.k, call.aStride), seed: seed),
                            b: FloatBuffer(random: size(call.k, call.n, call.bStride), seed: seed + 1),
                            c: FloatBuffer(count: size(call.m, call.n, call.cStride)))
        }
    }

    /// Issues every call of the plan once, with `context.threads` OpenBLAS threads.
    func run(_ context: ComputeContext) {
        BLAS.prepareThreads(for: context)
        for op in operands {
            let call = op.call
            guard let a = op.a.read.baseAddress, let b = op.b.read.baseAddress,
                  let c = op.c.mutable.baseAddress else { continue }
            for i in 0..<call.count {
                BLAS.sgemm(transA: call.transA, transB: call.transB, m: call.m, n: call.n, k: call.k,
                           a: a + i * call.aStride, lda: call.transA ? call.m : call.k,
                           b: b + i * call.bStride, ldb: call.transB ? call.k : call.n,
                           beta: i == 0 ? call.firstBeta : call.laterBeta,
                           c: c + i * call.cStride, ldc: call.n)
            }
        }
    }
}
