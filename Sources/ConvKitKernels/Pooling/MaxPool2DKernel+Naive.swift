/// The textbook max-pooling loops: the reference for ``PoolingAlgorithm/simd``.
///
/// Legend: p plane (`n · channels + c`), i/j output row/column, u/v window row/column,
/// y/x input row/column.
enum MaxPool2DNaive {
    static func forward(
        _ g: Pool2DGeometry, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        indices: UnsafeMutablePointer<Int32>
    ) {
        let H = g.inputHeight, W = g.inputWidth, OH = g.outputHeight, OW = g.outputWidth
        for p in 0..<g.planes {
            for i in 0..<OH {
                for j in 0..<OW {
                    var best: Float = -.infinity
                    var bestIndex = -1
                    for u in 0..<g.windowHeight {
                        let y = i * g.strideHeight - g.paddingHeight + u
                        if y < 0 || y >= H { continue }                 // padding never wins
                        for v in 0..<g.windowWidth {
                            let x = j * g.strideWidth - g.paddingWidth + v
                            if x < 0 || x >= W { continue }
                            let value = input[(p * H + y) * W + x]
                            // First real element, a strictly larger one (ties keep the first),
                            // or the first NaN (which then stays).
                            if bestIndex < 0 || value > best || (value.isNaN && !best.isNaN) {
                                best = value
                                bestIndex = y * W + x
                            }
                        }
                    }
                    output[(p * OH + i) * OW + j] = best
                    indices[(p * OH + i) * OW + j] = Int32(bestIndex)
                }
            }
        }
    }

    static func backward(
        _ g: Pool2DGeometry, outputGradient: UnsafePointer<Float>, indices: UnsafePointer<Int32>,
        inputGradient: UnsafeMutablePointer<Float>
    ) {
        let plane = g.inputPlane, outputPlane = g.outputPlane
        for e in 0..<g.inputCount { inputGradient[e] = 0 }
        for p in 0..<g.planes {
            for o in 0..<outputPlane {
                let index = Int(indices[p * outputPlane + o])
                require(index >= 0 && index < plane, "max-pooling index \(index) outside the input plane 0..<\(plane)")
                inputGradient[p * plane + index] += outputGradient[p * outputPlane + o]
            }
        }
    }
}
