/// Vectorised, plane-parallel max pooling (``PoolingAlgorithm/simd``).
///
/// Forward: for each output row, the columns whose window lies inside the image are done 8 at
/// a time with the running maximum and its index kept in `SIMD8` registers across all taps
/// (no memory traffic for accumulators); the last block overlaps the previous one instead of
/// falling back to scalar code (recomputing an output writes the same bits). Border columns
/// use the scalar rule. The tie/NaN rule is the naive one written as a lane mask:
/// `take = !(v <= best) && best == best` (larger, or NaN arriving while best is a number).
///
/// Backward: per plane, zero the plane, then add each output gradient at its index (a scatter;
/// outputs in order, as the naive loop, so the bits are the same).
enum MaxPool2DSIMD {
    static func forward(
        _ g: Pool2DGeometry, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        indices: UnsafeMutablePointer<Int32>, context: ComputeContext
    ) {
        let x = SharedBuffer(readOnly: UnsafeBufferPointer(start: input, count: g.inputCount))
        let y = SharedBuffer(UnsafeMutableBufferPointer(start: output, count: g.outputCount))
        let k = SharedBuffer(UnsafeMutableBufferPointer(start: indices, count: g.outputCount))
        parallelFor(g.planes, elementsPerIndex: g.inputPlane + 2 * g.outputPlane, context: context) { range in
            // Specialise the stride so the loads in the innermost loop are straight-line code.
            switch g.strideWidth {
            case 1: for p in range { plane(UnitStrideLoad.self, g, p, x.base, y.base, k.base) }
            case 2: for p in range { plane(DoubleStrideLoad.self, g, p, x.base, y.base, k.base) }
            default: for p in range { plane(GatherLoad.self, g, p, x.base, y.base, k.base) }
            }
        }
    }

    static func plane<Load: StridedLoad>(
        _: Load.Type, _ g: Pool2DGeometry, _ p: Int, _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
        _ indices: UnsafeMutablePointer<Int32>
    ) {
        let S = g.strideWidth
        let H = g.inputHeight, W = g.inputWidth, OH = g.outputHeight, OW = g.outputWidth, KW = g.windowWidth
        let x = input + p * H * W
        let y = output + p * OH * OW
        let k = indices + p * OH * OW
        let interior = interiorColumns(g)
        let laneStep = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7) &* Int32(truncatingIfNeeded: S)
        for i in 0..<OH {
            let rows = PoolWindow(output: i, stride: g.strideHeight, padding: g.paddingHeight, window: g.windowHeight, size: H)
            let yRow = y + i * OW, kRow = k + i * OW
            // Border columns (and everything when fewer than 8 interior columns exist): scalar.
            let vectorColumns = interior.count >= 8 ? interior : interior.lowerBound..<interior.lowerBound
            for j in 0..<vectorColumns.lowerBound {
                scalarOutput(g, x, rows, j, yRow, kRow)
            }
            for j in vectorColumns.upperBound..<OW {
                scalarOutput(g, x, rows, j, yRow, kRow)
            }
            if vectorColumns.isEmpty { continue }
            var j0 = vectorColumns.lowerBound
            while true {
                if j0 + 8 > vectorColumns.upperBound { j0 = vectorColumns.upperBound - 8 }   // overlapping last block
                let xStart = j0 * S - g.paddingWidth                  // >= 0 for interior columns
                var best = SIMD8<Float>(repeating: -.infinity)
                var bestIndex = SIMD8<Int32>(repeating: Int32(truncatingIfNeeded: (rows.start + rows.lower) * W + xStart)) &+ laneStep
                for u in rows.lower..<rows.upper {
                    let rowOffset = (rows.start + u) * W + xStart
                    let r = x + rowOffset
                    var candidate = SIMD8<Int32>(repeating: Int32(truncatingIfNeeded: rowOffset)) &+ laneStep
                    for v in 0..<KW {
                        let value = Load.load8(r + v, stride: S)
                        let take = .!(value .<= best) .& (best .== best)
                        best.replace(with: value, where: take)
                        bestIndex.replace(with: candidate, where: take)
                        candidate &+= 1
                    }
                }
                store8(best, yRow + j0)
                store8(bestIndex, kRow + j0)
                if j0 + 8 >= vectorColumns.upperBound { break }
                j0 += 8
            }
        }
    }

    /// One output by the scalar rule (border columns).
    @inline(__always)
    static func scalarOutput(
        _ g: Pool2DGeometry, _ x: UnsafePointer<Float>, _ rows: PoolWindow, _ j: Int,
        _ yRow: UnsafeMutablePointer<Float>, _ kRow: UnsafeMutablePointer<Int32>
    ) {
        let W = g.inputWidth
        let cols = PoolWindow(output: j, stride: g.strideWidth, padding: g.paddingWidth, window: g.windowWidth, size: W)
        var best: Float = -.infinity
        var bestIndex = (rows.start + rows.lower) * W + cols.start + cols.lower
        for u in rows.lower..<rows.upper {
            let rowOffset = (rows.start + u) * W + cols.start
            for v in cols.lower..<cols.upper {
                let value = x[rowOffset + v]
                if !(value <= best) && best == best {
                    best = value
                    bestIndex = rowOffset + v
                }
            }
        }
        yRow[j] = best
        kRow[j] = Int32(truncatingIfNeeded: bestIndex)
    }

    static func backward(
        _ g: Pool2DGeometry, outputGradient: UnsafePointer<Float>, indices: UnsafePointer<Int32>,
        inputGradient: UnsafeMutablePointer<Float>, context: ComputeContext
    ) {
        let dy = SharedBuffer(readOnly: UnsafeBufferPointer(start: outputGradient, count: g.outputCount))
        let k = SharedBuffer(readOnly: UnsafeBufferPointer(start: indices, count: g.outputCount))
        let dx = SharedBuffer(UnsafeMutableBufferPointer(start: inputGradient, count: g.inputCount))
        let plane = g.inputPlane, outputPlane = g.outputPlane
        parallelFor(g.planes, elementsPerIndex: plane + 2 * outputPlane, context: context) { range in
            for p in range {
                let dxPlane = dx.base + p * plane
                dxPlane.update(repeating: 0, count: plane)
                let dyPlane = dy.base + p * outputPlane, kPlane = k.base + p * outputPlane
                for o in 0..<outputPlane {
                    let index = Int(kPlane[o])
                    precondition(index >= 0 && index < plane, "max-pooling index \(index) outside the input plane 0..<\(plane)")
                    dxPlane[index] += dyPlane[o]
                }
            }
        }
    }
}
