import ConvKitCKernels

/// The AVX-512 / AVX2 pooling kernels of `ConvKitCKernels` (`ck_pool.h`) behind ``PoolingAlgorithm/simd``.
///
/// Each function runs the C kernel over the `[n, c]` planes with `parallelFor` (the C code is
/// single-threaded over a range of planes) and returns `true`, or returns `false` without doing
/// anything when `context.simdLevel` is below what the kernel needs: the caller then runs the
/// portable Swift code. Results are bit-identical to the naive reference either way.
enum PoolingCKernels {
    /// Max pooling forward (with `indices`) or inference (`indices == nil`), AVX-512 or AVX2.
    static func maxForward(
        _ g: Pool2DGeometry, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        indices: UnsafeMutablePointer<Int32>?, context: ComputeContext
    ) -> Bool {
        guard context.simdLevel >= .avx2 else { return false }
        let avx512 = context.simdLevel >= .avx512
        let shape = g.cGeometry
        let x = SharedBuffer(readOnly: UnsafeBufferPointer(start: input, count: g.inputCount))
        let y = SharedBuffer(UnsafeMutableBufferPointer(start: output, count: g.outputCount))
        let k = indices.map { SharedBuffer(UnsafeMutableBufferPointer(start: $0, count: g.outputCount)) }
        let moved = g.inputPlane + (indices == nil ? 1 : 2) * g.outputPlane
        parallelFor(g.planes, elementsPerIndex: moved, context: context) { range in
            withUnsafePointer(to: shape) { shape in
                if avx512 {
                    ck_maxpool2d_forward_avx512(shape, x.base, y.base, k?.base, Int64(range.lowerBound), Int64(range.upperBound))
                } else {
                    ck_maxpool2d_forward_avx2(shape, x.base, y.base, k?.base, Int64(range.lowerBound), Int64(range.upperBound))
                }
            }
        }
        return true
    }

    /// Average pooling forward, AVX-512.
    static func averageForward(
        _ g: Pool2DGeometry, countPadding: Bool, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        context: ComputeContext
    ) -> Bool {
        guard context.simdLevel >= .avx512 else { return false }
        let shape = g.cGeometry
        let x = SharedBuffer(readOnly: UnsafeBufferPointer(start: input, count: g.inputCount))
        let y = SharedBuffer(UnsafeMutableBufferPointer(start: output, count: g.outputCount))
        parallelFor(g.planes, elementsPerIndex: g.inputPlane + g.outputPlane, context: context) { range in
            withUnsafePointer(to: shape) { shape in
                ck_avgpool2d_forward_avx512(shape, countPadding ? 1 : 0, x.base, y.base, Int64(range.lowerBound),
                                            Int64(range.upperBound))
            }
        }
        return true
    }
}

extension Pool2DGeometry {
    /// The per-plane shape as the C kernels take it.
    var cGeometry: ck_pool2d_geometry {
        ck_pool2d_geometry(
            input_height: Int64(inputHeight), input_width: Int64(inputWidth),
            output_height: Int64(outputHeight), output_width: Int64(outputWidth),
            window_height: Int64(windowHeight), window_width: Int64(windowWidth),
            stride_height: Int64(strideHeight), stride_width: Int64(strideWidth),
            padding_height: Int64(paddingHeight), padding_width: Int64(paddingWidth))
    }
}
