import Testing
import _ConvKitTestSupport

@Suite("BLAS binding")
struct BLASTests {
    @Test func diagnosticsAreAvailable() {
        #expect(!BLAS.coreName.isEmpty)
        #expect(BLAS.configuration.contains("OpenBLAS"))
        #expect(BLAS.threads >= 1)
    }

    /// 2x3 · 3x2 by hand: [[1 2 3],[4 5 6]] · [[7 8],[9 10],[11 12]] = [[58 64],[139 154]].
    @Test func sgemmWorkedExample() {
        let a: [Float] = [1, 2, 3, 4, 5, 6]
        let b: [Float] = [7, 8, 9, 10, 11, 12]
        var c = [Float](repeating: .nan, count: 4)
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    BLAS.sgemm(m: 2, n: 2, k: 3, a: ap.baseAddress!, lda: 3, b: bp.baseAddress!, ldb: 2,
                               beta: 0, c: cp.baseAddress!, ldc: 2)
                }
            }
        }
        // beta = 0 must overwrite the NaN poison, not multiply it.
        #expect(c == [58, 64, 139, 154])
    }

    /// The column-split GEMM (`sgemm(..., context:)`) against one call of the plain binding, for
    /// every transpose pair, beta 0 over NaN and beta 1, a width that leaves a remainder slab
    /// (n = 301 = 4·64 + 45), leading dimensions wider than the matrices, and 1-4 workers. The
    /// operands are large enough (≥ 2²² flops) for the split to happen.
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func columnSplitGEMMMatchesOneCall(_ transposes: (Bool, Bool)) {
        let (transA, transB) = transposes
        let m = 70, n = 301, k = 120, pad = 3
        #expect(2 * m * n * k >= Int(BLAS.parallelMinimumFlops) && n >= 2 * BLAS.parallelColumnGrain)
        let lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad
        let a = [Float].random(count: (transA ? k : m) * lda, seed: 5)
        let b = [Float].random(count: (transB ? n : k) * ldb, seed: 6)
        let start = [Float].random(count: m * ldc, seed: 7)
        for beta: Float in [0, 1] {
            func product(_ context: ComputeContext?) -> [Float] {
                var c = beta == 0 ? [Float](repeating: .nan, count: m * ldc) : start
                sgemmUnderTest(transA, transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &c, ldc: ldc,
                               context: context)
                return c
            }
            let reference = product(nil)
            for threads in 1...4 {
                let split = product(ComputeContext(threads: threads))
                var worst: Float = 0, paddingKept = true
                for i in 0..<m {
                    for j in 0..<n { worst = max(worst, abs(split[i * ldc + j] - reference[i * ldc + j])) }
                    // The padding columns of C are never written.
                    for j in n..<ldc where beta == 1 { paddingKept = paddingKept && split[i * ldc + j] == start[i * ldc + j] }
                }
                // Each element sums k = 120 products of values in [-1, 1): rounding stays below 1e-4
                // (OpenBLAS's blocking may differ between a slab and the whole width).
                #expect(worst < 1e-4, "transA \(transA) transB \(transB) beta \(beta) threads \(threads): \(worst)")
                #expect(paddingKept)
            }
        }
    }

    /// One row of C (a dense layer at batch 1) runs as a matrix-vector product: equal to the naive
    /// sum for every transpose pair, alpha ≠ 1, beta 0 over NaN and beta 1, wider leading dimensions,
    /// alone and split over 1-3 workers (n = 4100 columns, k = 1100: above the split threshold).
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func oneRowGEMMIsAMatrixVectorProduct(_ transposes: (Bool, Bool)) {
        let (transA, transB) = transposes
        let m = 1, n = 4100, k = 1100, pad = 3
        let lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad
        let a = [Float].random(count: (transA ? k : m) * lda, seed: 11)
        let b = [Float].random(count: (transB ? n : k) * ldb, seed: 12)
        let start = [Float].random(count: ldc, seed: 13)
        for beta: Float in [0, 1] {
            var reference = [Double](repeating: 0, count: n)
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let x = Double(transA ? a[p * lda] : a[p]), w = Double(transB ? b[j * ldb + p] : b[p * ldb + j])
                    sum += x * w
                }
                reference[j] = 0.5 * sum + (beta == 1 ? Double(start[j]) : 0)
            }
            for threads in [0, 1, 2, 3] {
                var c = beta == 0 ? [Float](repeating: .nan, count: ldc) : start
                sgemmUnderTest(transA, transB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &c,
                               ldc: ldc, context: threads == 0 ? nil : ComputeContext(threads: threads))
                let worst = (0..<n).map { abs(Double(c[$0]) - reference[$0]) }.max() ?? .nan
                // k = 1100 products of values in [-1, 1): float rounding stays far below 1e-3.
                #expect(worst < 1e-3, "transA \(transA) transB \(transB) beta \(beta) threads \(threads): \(worst)")
                // The padding of C is never written.
                #expect((n..<ldc).allSatisfy { beta == 0 ? c[$0].isNaN : c[$0] == start[$0] })
            }
        }
    }

    /// A C too narrow to split by columns (n = 49, one 7×7 plane) is split by rows instead: every
    /// transpose pair, beta 0 over NaN and beta 1, a height that leaves a remainder slab
    /// (m = 301 = 4·64 + 45), wider leading dimensions, and 1-4 workers.
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func rowSplitGEMMMatchesOneCall(_ transposes: (Bool, Bool)) {
        let (transA, transB) = transposes
        let m = 301, n = 49, k = 160, pad = 3
        #expect(2 * m * n * k >= Int(BLAS.parallelMinimumFlops) && n < 2 * BLAS.parallelColumnGrain
                && m >= 2 * BLAS.parallelRowGrain)
        let lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad
        let a = [Float].random(count: (transA ? k : m) * lda, seed: 15)
        let b = [Float].random(count: (transB ? n : k) * ldb, seed: 16)
        let start = [Float].random(count: m * ldc, seed: 17)
        for beta: Float in [0, 1] {
            func product(_ context: ComputeContext?) -> [Float] {
                var c = beta == 0 ? [Float](repeating: .nan, count: m * ldc) : start
                sgemmUnderTest(transA, transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &c, ldc: ldc,
                               context: context)
                return c
            }
            let reference = product(nil)
            for threads in 1...4 {
                let split = product(ComputeContext(threads: threads))
                var worst: Float = 0, paddingKept = true
                for i in 0..<m {
                    for j in 0..<n { worst = max(worst, abs(split[i * ldc + j] - reference[i * ldc + j])) }
                    for j in n..<ldc where beta == 1 { paddingKept = paddingKept && split[i * ldc + j] == start[i * ldc + j] }
                }
                #expect(worst < 1e-4, "transA \(transA) transB \(transB) beta \(beta) threads \(threads): \(worst)")
                #expect(paddingKept)
            }
        }
    }

    @Test func setThreadsRoundTrips() {
        let before = BLAS.threads
        BLAS.prepareThreads(for: .serial)
        #expect(BLAS.threads == 1)
        BLAS.setThreads(before)
        #expect(BLAS.threads == before)
    }

    /// QR through LAPACKE gives orthonormal columns.
    @Test func orthonormalizeColumns() {
        let rows = 6, columns = 4
        var a = [Float].random(count: rows * columns, seed: 77)
        let info = a.withUnsafeMutableBufferPointer { BLAS.orthonormalizeColumns($0, rows: rows, columns: columns) }
        #expect(info == 0)
        for i in 0..<columns {
            for j in 0..<columns {
                var dot: Float = 0
                for r in 0..<rows { dot += a[i * rows + r] * a[j * rows + r] }
                #expect(abs(dot - (i == j ? 1 : 0)) < 1e-5)
            }
        }
    }
}

@Suite("parallelFor")
struct ParallelForTests {
    @Test(arguments: [0, 1, 7, 1000, 100_003])
    func coversEveryIndexOnce(_ count: Int) {
        var hits = [Int32](repeating: 0, count: count)
        hits.withUnsafeMutableBufferPointer { h in
            let shared = SharedBuffer(h)
            parallelFor(count, context: ComputeContext(threads: 4, minimumElementsPerThread: 1)) { range in
                for i in range { shared[i] += 1 }
            }
        }
        #expect(hits.allSatisfy { $0 == 1 })
    }
}

/// `BLAS.sgemm` on arrays: the single call when `context` is nil, else the split one (OpenBLAS at
/// one thread either way).
func sgemmUnderTest(_ transA: Bool, _ transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1, a: [Float], lda: Int,
                    b: [Float], ldb: Int, beta: Float, c: inout [Float], ldc: Int, context: ComputeContext?) {
    a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
        BLAS.withThreads(for: .serial) {
            if let context {
                BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!, lda: lda,
                           b: bp.baseAddress!, ldb: ldb, beta: beta, c: cp.baseAddress!, ldc: ldc, context: context)
            } else {
                BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!, lda: lda,
                           b: bp.baseAddress!, ldb: ldb, beta: beta, c: cp.baseAddress!, ldc: ldc)
            }
        }
    } } }
}
