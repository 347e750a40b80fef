/// Lowering between images and the column matrix of a convolution (im2col) and back (col2im).
///
/// For a chunk of `b` images of one group (`Cg` channels each) and a band of output rows
/// `i0..<i1` (`R` rows), the column matrix has `Cg·KH·KW` rows and `ld = b·R·OW` columns
/// (row-major); image `t` of the chunk owns columns `t·R·OW ..< (t+1)·R·OW`:
///
///     columns[(c·KH + u)·KW + v][t·R·OW + (i − i0)·OW + j]
///         = image_t[c][i·S − P + u·D][j·S − P + v·D]          (0 outside the image)
///
/// so that the forward convolution of the chunk is `filter[Og × Cg·KH·KW] · columns`.
/// ``pack`` (im2col) overwrites the columns; ``unpack`` (col2im) is its adjoint: it adds every
/// column entry back to the pixel it was read from (after zeroing the planes when asked).
enum Im2col {
    /// The output indices `j` for which `x = j·stride + offset` lies in `0..<size`.
    @inline(__always)
    static func validRange(offset: Int, stride: Int, size: Int, outputSize: Int) -> Range<Int> {
        var lower = 0
        // ⌈a / stride⌉ for a > 0 as (a − 1) / stride + 1: no overflow for any stride.
        if offset < 0 { lower = min(outputSize, (-offset - 1) / stride + 1) }   // padding may exceed every window
        let limit = size - offset                // need j·stride < limit
        let upper = limit <= 0 ? 0 : min(outputSize, (limit - 1) / stride + 1)
        return lower..<max(lower, upper)
    }

    /// im2col of a chunk (see the type's documentation); **overwrites** `columns`.
    ///
    /// - Parameters:
    ///   - images: channel 0 of the group in the chunk's first image (`[Cg, H, W]` per image).
    ///   - imageStride: floats between consecutive images (`C·H·W`).
    ///   - imageCount: `b`, the images of the chunk.
    ///   - outputRows: the band `i0..<i1` of output rows lowered.
    ///   - columns: `[Cg·KH·KW, b·R·OW]`.
    ///
    /// Parallel over column-matrix rows; each row's window geometry (three divisions and two valid
    /// ranges) is computed once and reused for every image of the chunk.
    static func pack(
        _ g: Conv2DGeometry, images: UnsafePointer<Float>, imageStride: Int, imageCount: Int,
        outputRows: Range<Int>, columns: UnsafeMutablePointer<Float>, context: ComputeContext
    ) {
        let rows = g.columnRows
        let block = outputRows.count * g.outputWidth
        let src = SharedBuffer(readOnly: UnsafeBufferPointer(start: images, count: (imageCount - 1) * imageStride + g.inputChannelsPerGroup * g.inputPlane))
        let dst = SharedBuffer(UnsafeMutableBufferPointer(start: columns, count: rows * imageCount * block))
        parallelFor(rows, elementsPerIndex: imageCount * block, context: context) { range in
            for r in range {
                packRow(g, images: src.base, imageStride: imageStride, imageCount: imageCount, row: r,
                        outputRows: outputRows, out: dst.base + r * imageCount * block)
            }
        }
    }

    /// Writes row `r = (c·KH + u)·KW + v` of the column matrix for every image of the chunk:
    /// `imageCount` blocks of `R·OW` floats at `out`.
    @inline(__always)
    static func packRow(_ g: Conv2DGeometry, images: UnsafeMutablePointer<Float>, imageStride: Int, imageCount: Int,
                        row r: Int, outputRows: Range<Int>, out: UnsafeMutablePointer<Float>) {
        let H = g.inputHeight, W = g.inputWidth, OH = g.outputHeight, OW = g.outputWidth
        let KH = g.kernelHeight, KW = g.kernelWidth, SH = g.strideHeight, SW = g.strideWidth
        let c = r / (KH * KW), u = (r / KW) % KH, v = r % KW
        let xOffset = v * g.dilationWidth - g.paddingWidth
        let yOffset = u * g.dilationHeight - g.paddingHeight
        let js = validRange(offset: xOffset, stride: SW, size: W, outputSize: OW)
        let iValid = validRange(offset: yOffset, stride: SH, size: H, outputSize: OH)
        let lead = js.lowerBound, trail = OW - js.upperBound, width = js.count
        // Output rows of the band whose input row exists; the others are all zeros.
        let validLower = max(iValid.lowerBound, outputRows.lowerBound)
        let validUpper = max(validLower, min(iValid.upperBound, outputRows.upperBound))
        let before = (validLower - outputRows.lowerBound) * OW
        let after = (outputRows.upperBound - validUpper) * OW
        for t in 0..<imageCount {
            let plane = images + t * imageStride + c * H * W
            let block = out + t * outputRows.count * OW
            if width == 0 {
                fill(block, outputRows.count * OW)
                continue
            }
            if before > 0 { fill(block, before) }
            if after > 0 { fill(block + (validUpper - outputRows.lowerBound) * OW, after) }
            var o = block + before
            // First valid input row (0 when none: then no row is read, and huge strides cannot overflow).
            let firstRow = validLower < validUpper ? validLower * SH + yOffset : 0
            var line = plane + firstRow * W + xOffset        // x = j·SW + xOffset
            let lineStep = SH &* W     // wraps only past the last valid row (huge strides), never dereferenced
            // One loop per stride so that the row loop holds no switch.
            switch SW {
            case 1:
                for _ in validLower..<validUpper {
                    if lead > 0 { fill(o, lead) }
                    copy(o + lead, line + lead, width)
                    if trail > 0 { fill(o + js.upperBound, trail) }
                    o += OW; line += lineStep
                }
            default:
                for _ in validLower..<validUpper {
                    if lead > 0 { fill(o, lead) }
                    for j in js { o[j] = line[j &* SW] }
                    if trail > 0 { fill(o + js.upperBound, trail) }
                    o += OW; line += lineStep
                }
            }
        }
    }

    /// `count` floats from `source` to `target`, eight at a time (short runs are the common case:
    /// a call to memcpy costs more than the copy for the 10-28 floats of small layers).
    @inline(__always)
    static func copy(_ target: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>, _ count: Int) {
        if count > 64 { target.update(from: source, count: count); return }
        var k = 0
        while k + 8 <= count {
            UnsafeMutableRawPointer(target + k).storeBytes(of: UnsafeRawPointer(source + k).loadUnaligned(as: SIMD8<Float>.self),
                                                           as: SIMD8<Float>.self)
            k += 8
        }
        while k < count { target[k] = source[k]; k += 1 }
    }

    /// `count` zeros at `target`, eight at a time.
    @inline(__always)
    static func fill(_ target: UnsafeMutablePointer<Float>, _ count: Int) {
        if count > 64 { target.update(repeating: 0, count: count); return }
        var k = 0
        while k + 8 <= count {
            UnsafeMutableRawPointer(target + k).storeBytes(of: SIMD8<Float>(), as: SIMD8<Float>.self)
            k += 8
        }
        while k < count { target[k] = 0; k += 1 }
    }

    /// col2im of a chunk: the adjoint of ``pack``. Adds each column entry into the pixel it
    /// was read from; with `zeroFirst`, the image planes are **overwritten** (zeroed, then summed
    /// into), otherwise the sums are **accumulated** into them (`+=`).
    /// Parallel over (channel, image) planes, each owned by one work item: no races.
    ///
    /// Strided layers go through ``unpackPlanePhased``, which needs a scratch of
    /// ``phaseScratchCount(_:outputRows:)`` floats per worker; it is allocated here, once per worker
    /// and call (at most `context.threads` of them, 3.6 KB for strided_3x3 and 208 KB for AlexNet
    /// conv1: not part of the workspace).
    static func unpack(
        _ g: Conv2DGeometry, columns: UnsafePointer<Float>, outputRows: Range<Int>,
        images: UnsafeMutablePointer<Float>, imageStride: Int, imageCount: Int, zeroFirst: Bool,
        context: ComputeContext
    ) {
        let Cg = g.inputChannelsPerGroup
        let block = outputRows.count * g.outputWidth
        let src = SharedBuffer(readOnly: UnsafeBufferPointer(start: columns, count: g.columnRows * imageCount * block))
        let dst = SharedBuffer(UnsafeMutableBufferPointer(start: images, count: (imageCount - 1) * imageStride + Cg * g.inputPlane))
        // Phases pay off where taps overlap: strides above the kernel go the direct way (and keep
        // the scratch, SH·SW phase planes, no larger than the band's padded plane).
        let phased = (g.strideHeight > 1 || g.strideWidth > 1)
            && g.strideHeight <= g.kernelHeight && g.strideWidth <= g.kernelWidth
        parallelFor(Cg * imageCount, elementsPerIndex: g.kernelPlane * block, context: context) { range in
            let scratchCount = phased ? phaseScratchCount(g, outputRows: outputRows) : 0
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, scratchCount))
            defer { scratch.deallocate() }
            for index in range {
                let c = index / imageCount, t = index % imageCount
                let plane = dst.base + t * imageStride + c * g.inputPlane
                if phased {
                    unpackPlanePhased(g, columns: src.base + t * block, ld: imageCount * block, channel: c,
                                      outputRows: outputRows, plane: plane, zeroFirst: zeroFirst, scratch: scratch)
                } else {
                    unpackPlane(g, columns: src.base + t * block, ld: imageCount * block, channel: c,
                                outputRows: outputRows, plane: plane, zeroFirst: zeroFirst)
                }
            }
        }
    }

    /// Floats of the phase-split plane ``unpackPlanePhased`` sums into:
    /// `SH·SW·Hs·Ws` with `Hs = R + ⌊(KH−1)·DH/SH⌋` and `Ws = OW + ⌊(KW−1)·DW/SW⌋` (R = band rows).
    static func phaseScratchCount(_ g: Conv2DGeometry, outputRows: Range<Int>) -> Int {
        let hs = outputRows.count + (g.kernelHeight - 1) * g.dilationHeight / g.strideHeight
        let ws = g.outputWidth + (g.kernelWidth - 1) * g.dilationWidth / g.strideWidth
        return g.strideHeight * g.strideWidth * hs * ws
    }

    /// col2im of one plane of a strided layer, in two passes that avoid strided adds per tap:
    ///
    /// 1. every column row (c, u, v) is added, output row by output row, as a contiguous run into
    ///    the phase-split zero-padded plane `scratch[a][b][I][J]` (`[SH][SW][Hs][Ws]`), where the
    ///    padded pixel `(Y, X) = (i·SH + u·DH, j·SW + v·DW)` (relative to the band's first row
    ///    `i0·SH`) lives at phase `a = Y mod SH`, `b = X mod SW` and `(I, J) = (⌊Y/SH⌋, ⌊X/SW⌋)`;
    /// 2. each image pixel `(y, x)` adds its padded pixel `(y + PH − i0·SH, x + PW)` when it lies
    ///    in the scratch (the band's rows and the kernel's reach), and padding pixels are dropped.
    ///
    /// Same sums as ``unpackPlane`` in a different order: for each pixel, the contributions of
    /// taps that share a phase are summed first (float rounding may differ).
    @inline(__always)
    static func unpackPlanePhased(_ g: Conv2DGeometry, columns: UnsafeMutablePointer<Float>, ld: Int, channel c: Int,
                                  outputRows: Range<Int>, plane: UnsafeMutablePointer<Float>, zeroFirst: Bool,
                                  scratch: UnsafeMutablePointer<Float>) {
        let H = g.inputHeight, W = g.inputWidth, OW = g.outputWidth
        let KH = g.kernelHeight, KW = g.kernelWidth, SH = g.strideHeight, SW = g.strideWidth
        let R = outputRows.count
        let hs = R + (KH - 1) * g.dilationHeight / SH, ws = OW + (KW - 1) * g.dilationWidth / SW
        let phasePlane = hs * ws
        fill(scratch, SH * SW * phasePlane)
        for u in 0..<KH {
            let dy = u * g.dilationHeight
            let a = dy % SH, i0 = dy / SH
            for v in 0..<KW {
                let dx = v * g.dilationWidth
                let b = dx % SW, j0 = dx / SW
                let row = columns + ((c * KH + u) * KW + v) * ld
                var target = scratch + (a * SW + b) * phasePlane + i0 * ws + j0
                var source = row
                for _ in 0..<R {
                    add(target, source, OW)
                    target += ws; source += OW
                }
            }
        }
        if zeroFirst { plane.update(repeating: 0, count: H * W) }
        let top = outputRows.lowerBound * SH        // padded row of the scratch's first row
        for y in 0..<H {
            let Y = y + g.paddingHeight - top
            if Y < 0 { continue }
            let a = Y % SH, I = Y / SH
            if I >= hs { break }
            let dst = plane + y * W
            for b in 0..<SW {
                // x = J·SW + b − PW for J in 0..<ws, kept where 0 <= x < W.
                let phaseRow = scratch + (a * SW + b) * phasePlane + I * ws
                let js = validRange(offset: b - g.paddingWidth, stride: SW, size: W, outputSize: ws)
                var x = js.lowerBound * SW + b - g.paddingWidth
                for J in js {
                    dst[x] += phaseRow[J]
                    x += SW
                }
            }
        }
    }

    /// `target[k] += source[k]` for `count` floats, eight at a time.
    @inline(__always)
    static func add(_ target: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>, _ count: Int) {
        var k = 0
        while k + 8 <= count {
            let sum = UnsafeRawPointer(target + k).loadUnaligned(as: SIMD8<Float>.self)
                + UnsafeRawPointer(source + k).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(target + k).storeBytes(of: sum, as: SIMD8<Float>.self)
            k += 8
        }
        if k + 4 <= count {
            let sum = UnsafeRawPointer(target + k).loadUnaligned(as: SIMD4<Float>.self)
                + UnsafeRawPointer(source + k).loadUnaligned(as: SIMD4<Float>.self)
            UnsafeMutableRawPointer(target + k).storeBytes(of: sum, as: SIMD4<Float>.self)
            k += 4
        }
        while k < count { target[k] += source[k]; k += 1 }
    }

    @inline(__always)
    static func unpackPlane(_ g: Conv2DGeometry, columns: UnsafeMutablePointer<Float>, ld: Int, channel c: Int,
                            outputRows: Range<Int>, plane: UnsafeMutablePointer<Float>, zeroFirst: Bool) {
        let H = g.inputHeight, W = g.inputWidth, OH = g.outputHeight, OW = g.outputWidth
        let KH = g.kernelHeight, KW = g.kernelWidth, SH = g.strideHeight, SW = g.strideWidth
        if zeroFirst { plane.update(repeating: 0, count: H * W) }
        for u in 0..<KH {
            let yOffset = u * g.dilationHeight - g.paddingHeight
            let iValid = validRange(offset: yOffset, stride: SH, size: H, outputSize: OH)
            let lower = max(iValid.lowerBound, outputRows.lowerBound)
            let upper = min(iValid.upperBound, outputRows.upperBound)
            if lower >= upper { continue }
            for v in 0..<KW {
                let xOffset = v * g.dilationWidth - g.paddingWidth
                let js = validRange(offset: xOffset, stride: SW, size: W, outputSize: OW)
                if js.isEmpty { continue }
                let row = columns + ((c * KH + u) * KW + v) * ld
                for i in lower..<upper {
                    let src = row + (i - outputRows.lowerBound) * OW
                    let dst = plane + (i * SH + yOffset) * W + xOffset
                    if SW == 1 {
                        for j in js { dst[j] += src[j] }
                    } else {
                        for j in js { dst[j &* SW] += src[j] }
                    }
                }
            }
        }
    }

    /// Copies a chunk's `[Og × b·P]` staging matrix to the NCHW output planes of its images
    /// (**overwrites** them), adding `bias[o]` and applying `activation` on the way.
    static func scatter(
        staging: UnsafePointer<Float>, outputChannels Og: Int, plane P: Int, imageCount b: Int,
        output: UnsafeMutablePointer<Float>, imageStride: Int, bias: UnsafePointer<Float>?,
        activation: FusedActivation, context: ComputeContext
    ) {
        let src = SharedBuffer(readOnly: UnsafeBufferPointer(start: staging, count: Og * b * P))
        let dst = SharedBuffer(UnsafeMutableBufferPointer(start: output, count: (b - 1) * imageStride + Og * P))
        let biasShared = bias.map { SharedBuffer(readOnly: UnsafeBufferPointer(start: $0, count: Og)) }
        parallelFor(Og * b, elementsPerIndex: P, context: context) { range in
            for index in range {
                let o = index / b, t = index % b
                let from = src.base + o * b * P + t * P
                let to = dst.base + t * imageStride + o * P
                let beta = biasShared?[o] ?? 0
                activation.apply(from: from, to: to, count: P, bias: beta)
            }
        }
    }

    /// Copies the NCHW output-gradient planes of a chunk's images into a `[Og × b·P]` staging matrix.
    static func gather(
        outputGradient: UnsafePointer<Float>, imageStride: Int, outputChannels Og: Int, plane P: Int, imageCount b: Int,
        staging: UnsafeMutablePointer<Float>, context: ComputeContext
    ) {
        let src = SharedBuffer(readOnly: UnsafeBufferPointer(start: outputGradient, count: (b - 1) * imageStride + Og * P))
        let dst = SharedBuffer(UnsafeMutableBufferPointer(start: staging, count: Og * b * P))
        parallelFor(Og * b, elementsPerIndex: P, context: context) { range in
            for index in range {
                let o = index / b, t = index % b
                (dst.base + o * b * P + t * P).update(from: src.base + t * imageStride + o * P, count: P)
            }
        }
    }
}
