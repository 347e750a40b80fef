/// Upsampling of `[planes, H, W]` buffers by integer factors `sH`, `sW` to `[planes, H·sH, W·sW]`
/// (PyTorch's `nn.Upsample(scale_factor=(sH, sW))`, `planes = batch · channels`).
///
/// **Nearest** (`mode="nearest"`): `y[i, j] = x[⌊i/sH⌋, ⌊j/sW⌋]`, which is PyTorch's
/// `⌊dst · in/out⌋` for integer factors; backward adds each output's gradient to its source.
///
/// **Bilinear** (`mode="bilinear"`), per axis (rows shown; columns likewise with weights μ):
///
///     alignCorners false:  src = max(0, (i + ½) / sH − ½)     (scale 1/sH rounded to Float first, as PyTorch)
///     alignCorners true:   src = i · (H − 1)/(OH − 1)          (0 when OH = 1)
///     h0 = ⌊src⌋,  h1 = h0 + [h0 < H − 1],  λ1 = src − h0,  λ0 = 1 − λ1
///     y[i, j] = (x[h0, w0]·μ0 + x[h0, w1]·μ1)·λ0 + (x[h1, w0]·μ0 + x[h1, w1]·μ1)·λ1
///
/// (PyTorch's CPU kernel's indices, weights and evaluation order.) Backward is the adjoint:
/// `dx[h_a, w_b] += λ_a · μ_b · dy[i, j]` over the outputs in row-major order.
///
/// Forward passes **overwrite** the output; backward passes **overwrite** the input gradient
/// (zeroed, then accumulated). All sizes ≥ 1 (`precondition`; the layer validates and throws).
public enum UpsampleKernel {
    /// **Overwrites** `output` (`planes · H·sH · W·sW` floats).
    public static func nearestForward(
        algorithm: ResamplingAlgorithm, planes: Int, inputHeight: Int, inputWidth: Int, scaleHeight: Int, scaleWidth: Int,
        input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        let (oh, ow) = check(planes, inputHeight, inputWidth, scaleHeight, scaleWidth, input.count, output.count)
        let x = SharedBuffer(readOnly: input), y = SharedBuffer(output)
        switch algorithm {
        case .naive:
            for p in 0..<planes {
                for i in 0..<oh {
                    for j in 0..<ow {
                        y[(p * oh + i) * ow + j] = x[(p * inputHeight + i / scaleHeight) * inputWidth + j / scaleWidth]
                    }
                }
            }
        case .simd:
            parallelFor(planes, elementsPerIndex: oh * ow, context: context) { range in
                for p in range {
                    for i in 0..<oh {
                        let source = x.base + (p * inputHeight + i / scaleHeight) * inputWidth
                        let row = y.base + (p * oh + i) * ow
                        if i % scaleHeight != 0 {   // a repeated row: copy the one above
                            row.update(from: row - ow, count: ow)
                            continue
                        }
                        for c in 0..<inputWidth {
                            let v = source[c]
                            for k in 0..<scaleWidth { row[c * scaleWidth + k] = v }
                        }
                    }
                }
            }
        }
    }

    /// **Overwrites** `inputGradient`: `dx[h, w] = Σ` of the `sH × sW` output gradients it fed.
    public static func nearestBackward(
        algorithm: ResamplingAlgorithm, planes: Int, inputHeight: Int, inputWidth: Int, scaleHeight: Int, scaleWidth: Int,
        outputGradient: UnsafeBufferPointer<Float>, inputGradient: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        let (oh, ow) = check(planes, inputHeight, inputWidth, scaleHeight, scaleWidth, inputGradient.count, outputGradient.count)
        let dy = SharedBuffer(readOnly: outputGradient), dx = SharedBuffer(inputGradient)
        let body: @Sendable (Range<Int>) -> Void = { range in
            for p in range {
                let plane = dx.base + p * inputHeight * inputWidth
                plane.initialize(repeating: 0, count: inputHeight * inputWidth)
                for i in 0..<oh {
                    let row = plane + (i / scaleHeight) * inputWidth, g = dy.base + (p * oh + i) * ow
                    for j in 0..<ow { row[j / scaleWidth] += g[j] }
                }
            }
        }
        switch algorithm {
        case .naive: body(0..<planes)
        case .simd: parallelFor(planes, elementsPerIndex: oh * ow, context: context, body)
        }
    }

    /// The bilinear source position of output `i` along an axis of `input` elements upsampled by
    /// `scale` (see the type's documentation): `(index0, offset to index1, λ0, λ1)`.
    @inline(__always)
    public static func bilinearSource(_ i: Int, input: Int, scale: Int, alignCorners: Bool)
        -> (index: Int, offset: Int, lambda0: Float, lambda1: Float) {
        let output = input * scale
        let source: Float
        if alignCorners {
            let ratio: Float = output > 1 ? Float(input - 1) / Float(output - 1) : 0
            source = ratio * Float(i)
        } else {
            let ratio = Float(1.0 / Double(scale))
            let s = ratio * (Float(i) + 0.5) - 0.5
            source = s < 0 ? 0 : s
        }
        let index = min(Int(source), input - 1)
        let lambda1 = min(max(source - Float(index), 0), 1)
        return (index, index < input - 1 ? 1 : 0, 1 - lambda1, lambda1)
    }

    /// **Overwrites** `output` (`planes · H·sH · W·sW` floats).
    public static func bilinearForward(
        algorithm: ResamplingAlgorithm, planes: Int, inputHeight: Int, inputWidth: Int, scaleHeight: Int, scaleWidth: Int,
        alignCorners: Bool, input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        let (oh, ow) = check(planes, inputHeight, inputWidth, scaleHeight, scaleWidth, input.count, output.count)
        let x = SharedBuffer(readOnly: input), y = SharedBuffer(output)
        switch algorithm {
        case .naive:
            for p in 0..<planes {
                let plane = x.base + p * inputHeight * inputWidth
                for i in 0..<oh {
                    let r = bilinearSource(i, input: inputHeight, scale: scaleHeight, alignCorners: alignCorners)
                    for j in 0..<ow {
                        let c = bilinearSource(j, input: inputWidth, scale: scaleWidth, alignCorners: alignCorners)
                        let top = plane + r.index * inputWidth, bottom = top + r.offset * inputWidth
                        let upper = top[c.index] * c.lambda0 + top[c.index + c.offset] * c.lambda1
                        let lower = bottom[c.index] * c.lambda0 + bottom[c.index + c.offset] * c.lambda1
                        y[(p * oh + i) * ow + j] = upper * r.lambda0 + lower * r.lambda1
                    }
                }
            }
        case .simd:
            withBilinearTables(inputHeight, inputWidth, scaleHeight, scaleWidth, alignCorners) { rows, columns, rowWeights, columnWeights in
                parallelFor(planes, elementsPerIndex: 4 * oh * ow, context: context) { range in
                    for p in range {
                        let plane = x.base + p * inputHeight * inputWidth
                        for i in 0..<oh {
                            let top = plane + rows[2 * i] * inputWidth, bottom = top + rows[2 * i + 1] * inputWidth
                            let l0 = rowWeights[2 * i], l1 = rowWeights[2 * i + 1]
                            let out = y.base + (p * oh + i) * ow
                            for j in 0..<ow {
                                let w0 = columns[2 * j], w1 = w0 + columns[2 * j + 1]
                                let m0 = columnWeights[2 * j], m1 = columnWeights[2 * j + 1]
                                let upper = top[w0] * m0 + top[w1] * m1
                                let lower = bottom[w0] * m0 + bottom[w1] * m1
                                out[j] = upper * l0 + lower * l1
                            }
                        }
                    }
                }
            }
        }
    }

    /// **Overwrites** `inputGradient` with the adjoint of ``bilinearForward(algorithm:planes:inputHeight:inputWidth:scaleHeight:scaleWidth:alignCorners:input:output:context:)``.
    public static func bilinearBackward(
        algorithm: ResamplingAlgorithm, planes: Int, inputHeight: Int, inputWidth: Int, scaleHeight: Int, scaleWidth: Int,
        alignCorners: Bool, outputGradient: UnsafeBufferPointer<Float>, inputGradient: UnsafeMutableBufferPointer<Float>,
        context: ComputeContext
    ) {
        let (oh, ow) = check(planes, inputHeight, inputWidth, scaleHeight, scaleWidth, inputGradient.count, outputGradient.count)
        let dy = SharedBuffer(readOnly: outputGradient), dx = SharedBuffer(inputGradient)
        switch algorithm {
        case .naive:
            for p in 0..<planes {
                let plane = dx.base + p * inputHeight * inputWidth
                plane.initialize(repeating: 0, count: inputHeight * inputWidth)
                for i in 0..<oh {
                    let r = bilinearSource(i, input: inputHeight, scale: scaleHeight, alignCorners: alignCorners)
                    for j in 0..<ow {
                        let c = bilinearSource(j, input: inputWidth, scale: scaleWidth, alignCorners: alignCorners)
                        let g = dy[(p * oh + i) * ow + j]
                        let top = plane + r.index * inputWidth, bottom = top + r.offset * inputWidth
                        top[c.index] += r.lambda0 * c.lambda0 * g
                        top[c.index + c.offset] += r.lambda0 * c.lambda1 * g
                        bottom[c.index] += r.lambda1 * c.lambda0 * g
                        bottom[c.index + c.offset] += r.lambda1 * c.lambda1 * g
                    }
                }
            }
        case .simd:
            withBilinearTables(inputHeight, inputWidth, scaleHeight, scaleWidth, alignCorners) { rows, columns, rowWeights, columnWeights in
                parallelFor(planes, elementsPerIndex: 4 * oh * ow, context: context) { range in
                    for p in range {
                        let plane = dx.base + p * inputHeight * inputWidth
                        plane.initialize(repeating: 0, count: inputHeight * inputWidth)
                        for i in 0..<oh {
                            let top = plane + rows[2 * i] * inputWidth, bottom = top + rows[2 * i + 1] * inputWidth
                            let l0 = rowWeights[2 * i], l1 = rowWeights[2 * i + 1]
                            let g = dy.base + (p * oh + i) * ow
                            for j in 0..<ow {
                                let w0 = columns[2 * j], w1 = w0 + columns[2 * j + 1]
                                let m0 = columnWeights[2 * j], m1 = columnWeights[2 * j + 1]
                                top[w0] += l0 * m0 * g[j]
                                top[w1] += l0 * m1 * g[j]
                                bottom[w0] += l1 * m0 * g[j]
                                bottom[w1] += l1 * m1 * g[j]
                            }
                        }
                    }
                }
            }
        }
    }

    /// Index and weight tables of every output row and column (pairs: index, offset; λ0, λ1),
    /// in one stack allocation each.
    @inline(__always)
    static func withBilinearTables(
        _ h: Int, _ w: Int, _ sh: Int, _ sw: Int, _ alignCorners: Bool,
        _ body: (SharedBuffer<Int>, SharedBuffer<Int>, SharedBuffer<Float>, SharedBuffer<Float>) -> Void
    ) {
        let oh = h * sh, ow = w * sw
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * (oh + ow)) { indices in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * (oh + ow)) { weights in
                for i in 0..<oh {
                    let r = bilinearSource(i, input: h, scale: sh, alignCorners: alignCorners)
                    indices[2 * i] = r.index; indices[2 * i + 1] = r.offset
                    weights[2 * i] = r.lambda0; weights[2 * i + 1] = r.lambda1
                }
                for j in 0..<ow {
                    let c = bilinearSource(j, input: w, scale: sw, alignCorners: alignCorners)
                    indices[2 * (oh + j)] = c.index; indices[2 * (oh + j) + 1] = c.offset
                    weights[2 * (oh + j)] = c.lambda0; weights[2 * (oh + j) + 1] = c.lambda1
                }
                let all = SharedBuffer(indices), allWeights = SharedBuffer(weights)
                body(all, SharedBuffer(UnsafeMutableBufferPointer(start: all.base + 2 * oh, count: 2 * ow)),
                     allWeights, SharedBuffer(UnsafeMutableBufferPointer(start: allWeights.base + 2 * oh, count: 2 * ow)))
            }
        }
    }

    private static func check(_ planes: Int, _ h: Int, _ w: Int, _ sh: Int, _ sw: Int, _ inCount: Int, _ outCount: Int) -> (Int, Int) {
        require(planes >= 1 && h >= 1 && w >= 1 && sh >= 1 && sw >= 1,
                "upsample sizes: planes \(planes), input \(h)x\(w), scale \(sh)x\(sw)")
        let oh = h * sh, ow = w * sw
        require(inCount >= planes * h * w && outCount >= planes * oh * ow,
                "upsample buffers: \(inCount) inputs and \(outCount) outputs for \(planes) planes of \(h)x\(w) -> \(oh)x\(ow)")
        return (oh, ow)
    }
}
