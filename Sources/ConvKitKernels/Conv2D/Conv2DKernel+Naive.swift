/// The textbook convolution loops: the reference every other algorithm is tested against.
///
/// Legend for the loops: n image, o output channel, c input channel within the group,
/// i/j output row/column, u/v kernel row/column, y/x input row/column.
/// Accumulation is in `Float`, in the order written (u, then v, inside c).
enum Conv2DNaive {
    static func forward(
        _ g: Conv2DGeometry,
        input: UnsafeBufferPointer<Float>, filter: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?,
        activation: FusedActivation, output: UnsafeMutableBufferPointer<Float>
    ) {
        let C = g.inputChannels, H = g.inputHeight, W = g.inputWidth
        let O = g.outputChannels, OH = g.outputHeight, OW = g.outputWidth
        let KH = g.kernelHeight, KW = g.kernelWidth, Cg = g.inputChannelsPerGroup, Og = g.outputChannelsPerGroup
        for n in 0..<g.batch {
            for o in 0..<O {
                let group = o / Og
                for i in 0..<OH {
                    for j in 0..<OW {
                        var sum: Float = bias.map { $0[o] } ?? 0
                        for c in 0..<Cg {
                            let inputChannel = group * Cg + c
                            for u in 0..<KH {
                                let y = i * g.strideHeight - g.paddingHeight + u * g.dilationHeight
                                if y < 0 || y >= H { continue }
                                for v in 0..<KW {
                                    let x = j * g.strideWidth - g.paddingWidth + v * g.dilationWidth
                                    if x < 0 || x >= W { continue }
                                    // input[n][inputChannel][y][x] · filter[o][c][u][v]
                                    sum += input[((n * C + inputChannel) * H + y) * W + x]
                                         * filter[((o * Cg + c) * KH + u) * KW + v]
                                }
                            }
                        }
                        switch activation {
                        case .identity: output[((n * O + o) * OH + i) * OW + j] = sum
                        case .relu: output[((n * O + o) * OH + i) * OW + j] = sum < 0 ? 0 : sum
                        }
                    }
                }
            }
        }
    }

    static func backwardData(
        _ g: Conv2DGeometry,
        outputGradient: UnsafeBufferPointer<Float>, filter: UnsafeBufferPointer<Float>,
        inputGradient: UnsafeMutableBufferPointer<Float>
    ) {
        let C = g.inputChannels, H = g.inputHeight, W = g.inputWidth
        let O = g.outputChannels, OH = g.outputHeight, OW = g.outputWidth
        let KH = g.kernelHeight, KW = g.kernelWidth, Cg = g.inputChannelsPerGroup, Og = g.outputChannelsPerGroup
        for index in 0..<g.inputCount { inputGradient[index] = 0 }
        // Scatter form of the adjoint: every (output, kernel tap) pair adds into the input
        // position it read in the forward pass.
        for n in 0..<g.batch {
            for o in 0..<O {
                let group = o / Og
                for i in 0..<OH {
                    for j in 0..<OW {
                        let dy = outputGradient[((n * O + o) * OH + i) * OW + j]
                        for c in 0..<Cg {
                            let inputChannel = group * Cg + c
                            for u in 0..<KH {
                                let y = i * g.strideHeight - g.paddingHeight + u * g.dilationHeight
                                if y < 0 || y >= H { continue }
                                for v in 0..<KW {
                                    let x = j * g.strideWidth - g.paddingWidth + v * g.dilationWidth
                                    if x < 0 || x >= W { continue }
                                    inputGradient[((n * C + inputChannel) * H + y) * W + x]
                                        += dy * filter[((o * Cg + c) * KH + u) * KW + v]
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    static func backwardFilter(
        _ g: Conv2DGeometry,
        input: UnsafeBufferPointer<Float>, outputGradient: UnsafeBufferPointer<Float>,
        filterGradient: UnsafeMutableBufferPointer<Float>, biasGradient: UnsafeMutableBufferPointer<Float>?,
        accumulate: Bool
    ) {
        let C = g.inputChannels, H = g.inputHeight, W = g.inputWidth
        let O = g.outputChannels, OH = g.outputHeight, OW = g.outputWidth
        let KH = g.kernelHeight, KW = g.kernelWidth, Cg = g.inputChannelsPerGroup, Og = g.outputChannelsPerGroup
        for o in 0..<O {
            let group = o / Og
            for c in 0..<Cg {
                let inputChannel = group * Cg + c
                for u in 0..<KH {
                    for v in 0..<KW {
                        var sum: Float = 0
                        for n in 0..<g.batch {
                            for i in 0..<OH {
                                let y = i * g.strideHeight - g.paddingHeight + u * g.dilationHeight
                                if y < 0 || y >= H { continue }
                                for j in 0..<OW {
                                    let x = j * g.strideWidth - g.paddingWidth + v * g.dilationWidth
                                    if x < 0 || x >= W { continue }
                                    sum += outputGradient[((n * O + o) * OH + i) * OW + j]
                                         * input[((n * C + inputChannel) * H + y) * W + x]
                                }
                            }
                        }
                        let index = ((o * Cg + c) * KH + u) * KW + v
                        filterGradient[index] = accumulate ? filterGradient[index] + sum : sum
                    }
                }
            }
        }
        if let biasGradient {
            for o in 0..<O {
                var sum: Float = 0
                for n in 0..<g.batch {
                    for p in 0..<(OH * OW) { sum += outputGradient[(n * O + o) * OH * OW + p] }
                }
                biasGradient[o] = accumulate ? biasGradient[o] + sum : sum
            }
        }
    }
}
