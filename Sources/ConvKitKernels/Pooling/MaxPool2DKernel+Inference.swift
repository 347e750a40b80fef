extension MaxPool2DKernel {
    /// Max pooling without indices, for inference: the same maxima as
    /// ``forward(_:algorithm:input:output:indices:context:)`` (same rules: padding never wins, a NaN
    /// in the window wins), bit for bit, but nothing is recorded for a backward pass.
    ///
    ///     output[n,c,i,j] = max over the valid taps (u, v) of input[n, c, i·S − P + u, j·S − P + v]
    ///
    /// `.simd` computes it separably: per output row, the element-wise maximum of the window's
    /// input rows (one vector pass), then the horizontal maximum over each window's columns (with
    /// even/odd lane splits for stride 2). Max is exact and, without NaN, associative, so the order
    /// does not change the result; planes holding NaN or ±∞ use the scalar rule.
    ///
    /// With `context.simdLevel >= .avx512`, `.simd` runs the AVX-512 C kernel of the indexed
    /// forward without its index work (no index stores). The portable path needs no index buffer,
    /// but it is not faster than the indexed SIMD forward at stride 2, because its vertical pass
    /// works at input resolution (figures: docs/decisions/Decisions.md, "Max pooling without
    /// indices").
    ///
    /// - Parameters:
    ///   - input: `[batch, channels, inputHeight, inputWidth]`.
    ///   - output: `[batch, channels, outputHeight, outputWidth]`, **overwritten**.
    ///   - context: `.simd` splits the planes over up to `context.threads` threads.
    public static func inference(
        _ g: Pool2DGeometry, algorithm: PoolingAlgorithm,
        input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        require(input.count >= g.inputCount, "input holds \(input.count) floats, expected \(g.inputCount)")
        require(output.count >= g.outputCount, "output holds \(output.count) floats, expected \(g.outputCount)")
        guard let x = input.baseAddress, let y = output.baseAddress else { return }
        switch algorithm {
        case .naive:
            for p in 0..<g.planes { MaxPool2DSeparable.scalarPlane(g, x + p * g.inputPlane, y + p * g.outputPlane) }
        case .simd:
            MaxPool2DSeparable.forward(g, input: x, output: y, context: context)
        }
    }
}

/// The separable, index-free max pooling behind ``MaxPool2DKernel/inference(_:algorithm:input:output:context:)``.
enum MaxPool2DSeparable {
    static func forward(_ g: Pool2DGeometry, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                        context: ComputeContext) {
        if PoolingCKernels.maxForward(g, input: input, output: output, indices: nil, context: context) { return }
        let x = SharedBuffer(readOnly: UnsafeBufferPointer(start: input, count: g.inputCount))
        let y = SharedBuffer(UnsafeMutableBufferPointer(start: output, count: g.outputCount))
        parallelFor(g.planes, elementsPerIndex: g.inputPlane + g.outputPlane, context: context) { range in
            // One row of column maxima (+16 floats of slack for the last vector loads).
            withUnsafeTemporaryAllocation(of: Float.self, capacity: g.inputWidth + 16) { row in
                guard let row = row.baseAddress else { return }
                row.initialize(repeating: 0, count: g.inputWidth + 16)
                for p in range {
                    let plane = x.base + p * g.inputPlane, out = y.base + p * g.outputPlane
                    if MaxPool2DSIMD.isFinite(plane, count: g.inputPlane) {
                        vectorPlane(g, plane, out, row)
                    } else {
                        scalarPlane(g, plane, out)
                    }
                }
            }
        }
    }

    /// The naive rule without indices (the reference, and the path for planes with NaN or ±∞).
    @inline(__always)
    static func scalarPlane(_ g: Pool2DGeometry, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let H = g.inputHeight, W = g.inputWidth
        for i in 0..<g.outputHeight {
            let rows = PoolWindow(output: i, stride: g.strideHeight, padding: g.paddingHeight, window: g.windowHeight, size: H)
            for j in 0..<g.outputWidth {
                let cols = PoolWindow(output: j, stride: g.strideWidth, padding: g.paddingWidth, window: g.windowWidth, size: W)
                var best: Float = 0
                var first = true
                for u in rows.lower..<rows.upper {
                    let line = x + (rows.start + u) * W + cols.start
                    for v in cols.lower..<cols.upper {
                        let value = line[v]
                        if first || value > best || (value.isNaN && !best.isNaN) { best = value; first = false }
                    }
                }
                y[i * g.outputWidth + j] = best
            }
        }
    }

    @inline(__always)
    static func vectorPlane(_ g: Pool2DGeometry, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                            _ row: UnsafeMutablePointer<Float>) {
        let H = g.inputHeight, W = g.inputWidth, OW = g.outputWidth
        let S = g.strideWidth, P = g.paddingWidth, KW = g.windowWidth
        let interior = interiorColumns(g)
        for i in 0..<g.outputHeight {
            let rows = PoolWindow(output: i, stride: g.strideHeight, padding: g.paddingHeight, window: g.windowHeight, size: H)
            // Vertical pass: row[x] = max over the window's valid input rows.
            row.update(from: x + (rows.start + rows.lower) * W, count: W)
            for u in (rows.lower + 1)..<max(rows.lower + 1, rows.upper) {
                let line = x + (rows.start + u) * W
                var k = 0
                while k + 8 <= W {
                    var m = load8(row + k)
                    let v = load8(line + k)
                    m.replace(with: v, where: v .> m)
                    store8(m, row + k)
                    k += 8
                }
                while k < W { if line[k] > row[k] { row[k] = line[k] }; k += 1 }
            }
            // Horizontal pass over the row of column maxima.
            let out = y + i * OW
            for j in 0..<interior.lowerBound { out[j] = borderMax(g, row, j) }
            for j in interior.upperBound..<OW { out[j] = borderMax(g, row, j) }
            var j = interior.lowerBound
            switch S {
            case 1:
                while j + 8 <= interior.upperBound {
                    let base = row + j - P
                    var m = load8(base)
                    for v in 1..<KW { let c = load8(base + v); m.replace(with: c, where: c .> m) }
                    store8(m, out + j)
                    j += 8
                }
            case 2:
                while j + 8 <= interior.upperBound {
                    let base = row + 2 * j - P
                    var m = load16(base).evenHalf
                    for v in 1..<KW { let c = load16(base + v).evenHalf; m.replace(with: c, where: c .> m) }
                    store8(m, out + j)
                    j += 8
                }
            default:
                break
            }
            while j < interior.upperBound {
                let base = row + j * S - P
                var m = base[0]
                for v in 1..<KW where base[v] > m { m = base[v] }
                out[j] = m
                j += 1
            }
        }
    }

    /// A border column: only the window's columns inside the row count.
    @inline(__always)
    static func borderMax(_ g: Pool2DGeometry, _ row: UnsafePointer<Float>, _ j: Int) -> Float {
        let cols = PoolWindow(output: j, stride: g.strideWidth, padding: g.paddingWidth, window: g.windowWidth, size: g.inputWidth)
        var m = row[cols.start + cols.lower]
        for v in (cols.lower + 1)..<max(cols.lower + 1, cols.upper) where row[cols.start + v] > m { m = row[cols.start + v] }
        return m
    }
}
