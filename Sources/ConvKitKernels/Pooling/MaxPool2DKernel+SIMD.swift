/// Vectorised, plane-parallel max pooling (``PoolingAlgorithm/simd``).
///
/// With `context.simdLevel >= .avx2` the forward pass runs the AVX-512 or AVX2 C kernel instead
/// (``PoolingCKernels``, `ck_pool.h`); what follows is the portable path (and the backward pass).
///
/// Forward, per `[n, c]` plane and output row: the columns whose window lies inside the image
/// are done 16 at a time as two `SIMD8` halves (four independent SSE dependency chains: the
/// compare → select chain of one half alone is latency-bound), the running maximum and the
/// winner's offset kept in registers across all taps, starting from the first tap; the last block
/// overlaps the previous one instead of falling back to scalar code (recomputing an output
/// writes the same bits). 8..15 interior columns use one `SIMD8` block; border columns use
/// the scalar rule.
///
/// The selection rule is the naive one. A plane without NaN (checked with one cheap pass,
/// `x − x` accumulated: NaN or ±∞ poison it) uses `take = v > best` (ties keep the first);
/// otherwise `take = !(v <= best) && best == best` (larger, or a NaN arriving while the best is a
/// number; an infinity only sends the plane to this equally correct path).
///
/// Backward: per plane, zero the plane, then add each output gradient at its index (a scatter;
/// outputs in order, as the naive loop, so the bits are the same).
enum MaxPool2DSIMD {
    static func forward(
        _ g: Pool2DGeometry, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        indices: UnsafeMutablePointer<Int32>, context: ComputeContext
    ) {
        if PoolingCKernels.maxForward(g, input: input, output: output, indices: indices, context: context) { return }
        let x = SharedBuffer(readOnly: UnsafeBufferPointer(start: input, count: g.inputCount))
        let y = SharedBuffer(UnsafeMutableBufferPointer(start: output, count: g.outputCount))
        let k = SharedBuffer(UnsafeMutableBufferPointer(start: indices, count: g.outputCount))
        parallelFor(g.planes, elementsPerIndex: g.inputPlane + 2 * g.outputPlane, context: context) { range in
            for p in range {
                let ordered = isFinite(x.base + p * g.inputPlane, count: g.inputPlane)
                // Specialise the stride and the rule so the innermost loop is straight-line code.
                switch (g.strideWidth, ordered) {
                case (1, true): plane(UnitStrideLoad.self, OrderedRule.self, g, p, x.base, y.base, k.base)
                case (1, false): plane(UnitStrideLoad.self, NaNRule.self, g, p, x.base, y.base, k.base)
                case (2, true): plane(DoubleStrideLoad.self, OrderedRule.self, g, p, x.base, y.base, k.base)
                case (2, false): plane(DoubleStrideLoad.self, NaNRule.self, g, p, x.base, y.base, k.base)
                case (_, true): plane(GatherLoad.self, OrderedRule.self, g, p, x.base, y.base, k.base)
                case (_, false): plane(GatherLoad.self, NaNRule.self, g, p, x.base, y.base, k.base)
                }
            }
        }
    }

    /// `true` when no element is NaN or ±∞ (`x − x` is 0 for finite x, NaN otherwise).
    @inline(__always)
    static func isFinite(_ x: UnsafePointer<Float>, count: Int) -> Bool {
        var acc = SIMD16<Float>(repeating: 0)
        var i = 0
        while i + 16 <= count {
            let v = load16(x + i)
            acc += v - v
            i += 16
        }
        var scalar: Float = 0
        while i < count { scalar += x[i] - x[i]; i += 1 }
        for lane in 0..<16 { scalar += acc[lane] }
        return scalar == 0
    }

    static func plane<Load: StridedLoad, Rule: MaxRule>(
        _: Load.Type, _: Rule.Type, _ g: Pool2DGeometry, _ p: Int, _ input: UnsafePointer<Float>,
        _ output: UnsafeMutablePointer<Float>, _ indices: UnsafeMutablePointer<Int32>
    ) {
        let S = g.strideWidth, P = g.paddingWidth
        let H = g.inputHeight, W = g.inputWidth, OH = g.outputHeight, OW = g.outputWidth, KW = g.windowWidth
        let x = input + p * H * W
        let y = output + p * OH * OW
        let k = indices + p * OH * OW
        let interior = interiorColumns(g)
        let vectorColumns = interior.count >= 8 ? interior : interior.lowerBound..<interior.lowerBound
        let laneStep = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7) &* Int32(truncatingIfNeeded: S)
        let halfStep = SIMD8<Int32>(repeating: Int32(truncatingIfNeeded: 8 &* S))  // wraps only when unused (< 8 interior columns)
        // Window offsets (< windowHeight · W) must be exact in Float for the 16-wide path.
        let floatOffsets = g.windowHeight * W < 1 << 23
        for i in 0..<OH {
            let rows = PoolWindow(output: i, stride: g.strideHeight, padding: g.paddingHeight, window: g.windowHeight, size: H)
            let yRow = y + i * OW, kRow = k + i * OW
            for j in 0..<vectorColumns.lowerBound { scalarOutput(Rule.self, g, x, rows, j, yRow, kRow) }
            for j in vectorColumns.upperBound..<OW { scalarOutput(Rule.self, g, x, rows, j, yRow, kRow) }
            if vectorColumns.isEmpty { continue }
            let firstRow = (rows.start + rows.lower) * W
            if vectorColumns.count < 16 || !floatOffsets {
                // One SIMD8 block (8..15 interior columns), overlapping at the end.
                var j0 = vectorColumns.lowerBound
                while true {
                    if j0 + 8 > vectorColumns.upperBound { j0 = vectorColumns.upperBound - 8 }
                    let xStart = j0 * S - P
                    var best = Load.load8(x + firstRow + xStart, stride: S)
                    var bestIndex = SIMD8<Int32>(repeating: Int32(truncatingIfNeeded: firstRow + xStart)) &+ laneStep
                    for u in rows.lower..<rows.upper {
                        let rowOffset = (rows.start + u) * W + xStart
                        var candidate = SIMD8<Int32>(repeating: Int32(truncatingIfNeeded: rowOffset)) &+ laneStep
                        for v in 0..<KW {
                            if u == rows.lower && v == 0 { candidate &+= 1; continue }    // the starting tap
                            let value = Load.load8(x + rowOffset + v, stride: S)
                            let take = Rule.take(value, best)
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
                continue
            }
            // Blocks of 16 outputs as two SIMD8 halves (a, b), overlapping at the end.
            //
            // The winner is tracked as its offset from the window's first tap (`row · W + column`,
            // the same for every lane, so one broadcast per tap serves both halves), held in a
            // Float vector: offsets grow with the tap order, so the current winner's offset is the
            // largest offset of a tap that was taken, `offset = max(offset, take ? tap : 0)` —
            // an `andps` and a `maxps` instead of SSE2's four-instruction select. Exact while
            // offsets < 2^23 (`floatOffsets`); converted to Int32 once per block.
            var j0 = vectorColumns.lowerBound
            while true {
                if j0 + 16 > vectorColumns.upperBound { j0 = vectorColumns.upperBound - 16 }
                let xStart = j0 * S - P
                let start = x + firstRow + xStart
                var bestA = Load.load8(start, stride: S)
                var bestB = Load.load8(start + 8 * S, stride: S)
                var offsetA = SIMD8<Float>(repeating: 0)
                var offsetB = SIMD8<Float>(repeating: 0)
                let zero = SIMD8<Float>(repeating: 0)
                for u in rows.lower..<rows.upper {
                    let rowOffset = (u &- rows.lower) &* W
                    let r = start + rowOffset
                    for v in (u == rows.lower ? 1 : 0)..<KW {              // the first tap is already in
                        let valueA = Load.load8(r + v, stride: S)
                        let valueB = Load.load8(r + v + 8 * S, stride: S)
                        let takeA = Rule.take(valueA, bestA)
                        let takeB = Rule.take(valueB, bestB)
                        let tap = SIMD8<Float>(repeating: Float(rowOffset &+ v))
                        bestA.replace(with: valueA, where: takeA)
                        bestB.replace(with: valueB, where: takeB)
                        let takenA = zero.replacing(with: tap, where: takeA)
                        let takenB = zero.replacing(with: tap, where: takeB)
                        offsetA.replace(with: takenA, where: takenA .> offsetA)
                        offsetB.replace(with: takenB, where: takenB .> offsetB)
                    }
                }
                // Exact Float → Int32 for integers in [0, 2^23): add 2^23, subtract its bit pattern.
                let magic = SIMD8<Float>(repeating: 8_388_608)
                let integerA = unsafeBitCast(offsetA + magic, to: SIMD8<Int32>.self) &- 0x4B00_0000
                let integerB = unsafeBitCast(offsetB + magic, to: SIMD8<Int32>.self) &- 0x4B00_0000
                let base = SIMD8<Int32>(repeating: Int32(truncatingIfNeeded: firstRow + xStart)) &+ laneStep
                store8(bestA, yRow + j0)
                store8(bestB, yRow + j0 + 8)
                store8(base &+ integerA, kRow + j0)
                store8(base &+ halfStep &+ integerB, kRow + j0 + 8)
                if j0 + 16 >= vectorColumns.upperBound { break }
                j0 += 16
            }
        }
    }

    /// One output by the scalar form of `Rule` (border columns), starting from the first tap.
    @inline(__always)
    static func scalarOutput<Rule: MaxRule>(
        _: Rule.Type, _ g: Pool2DGeometry, _ x: UnsafePointer<Float>, _ rows: PoolWindow, _ j: Int,
        _ yRow: UnsafeMutablePointer<Float>, _ kRow: UnsafeMutablePointer<Int32>
    ) {
        let W = g.inputWidth
        let cols = PoolWindow(output: j, stride: g.strideWidth, padding: g.paddingWidth, window: g.windowWidth, size: W)
        var bestIndex = (rows.start + rows.lower) * W + cols.start + cols.lower
        var best = x[bestIndex]
        for u in rows.lower..<rows.upper {
            let rowOffset = (rows.start + u) * W + cols.start
            for v in cols.lower..<cols.upper where Rule.take(x[rowOffset + v], best) {
                best = x[rowOffset + v]
                bestIndex = rowOffset + v
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
                    require(index >= 0 && index < plane, "max-pooling index \(index) outside the input plane 0..<\(plane)")
                    dxPlane[index] += dyPlane[o]
                }
            }
        }
    }
}

/// When a tap replaces the running maximum (the first tap starts it). Both rules keep the first
/// of equal maxima; they differ only when NaN or ±∞ can appear.
protocol MaxRule {
    static func take(_ value: SIMD8<Float>, _ best: SIMD8<Float>) -> SIMDMask<SIMD8<Int32>>
    static func take(_ value: Float, _ best: Float) -> Bool
}

/// For planes of finite numbers only: strictly larger wins.
enum OrderedRule: MaxRule {
    @inline(__always) static func take(_ value: SIMD8<Float>, _ best: SIMD8<Float>) -> SIMDMask<SIMD8<Int32>> {
        value .> best
    }
    @inline(__always) static func take(_ value: Float, _ best: Float) -> Bool { value > best }
}

/// The general rule: strictly larger, or a NaN while the best is still a number (the first
/// NaN then stays).
enum NaNRule: MaxRule {
    @inline(__always) static func take(_ value: SIMD8<Float>, _ best: SIMD8<Float>) -> SIMDMask<SIMD8<Int32>> {
        .!(value .<= best) .& (best .== best)
    }
    @inline(__always) static func take(_ value: Float, _ best: Float) -> Bool { !(value <= best) && best == best }
}
