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
