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
        if offset < 0 { lower = (-offset + stride - 1) / stride }
        let limit = size - offset                // need j·stride < limit
        let upper = limit <= 0 ? 0 : min(outputSize, (limit + stride - 1) / stride)
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
    static func pack(
        _ g: Conv2DGeometry, images: UnsafePointer<Float>, imageStride: Int, imageCount: Int,
        outputRows: Range<Int>, columns: UnsafeMutablePointer<Float>, context: ComputeContext
    ) {
        let rows = g.columnRows
        let block = outputRows.count * g.outputWidth
        let src = SharedBuffer(readOnly: UnsafeBufferPointer(start: images, count: (imageCount - 1) * imageStride + g.inputChannelsPerGroup * g.inputPlane))
        let dst = SharedBuffer(UnsafeMutableBufferPointer(start: columns, count: rows * imageCount * block))
        parallelFor(rows * imageCount, elementsPerIndex: block, context: context) { range in
            for index in range {
                let r = index / imageCount, t = index % imageCount
                packRow(g, image: src.base + t * imageStride, row: r, outputRows: outputRows,
                        out: dst.base + r * imageCount * block + t * block)
            }
        }
    }

    /// Writes one row `r = (c·KH + u)·KW + v` of one image's block: `R·OW` floats at `out`.
    @inline(__always)
    static func packRow(_ g: Conv2DGeometry, image: UnsafeMutablePointer<Float>, row r: Int,
                        outputRows: Range<Int>, out: UnsafeMutablePointer<Float>) {
        let H = g.inputHeight, W = g.inputWidth, OH = g.outputHeight, OW = g.outputWidth
        let KH = g.kernelHeight, KW = g.kernelWidth, SH = g.strideHeight, SW = g.strideWidth
        let c = r / (KH * KW), u = (r / KW) % KH, v = r % KW
        let plane = image + c * H * W
        let xOffset = v * g.dilationWidth - g.paddingWidth
        let yOffset = u * g.dilationHeight - g.paddingHeight
        let js = validRange(offset: xOffset, stride: SW, size: W, outputSize: OW)
        let iValid = validRange(offset: yOffset, stride: SH, size: H, outputSize: OH)
        var o = out
        for i in outputRows {
            defer { o += OW }
            if !iValid.contains(i) || js.isEmpty {
                o.update(repeating: 0, count: OW)
                continue
            }
            let line = plane + (i * SH + yOffset) * W + xOffset     // x = j·SW + xOffset
            if js.lowerBound > 0 { o.update(repeating: 0, count: js.lowerBound) }
            switch SW {
            case 1:
                (o + js.lowerBound).update(from: line + js.lowerBound, count: js.count)
            case 2:
                for j in js { o[j] = line[2 &* j] }
            case 4:
                for j in js { o[j] = line[4 &* j] }
            default:
                for j in js { o[j] = line[j &* SW] }
            }
            if js.upperBound < OW { (o + js.upperBound).update(repeating: 0, count: OW - js.upperBound) }
        }
    }

    /// col2im of a chunk: the adjoint of ``pack``. Adds each column entry into the pixel it
    /// was read from; with `zeroFirst`, the image planes are **overwritten** (zeroed, then summed
    /// into), otherwise the sums are **accumulated** into them (`+=`).
    /// Parallel over (channel, image) planes, each owned by one work item: no races.
    static func unpack(
        _ g: Conv2DGeometry, columns: UnsafePointer<Float>, outputRows: Range<Int>,
        images: UnsafeMutablePointer<Float>, imageStride: Int, imageCount: Int, zeroFirst: Bool,
        context: ComputeContext
    ) {
        let Cg = g.inputChannelsPerGroup
        let block = outputRows.count * g.outputWidth
        let src = SharedBuffer(readOnly: UnsafeBufferPointer(start: columns, count: g.columnRows * imageCount * block))
        let dst = SharedBuffer(UnsafeMutableBufferPointer(start: images, count: (imageCount - 1) * imageStride + Cg * g.inputPlane))
        parallelFor(Cg * imageCount, elementsPerIndex: g.kernelPlane * block, context: context) { range in
            for index in range {
                let c = index / imageCount, t = index % imageCount
                unpackPlane(g, columns: src.base + t * block, ld: imageCount * block, channel: c,
                            outputRows: outputRows, plane: dst.base + t * imageStride + c * g.inputPlane,
                            zeroFirst: zeroFirst)
            }
        }
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
