/// Adaptive 2-D max pooling (PyTorch's `nn.AdaptiveMaxPool2d`): any `[H, W]` plane to a fixed
/// `[OH, OW]`, each output the maximum of a bin of PyTorch's rule
///
///     rows of output i:     floor(i·H/OH) ..< ceil((i+1)·H/OH)        (columns likewise)
///     output[n,c,i,j]  = max over the bin of input[n,c,·,·]
///     indices[n,c,i,j] = y*·W + x*  (flat index within the plane; the first maximum in row-major
///                                    bin order wins a tie; a NaN wins, the last NaN if several,
///                                    PyTorch's `val > max || isnan(val)`)
///     inputGradient[n,c,p] = Σ_{(i,j): indices[n,c,i,j] = p} outputGradient[n,c,i,j]
///
/// Bins are never empty (`ceil((i+1)H/OH) > floor(iH/OH)`), may overlap when `H` is not a
/// multiple of `OH`, and `OH > H` repeats rows. Buffers are `[planes, H, W]` and
/// `[planes, OH, OW]` with `planes = batch · channels`; all sizes ≥ 1 and `H·W ≤ Int32.max`
/// (`precondition`; the layer validates and throws). `naive` walks every output on the caller's
/// thread; `simd` splits the planes over the context's threads, with the bin bounds computed once
/// per call. Each plane is written by one thread, so results do not depend on the thread count.
public enum AdaptiveMaxPool2DKernel {
    /// First row of bin `i` of `outputSize` over `inputSize` rows: `floor(i·in/out)`.
    @inline(__always) public static func binStart(_ i: Int, input: Int, output: Int) -> Int { (i * input) / output }
    /// One past the last row of bin `i`: `ceil((i+1)·in/out)`.
    @inline(__always) public static func binEnd(_ i: Int, input: Int, output: Int) -> Int {
        ((i + 1) * input + output - 1) / output
    }

    /// **Overwrites** `output` and `indices`.
    public static func forward(
        algorithm: PoolingAlgorithm, planes: Int, inputHeight: Int, inputWidth: Int, outputHeight: Int, outputWidth: Int,
        input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>,
        indices: UnsafeMutableBufferPointer<Int32>, context: ComputeContext
    ) {
        check(planes, inputHeight, inputWidth, outputHeight, outputWidth, input.count, output.count, indices.count)
        let inPlane = inputHeight * inputWidth, outPlane = outputHeight * outputWidth
        switch algorithm {
        case .naive:
            for p in 0..<planes {
                for i in 0..<outputHeight {
                    for j in 0..<outputWidth {
                        var best = -Float.infinity
                        var winner = binStart(i, input: inputHeight, output: outputHeight) * inputWidth
                            + binStart(j, input: inputWidth, output: outputWidth)
                        for y in binStart(i, input: inputHeight, output: outputHeight)..<binEnd(i, input: inputHeight, output: outputHeight) {
                            for x in binStart(j, input: inputWidth, output: outputWidth)..<binEnd(j, input: inputWidth, output: outputWidth) {
                                let v = input[p * inPlane + y * inputWidth + x]
                                if v > best || v.isNaN { best = v; winner = y * inputWidth + x }
                            }
                        }
                        output[p * outPlane + i * outputWidth + j] = best
                        indices[p * outPlane + i * outputWidth + j] = Int32(winner)
                    }
                }
            }
        case .simd:
            let x = SharedBuffer(readOnly: input), y = SharedBuffer(output), k = SharedBuffer(indices)
            withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * (outputHeight + outputWidth)) { bounds in
                for i in 0..<outputHeight {
                    bounds[2 * i] = binStart(i, input: inputHeight, output: outputHeight)
                    bounds[2 * i + 1] = binEnd(i, input: inputHeight, output: outputHeight)
                }
                let columns = 2 * outputHeight
                for j in 0..<outputWidth {
                    bounds[columns + 2 * j] = binStart(j, input: inputWidth, output: outputWidth)
                    bounds[columns + 2 * j + 1] = binEnd(j, input: inputWidth, output: outputWidth)
                }
                let b = SharedBuffer(bounds)
                parallelFor(planes, elementsPerIndex: max(inPlane, outPlane), context: context) { range in
                    for p in range {
                        let plane = x.base + p * inPlane
                        for i in 0..<outputHeight {
                            let y0 = b[2 * i], y1 = b[2 * i + 1]
                            for j in 0..<outputWidth {
                                let x0 = b[columns + 2 * j], x1 = b[columns + 2 * j + 1]
                                var best = -Float.infinity, winner = y0 * inputWidth + x0
                                for row in y0..<y1 {
                                    let r = plane + row * inputWidth
                                    for col in x0..<x1 where r[col] > best || r[col].isNaN {
                                        best = r[col]; winner = row * inputWidth + col
                                    }
                                }
                                y[p * outPlane + i * outputWidth + j] = best
                                k[p * outPlane + i * outputWidth + j] = Int32(truncatingIfNeeded: winner)
                            }
                        }
                    }
                }
            }
        }
    }

    /// **Overwrites** `inputGradient` (zeros, then each output's gradient added at its winner).
    public static func backward(
        algorithm: PoolingAlgorithm, planes: Int, inputHeight: Int, inputWidth: Int, outputHeight: Int, outputWidth: Int,
        outputGradient: UnsafeBufferPointer<Float>, indices: UnsafeBufferPointer<Int32>,
        inputGradient: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        check(planes, inputHeight, inputWidth, outputHeight, outputWidth, inputGradient.count, outputGradient.count, indices.count)
        let inPlane = inputHeight * inputWidth, outPlane = outputHeight * outputWidth
        let dy = SharedBuffer(readOnly: outputGradient), k = SharedBuffer(readOnly: indices), dx = SharedBuffer(inputGradient)
        let body: @Sendable (Range<Int>) -> Void = { range in
            for p in range {
                let d = dx.base + p * inPlane
                d.initialize(repeating: 0, count: inPlane)
                for o in 0..<outPlane {
                    let index = Int(k[p * outPlane + o])
                    require(index >= 0 && index < inPlane, "adaptive max pooling: index \(index) outside a plane of \(inPlane)")
                    d[index] += dy[p * outPlane + o]
                }
            }
        }
        switch algorithm {
        case .naive: body(0..<planes)
        case .simd: parallelFor(planes, elementsPerIndex: inPlane + outPlane, context: context, body)
        }
    }

    private static func check(_ planes: Int, _ h: Int, _ w: Int, _ oh: Int, _ ow: Int, _ inCount: Int, _ outCount: Int, _ indexCount: Int) {
        require(planes >= 1 && h >= 1 && w >= 1 && oh >= 1 && ow >= 1 && h * w <= Int(Int32.max),
                "adaptive max pooling sizes: planes \(planes), input \(h)x\(w), output \(oh)x\(ow)")
        require(inCount >= planes * h * w && outCount >= planes * oh * ow && indexCount >= planes * oh * ow,
                "adaptive max pooling buffers: \(inCount) inputs, \(outCount) outputs, \(indexCount) indices for \(planes) planes")
    }
}
