/// The textbook average-pooling loops: the reference for ``PoolingAlgorithm/simd``.
///
/// Legend: p plane (`n · channels + c`), i/j output row/column, u/v window row/column,
/// y/x input row/column.
enum AvgPool2DNaive {
    static func forward(
        _ g: Pool2DGeometry, countPadding: Bool, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>
    ) {
        let H = g.inputHeight, W = g.inputWidth, OH = g.outputHeight, OW = g.outputWidth
        for p in 0..<g.planes {
            for i in 0..<OH {
                for j in 0..<OW {
                    var sum: Float = 0
                    var rows = 0, columns = 0
                    for u in 0..<g.windowHeight {
                        let y = i * g.strideHeight - g.paddingHeight + u
                        if y < 0 || y >= H { continue }
                        rows += 1
                        columns = 0
                        for v in 0..<g.windowWidth {
                            let x = j * g.strideWidth - g.paddingWidth + v
                            if x < 0 || x >= W { continue }
                            columns += 1
                            sum += input[(p * H + y) * W + x]
                        }
                    }
                    let d = AvgPool2DKernel.divisor(g, countPadding: countPadding, rows: rows, columns: columns)
                    output[(p * OH + i) * OW + j] = sum / d
                }
            }
        }
    }

    static func backward(
        _ g: Pool2DGeometry, countPadding: Bool, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>
    ) {
        let H = g.inputHeight, W = g.inputWidth, OH = g.outputHeight, OW = g.outputWidth
        for e in 0..<g.inputCount { inputGradient[e] = 0 }
        for p in 0..<g.planes {
            for i in 0..<OH {
                var rows = 0
                for u in 0..<g.windowHeight {
                    let y = i * g.strideHeight - g.paddingHeight + u
                    if y >= 0 && y < H { rows += 1 }
                }
                for j in 0..<OW {
                    var columns = 0
                    for v in 0..<g.windowWidth {
                        let x = j * g.strideWidth - g.paddingWidth + v
                        if x >= 0 && x < W { columns += 1 }
                    }
                    let d = AvgPool2DKernel.divisor(g, countPadding: countPadding, rows: rows, columns: columns)
                    let share = outputGradient[(p * OH + i) * OW + j] / d
                    for u in 0..<g.windowHeight {
                        let y = i * g.strideHeight - g.paddingHeight + u
                        if y < 0 || y >= H { continue }
                        for v in 0..<g.windowWidth {
                            let x = j * g.strideWidth - g.paddingWidth + v
                            if x < 0 || x >= W { continue }
                            inputGradient[(p * H + y) * W + x] += share
                        }
                    }
                }
            }
        }
    }
}
