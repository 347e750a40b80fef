import Testing
import _ConvKitTestSupport

/// Classic worked examples, with the expected matrices written out by hand.
@Suite("Conv2D worked examples")
struct Conv2DWorkedExampleTests {
    /// A one-channel image whose every row is `columns`.
    static func image(rows: Int, columns: [Float]) -> [Float] {
        (0..<rows).flatMap { _ in columns }
    }

    /// The vertical-edge kernel [-1 0 1; -1 0 1; -1 0 1].
    static let edgeKernel: [Float] = [-1, 0, 1, -1, 0, 1, -1, 0, 1]

    @Test(arguments: Conv2DAlgorithm.allCases)
    func verticalEdgeOn10x10(_ algorithm: Conv2DAlgorithm) throws {
        let g = try Conv2DGeometry(batch: 1, inputChannels: 1, inputSize: 10, outputChannels: 1, kernelSize: 3)
        let x = Self.image(rows: 10, columns: [0, 0, 0, 1, 1, 1, 1, 0, 0, 0])
        let y = Conv2DRunner.forward(g, algorithm, input: x, filter: Self.edgeKernel, bias: nil)
        let row: [Float] = [0, 3, 3, 0, 0, -3, -3, 0]
        let expected: [Float] = [
            row, row, row, row, row, row, row, row,
        ].flatMap { $0 }
        #expect(g.outputHeight == 8 && g.outputWidth == 8)
        #expect(y == expected)
    }

    @Test(arguments: Conv2DAlgorithm.allCases)
    func verticalEdgePadded8x8(_ algorithm: Conv2DAlgorithm) throws {
        let g = try Conv2DGeometry(batch: 1, inputChannels: 1, inputSize: 8, outputChannels: 1, kernelSize: 3, padding: 1)
        let x = Self.image(rows: 8, columns: [0, 0, 1, 1, 1, 1, 0, 0])
        let y = Conv2DRunner.forward(g, algorithm, input: x, filter: Self.edgeKernel, bias: nil)
        let edge: [Float] = [0, 2, 2, 0, 0, -2, -2, 0]
        let inner: [Float] = [0, 3, 3, 0, 0, -3, -3, 0]
        let expected: [Float] = [
            edge,
            inner, inner, inner, inner, inner, inner,
            edge,
        ].flatMap { $0 }
        #expect(g.outputHeight == 8 && g.outputWidth == 8)
        #expect(y == expected)
    }

    @Test(arguments: Conv2DAlgorithm.allCases)
    func averagingStride2(_ algorithm: Conv2DAlgorithm) throws {
        let g = try Conv2DGeometry(batch: 1, inputChannels: 1, inputSize: 10, outputChannels: 1, kernelSize: 2, stride: 2)
        let x = Self.image(rows: 10, columns: [0, 0, 0, 1, 1, 1, 1, 0, 0, 0])
        let y = Conv2DRunner.forward(g, algorithm, input: x, filter: [0.25, 0.25, 0.25, 0.25], bias: nil)
        let row: [Float] = [0, 0.5, 1, 0.5, 0]
        let expected: [Float] = [row, row, row, row, row].flatMap { $0 }
        #expect(g.outputHeight == 5 && g.outputWidth == 5)
        #expect(y == expected)
    }

    @Test func leNetS2ToC3HasTwoThousandFourHundredWeights() throws {
        let g = try Conv2DGeometry(batch: 1, inputChannels: 6, inputSize: 14, outputChannels: 16, kernelSize: 5)
        #expect(g.filterCount == 2400)          // 16 x 6 x 5 x 5
        #expect(g.outputHeight == 10 && g.outputWidth == 10)
        #expect(g.columnRows == 150 && g.columnCols == 100)
    }

    /// Bias is added once per output element: an all-zero filter gives the bias everywhere.
    @Test(arguments: Conv2DAlgorithm.allCases)
    func zeroFilterGivesBias(_ algorithm: Conv2DAlgorithm) throws {
        let g = try Conv2DGeometry(batch: 2, inputChannels: 2, inputSize: 5, outputChannels: 3, kernelSize: 3, padding: 1)
        let y = Conv2DRunner.forward(g, algorithm, input: .random(count: g.inputCount, seed: 5),
                                     filter: [Float](repeating: 0, count: g.filterCount), bias: [1, -2, 0.5])
        for n in 0..<2 {
            for o in 0..<3 {
                let plane = y[((n * 3 + o) * 25)..<((n * 3 + o + 1) * 25)]
                #expect(plane.allSatisfy { $0 == [1, -2, 0.5][o] })
            }
        }
    }

    /// NaN in the input propagates to exactly the outputs that read it.
    @Test(arguments: Conv2DAlgorithm.allCases)
    func nanPropagates(_ algorithm: Conv2DAlgorithm) throws {
        let g = try Conv2DGeometry(batch: 1, inputChannels: 1, inputSize: 6, outputChannels: 1, kernelSize: 3)
        var x = [Float](repeating: 1, count: g.inputCount)
        x[0] = .nan                                     // only output (0,0) reads pixel (0,0)
        let y = Conv2DRunner.forward(g, algorithm, input: x, filter: [Float](repeating: 1, count: 9), bias: nil)
        #expect(y[0].isNaN)
        #expect(y[1...].allSatisfy { $0 == 9 })
    }

    /// NaN in the input reaches exactly the filter-gradient taps whose windows read it (the direct
    /// kernels compute extra lanes past each output row and must not let them read the NaN).
    @Test(arguments: [Conv2DAlgorithm.naive, .direct])
    func nanReachesTheFilterGradientTapsThatReadIt(_ algorithm: Conv2DAlgorithm) throws {
        let g = try Conv2DGeometry(batch: 2, inputChannels: 1, inputSize: 6, outputChannels: 1, kernelSize: 3)
        var x = [Float](repeating: 1, count: g.inputCount)
        x[6] = .nan                                     // pixel (1, 0): read by taps (0, 0) and (1, 0) only
        let dy = [Float](repeating: 1, count: g.outputCount)
        let (dw, db) = Conv2DRunner.backwardFilter(g, algorithm, input: x, outputGradient: dy)
        for (k, value) in dw.enumerated() {
            if k == 0 || k == 3 { #expect(value.isNaN, "tap \(k)") } else { #expect(value == 32, "tap \(k)") }
        }
        #expect(db == [32])
    }
}
