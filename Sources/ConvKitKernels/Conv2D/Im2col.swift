/// Lowering between one image's channels and the column matrix of a convolution.
///
/// For one image and one group of `Cg` channels, the column matrix has
/// `Cg·KH·KW` rows and `OH·OW` columns (row-major):
///
///     columns[(c·KH + u)·KW + v][i·OW + j] = input[c][i·S − P + u·D][j·S − P + v·D]   (0 outside the image)
///
/// so that the forward convolution of the group is `filter[Og × Cg·KH·KW] · columns`.
/// ``pack`` (im2col) overwrites the columns; ``unpack`` (col2im) is its adjoint and
/// **overwrites** the image with the sum of every column entry that was read from each pixel.
enum Im2col {
    /// The valid output-column range `j` for which `x = j·S − P + v·D` lies in `0..<W`.
    @inline(__always)
    static func validRange(offset: Int, stride: Int, size: Int, outputSize: Int) -> Range<Int> {
        // x = j·stride + offset; need 0 <= x < size.
        var lower = 0
        if offset < 0 { lower = (-offset + stride - 1) / stride }
        var upper = outputSize
        let limit = size - offset            // need j·stride < limit
        if limit <= 0 { upper = 0 } else { upper = min(outputSize, (limit + stride - 1) / stride) }
        return lower..<max(lower, upper)
    }

    /// im2col: `image` is `[Cg, H, W]`, `columns` is `[Cg·KH·KW, OH·OW]`, overwritten.
    static func pack(
        _ g: Conv2DGeometry, image: UnsafePointer<Float>, columns: UnsafeMutablePointer<Float>,
        context: ComputeContext
    ) {
        let rows = g.columnRows
        let img = SharedBuffer(readOnly: UnsafeBufferPointer(start: image, count: g.inputChannelsPerGroup * g.inputPlane))
        let cols = SharedBuffer(UnsafeMutableBufferPointer(start: columns, count: rows * g.columnCols))
        parallelFor(rows, elementsPerIndex: g.columnCols, context: context) { range in
            packRows(g, image: img.base, columns: cols.base, rows: range)
        }
    }

    @inline(__always)
    static func packRows(_ g: Conv2DGeometry, image: UnsafeMutablePointer<Float>, columns: UnsafeMutablePointer<Float>,
                         rows: Range<Int>) {
        let H = g.inputHeight, W = g.inputWidth, OH = g.outputHeight, OW = g.outputWidth
        let KH = g.kernelHeight, KW = g.kernelWidth
        let SH = g.strideHeight, SW = g.strideWidth
        for r in rows {
            let c = r / (KH * KW), u = (r / KW) % KH, v = r % KW
            let plane = image + c * H * W
            let rowOut = columns + r * OH * OW
            let xOffset = v * g.dilationWidth - g.paddingWidth
            let js = validRange(offset: xOffset, stride: SW, size: W, outputSize: OW)
            let yOffset = u * g.dilationHeight - g.paddingHeight
            let iRange = validRange(offset: yOffset, stride: SH, size: H, outputSize: OH)
            for i in 0..<OH {
                let out = rowOut + i * OW
                if !iRange.contains(i) {
                    out.update(repeating: 0, count: OW)
                    continue
                }
                let src = plane + (i * SH + yOffset) * W
                if js.lowerBound > 0 { out.update(repeating: 0, count: js.lowerBound) }
                if SW == 1 {
                    if !js.isEmpty { (out + js.lowerBound).update(from: src + js.lowerBound + xOffset, count: js.count) }
                } else {
                    for j in js { out[j] = src[j * SW + xOffset] }
                }
                if js.upperBound < OW { (out + js.upperBound).update(repeating: 0, count: OW - js.upperBound) }
            }
        }
    }

    /// col2im: `columns` is `[Cg·KH·KW, OH·OW]`, `image` is `[Cg, H, W]`, **overwritten** with
    /// the adjoint of ``pack(_:image:columns:context:)`` (overlapping windows add up).
    /// Parallel over channels, each of which owns its plane (no races).
    static func unpack(
        _ g: Conv2DGeometry, columns: UnsafePointer<Float>, image: UnsafeMutablePointer<Float>,
        context: ComputeContext
    ) {
        let Cg = g.inputChannelsPerGroup
        let cols = SharedBuffer(readOnly: UnsafeBufferPointer(start: columns, count: g.columnRows * g.columnCols))
        let img = SharedBuffer(UnsafeMutableBufferPointer(start: image, count: Cg * g.inputPlane))
        parallelFor(Cg, elementsPerIndex: g.kernelPlane * g.columnCols, context: context) { channels in
            unpackChannels(g, columns: cols.base, image: img.base, channels: channels)
        }
    }

    @inline(__always)
    static func unpackChannels(_ g: Conv2DGeometry, columns: UnsafeMutablePointer<Float>, image: UnsafeMutablePointer<Float>,
                               channels: Range<Int>) {
        let H = g.inputHeight, W = g.inputWidth, OH = g.outputHeight, OW = g.outputWidth
        let KH = g.kernelHeight, KW = g.kernelWidth
        let SH = g.strideHeight, SW = g.strideWidth
        for c in channels {
            let plane = image + c * H * W
            plane.update(repeating: 0, count: H * W)
            for u in 0..<KH {
                let yOffset = u * g.dilationHeight - g.paddingHeight
                let iRange = validRange(offset: yOffset, stride: SH, size: H, outputSize: OH)
                for v in 0..<KW {
                    let xOffset = v * g.dilationWidth - g.paddingWidth
                    let js = validRange(offset: xOffset, stride: SW, size: W, outputSize: OW)
                    if js.isEmpty { continue }
                    let row = columns + ((c * KH + u) * KW + v) * OH * OW
                    for i in iRange {
                        let src = row + i * OW
                        let dst = plane + (i * SH + yOffset) * W + xOffset
                        if SW == 1 {
                            for j in js { dst[j] += src[j] }
                        } else {
                            for j in js { dst[j * SW] += src[j] }
                        }
                    }
                }
            }
        }
    }
}
