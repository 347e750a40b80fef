/// Vectorised, plane-parallel average pooling (``PoolingAlgorithm/simd``).
///
/// With `context.simdLevel >= .avx512` the forward pass runs the AVX-512 C kernel instead
/// (``PoolingCKernels``, `ck_pool.h`: same tap order and division, same bits); what follows is
/// the portable path (and the backward pass).
///
/// Forward: 16 interior output columns at a time as two `SIMD8` sums (8 at a time when only
/// 8..15 columns are interior), kept in registers over all taps in row-major order (the naive
/// order, so the bits match), then one division; the last block overlaps the previous one;
/// border columns are scalar.
///
/// Backward: per plane, zero the plane, then each block of 8 interior outputs computes its
/// shares `dy / d` once and adds them to every tap: a vector add for stride 1, 8 scalar adds
/// for other strides (a strided scatter has no SSE instruction). Border columns are scalar.
enum AvgPool2DSIMD {
    static func forward(
        _ g: Pool2DGeometry, countPadding: Bool, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        context: ComputeContext
    ) {
        if PoolingCKernels.averageForward(g, countPadding: countPadding, input: input, output: output, context: context) { return }
        let x = SharedBuffer(readOnly: UnsafeBufferPointer(start: input, count: g.inputCount))
        let y = SharedBuffer(UnsafeMutableBufferPointer(start: output, count: g.outputCount))
        parallelFor(g.planes, elementsPerIndex: g.inputPlane + g.outputPlane, context: context) { range in
            switch g.strideWidth {
            case 1: for p in range { forwardPlane(UnitStrideLoad.self, g, countPadding, p, x.base, y.base) }
            case 2: for p in range { forwardPlane(DoubleStrideLoad.self, g, countPadding, p, x.base, y.base) }
            default: for p in range { forwardPlane(GatherLoad.self, g, countPadding, p, x.base, y.base) }
            }
        }
    }

    static func forwardPlane<Load: StridedLoad>(
        _: Load.Type, _ g: Pool2DGeometry, _ countPadding: Bool, _ p: Int,
        _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>
    ) {
        let S = g.strideWidth
        let H = g.inputHeight, W = g.inputWidth, OH = g.outputHeight, OW = g.outputWidth, KW = g.windowWidth
        let x = input + p * H * W
        let y = output + p * OH * OW
        let interior = interiorColumns(g)
        let vectorColumns = interior.count >= 8 ? interior : interior.lowerBound..<interior.lowerBound
        for i in 0..<OH {
            let rows = PoolWindow(output: i, stride: g.strideHeight, padding: g.paddingHeight, window: g.windowHeight, size: H)
            let yRow = y + i * OW
            for j in 0..<vectorColumns.lowerBound { scalarOutput(g, countPadding, x, rows, j, yRow) }
            for j in vectorColumns.upperBound..<OW { scalarOutput(g, countPadding, x, rows, j, yRow) }
            if vectorColumns.isEmpty { continue }
            let d = SIMD8<Float>(repeating: AvgPool2DKernel.divisor(g, countPadding: countPadding, rows: rows.count, columns: KW))
            if vectorColumns.count < 16 {
                var j0 = vectorColumns.lowerBound
                while true {
                    if j0 + 8 > vectorColumns.upperBound { j0 = vectorColumns.upperBound - 8 }
                    let xStart = j0 * S - g.paddingWidth
                    var sum = SIMD8<Float>(repeating: 0)
                    for u in rows.lower..<rows.upper {
                        let r = x + (rows.start + u) * W + xStart
                        for v in 0..<KW { sum += Load.load8(r + v, stride: S) }
                    }
                    store8(sum / d, yRow + j0)
                    if j0 + 8 >= vectorColumns.upperBound { break }
                    j0 += 8
                }
                continue
            }
            // 16 outputs as two independent SIMD8 sums (two dependency chains per half).
            var j0 = vectorColumns.lowerBound
            while true {
                if j0 + 16 > vectorColumns.upperBound { j0 = vectorColumns.upperBound - 16 }
                let xStart = j0 * S - g.paddingWidth
                var sumA = SIMD8<Float>(repeating: 0)
                var sumB = SIMD8<Float>(repeating: 0)
                for u in rows.lower..<rows.upper {
                    let r = x + (rows.start + u) * W + xStart
                    for v in 0..<KW {
                        sumA += Load.load8(r + v, stride: S)
                        sumB += Load.load8(r + v + 8 * S, stride: S)
                    }
                }
                store8(sumA / d, yRow + j0)
                store8(sumB / d, yRow + j0 + 8)
                if j0 + 16 >= vectorColumns.upperBound { break }
                j0 += 16
            }
        }
    }

    @inline(__always)
    static func scalarOutput(
        _ g: Pool2DGeometry, _ countPadding: Bool, _ x: UnsafePointer<Float>, _ rows: PoolWindow, _ j: Int,
        _ yRow: UnsafeMutablePointer<Float>
    ) {
        let W = g.inputWidth
        let cols = PoolWindow(output: j, stride: g.strideWidth, padding: g.paddingWidth, window: g.windowWidth, size: W)
        var sum: Float = 0
        for u in rows.lower..<rows.upper {
            let rowOffset = (rows.start + u) * W + cols.start
            for v in cols.lower..<cols.upper { sum += x[rowOffset + v] }
        }
        yRow[j] = sum / AvgPool2DKernel.divisor(g, countPadding: countPadding, rows: rows.count, columns: cols.count)
    }

    static func backward(
        _ g: Pool2DGeometry, countPadding: Bool, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, context: ComputeContext
    ) {
        let dy = SharedBuffer(readOnly: UnsafeBufferPointer(start: outputGradient, count: g.outputCount))
        let dx = SharedBuffer(UnsafeMutableBufferPointer(start: inputGradient, count: g.inputCount))
        parallelFor(g.planes, elementsPerIndex: g.inputPlane + g.outputPlane, context: context) { range in
            if g.strideWidth == 1 {
                for p in range { backwardPlane(UnitStride.self, g, countPadding, p, dy.base, dx.base) }
            } else {
                for p in range { backwardPlane(AnyStride.self, g, countPadding, p, dy.base, dx.base) }
            }
        }
    }

    /// Compile-time choice between the stride-1 vector add and the scalar scatter.
    protocol StrideKind { static var isUnit: Bool { get } }
    enum UnitStride: StrideKind { static var isUnit: Bool { true } }
    enum AnyStride: StrideKind { static var isUnit: Bool { false } }

    static func backwardPlane<Kind: StrideKind>(
        _: Kind.Type, _ g: Pool2DGeometry, _ countPadding: Bool, _ p: Int,
        _ outputGradient: UnsafePointer<Float>, _ inputGradient: UnsafeMutablePointer<Float>
    ) {
        let S = g.strideWidth
        let H = g.inputHeight, W = g.inputWidth, OH = g.outputHeight, OW = g.outputWidth, KW = g.windowWidth
        let dx = inputGradient + p * H * W
        let dy = outputGradient + p * OH * OW
        dx.update(repeating: 0, count: H * W)
        let interior = interiorColumns(g)
        // No overlapping last block here: adding twice would double a share.
        let blocks = interior.count / 8
        let vectorEnd = interior.lowerBound + 8 * blocks
        for i in 0..<OH {
            let rows = PoolWindow(output: i, stride: g.strideHeight, padding: g.paddingHeight, window: g.windowHeight, size: H)
            let dyRow = dy + i * OW
            for j in 0..<interior.lowerBound { scalarShare(g, countPadding, dx, rows, j, dyRow[j]) }
            if blocks > 0 {
                let d = SIMD8<Float>(repeating: AvgPool2DKernel.divisor(g, countPadding: countPadding, rows: rows.count, columns: KW))
                var j0 = interior.lowerBound
                while j0 < vectorEnd {
                    let share = load8(dyRow + j0) / d
                    let xStart = j0 * S - g.paddingWidth
                    for u in rows.lower..<rows.upper {
                        let r = dx + (rows.start + u) * W + xStart
                        for v in 0..<KW {
                            if Kind.isUnit {
                                store8(load8(r + v) + share, r + v)
                            } else {
                                for lane in 0..<8 { r[v + lane * S] += share[lane] }
                            }
                        }
                    }
                    j0 += 8
                }
            }
            for j in vectorEnd..<OW { scalarShare(g, countPadding, dx, rows, j, dyRow[j]) }
        }
    }

    @inline(__always)
    static func scalarShare(
        _ g: Pool2DGeometry, _ countPadding: Bool, _ dx: UnsafeMutablePointer<Float>, _ rows: PoolWindow, _ j: Int,
        _ gradient: Float
    ) {
        let W = g.inputWidth
        let cols = PoolWindow(output: j, stride: g.strideWidth, padding: g.paddingWidth, window: g.windowWidth, size: W)
        let share = gradient / AvgPool2DKernel.divisor(g, countPadding: countPadding, rows: rows.count, columns: cols.count)
        for u in rows.lower..<rows.upper {
            let rowOffset = (rows.start + u) * W + cols.start
            for v in cols.lower..<cols.upper { dx[rowOffset + v] += share }
        }
    }
}
