import ConvKitCKernels

/// Direct convolution for depthwise-style layers: every output channel reads exactly one input
/// channel (`inputChannels / groups == 1`, e.g. MobileNet's depthwise 3×3 with `groups == C`).
///
/// Lowering such a layer to GEMMs gives one tiny matrix product per channel (`1 × KH·KW` times
/// `KH·KW × OH·OW`), which BLAS runs far below its peak; the direct loops below stream each plane
/// once per kernel tap instead:
///
///     forward:         y[n,o,i,:] += w[o,u,v] · x[n,c,i·S − P + u·D, (:)·S − P + v·D]     (axpy per tap and row)
///     backwardData:    dx[n,c,y,(:)·S − P + v·D] += w[o,u,v] · dy[n,o,i,:]                (scatter-axpy per tap and row)
///     backwardFilter:  dw[o,u,v] = Σ_n Σ_i dot(dy[n,o,i,:], x[n,c,i·S − P + u·D, (:)·S − P + v·D])
///
/// with `c = o / (O/G)`. Work is split over `(image, output channel)` planes for the first two and
/// over output channels for the filter gradient (each sums its images in order), so results do
/// not depend on the thread count. No BLAS, no workspace.
///
/// From AVX2 on, the C row-strip kernels of `ck_dwconv.h` run instead (all taps of an output row
/// in registers, each output written once); the loops below are the portable path and the
/// fallback for rows too wide for the C kernels' stack scratch.
enum Conv2DDepthwise {
    static func supports(_ g: Conv2DGeometry) -> Bool { g.inputChannelsPerGroup == 1 }

    /// `true` when the C kernels run `direction` of `g` at `context`'s vector level.
    static func usesCKernels(_ g: Conv2DGeometry, _ direction: Conv2DDirection, _ context: ComputeContext) -> Bool {
        guard context.simdLevel >= .avx2 else { return false }
        var shape = g.depthwiseGeometry
        let code: Int32 = direction == .forward ? 0 : direction == .backwardData ? 1 : 2
        let floats = ck_dw_scratch_floats(&shape, code, Int64(g.outputChannelsPerGroup))
        return floats >= 0 && floats <= Int64(CK_DW_SCRATCH_FLOATS)
    }

    static func forward(
        _ g: Conv2DGeometry, input: UnsafePointer<Float>, filter: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        activation: FusedActivation, output: UnsafeMutablePointer<Float>, context: ComputeContext
    ) {
        let x = SharedBuffer(readOnly: UnsafeBufferPointer(start: input, count: g.inputCount))
        let w = SharedBuffer(readOnly: UnsafeBufferPointer(start: filter, count: g.filterCount))
        let y = SharedBuffer(UnsafeMutableBufferPointer(start: output, count: g.outputCount))
        let b = bias.map { SharedBuffer(readOnly: UnsafeBufferPointer(start: $0, count: g.outputChannels)) }
        let O = g.outputChannels, Og = g.outputChannelsPerGroup, C = g.inputChannels
        if usesCKernels(g, .forward, context) {
            let shape = g.depthwiseGeometry, avx512 = context.simdLevel >= .avx512, relu: Int32 = activation == .relu ? 1 : 0
            parallelFor(g.batch * O, elementsPerIndex: g.outputPlane * g.kernelPlane, context: context) { range in
                withUnsafePointer(to: shape) { shape in
                    let p0 = Int64(range.lowerBound), p1 = Int64(range.upperBound)
                    if avx512 {
                        ck_dw_forward_avx512(shape, x.base, w.base, b?.base, relu, y.base, Int64(O), Int64(Og), p0, p1)
                    } else {
                        ck_dw_forward_avx2(shape, x.base, w.base, b?.base, relu, y.base, Int64(O), Int64(Og), p0, p1)
                    }
                }
            }
            return
        }
        parallelFor(g.batch * O, elementsPerIndex: g.outputPlane * g.kernelPlane, context: context) { range in
            for index in range {
                let n = index / O, o = index % O, c = o / Og
                let plane = y.base + index * g.outputPlane
                plane.update(repeating: b?[o] ?? 0, count: g.outputPlane)
                forwardPlane(g, input: x.base + (n * C + c) * g.inputPlane, filter: w.base + o * g.kernelPlane, output: plane)
                if activation != .identity {
                    activation.apply(from: plane, to: plane, count: g.outputPlane, bias: 0)
                }
            }
        }
    }

    /// `out[i][j] += Σ_u Σ_v w[u][v] · in[i·S − P + u·D][j·S − P + v·D]` for one plane.
    @inline(__always)
    static func forwardPlane(_ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>, filter: UnsafeMutablePointer<Float>,
                             output: UnsafeMutablePointer<Float>) {
        let H = g.inputHeight, W = g.inputWidth, OH = g.outputHeight, OW = g.outputWidth
        let SW = g.strideWidth
        for u in 0..<g.kernelHeight {
            let yOffset = u * g.dilationHeight - g.paddingHeight
            let rows = Im2col.validRange(offset: yOffset, stride: g.strideHeight, size: H, outputSize: OH)
            for v in 0..<g.kernelWidth {
                let weight = filter[u * g.kernelWidth + v]
                let xOffset = v * g.dilationWidth - g.paddingWidth
                let js = Im2col.validRange(offset: xOffset, stride: SW, size: W, outputSize: OW)
                if js.isEmpty { continue }
                for i in rows {
                    let src = input + (i * g.strideHeight + yOffset) * W + xOffset
                    let dst = output + i * OW
                    if SW == 1 {
                        axpy(weight, src + js.lowerBound, dst + js.lowerBound, js.count)
                    } else {
                        for j in js { dst[j] += weight * src[j &* SW] }
                    }
                }
            }
        }
    }

    /// `y[k] += a · x[k]` for `k < count`, eight lanes at a time.
    @inline(__always)
    static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        var k = 0
        let av = SIMD8<Float>(repeating: a)
        while k + 8 <= count {
            let xv = UnsafeRawPointer(x + k).loadUnaligned(as: SIMD8<Float>.self)
            let yv = UnsafeRawPointer(y + k).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(y + k).storeBytes(of: yv + av * xv, as: SIMD8<Float>.self)
            k += 8
        }
        while k < count { y[k] += a * x[k]; k += 1 }
    }

    /// `Σ_k x[k]·y[k]` with eight partial sums (fixed order, so deterministic).
    @inline(__always)
    static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ count: Int) -> Float {
        var k = 0
        var acc = SIMD8<Float>()
        while k + 8 <= count {
            acc += UnsafeRawPointer(x + k).loadUnaligned(as: SIMD8<Float>.self)
                 * UnsafeRawPointer(y + k).loadUnaligned(as: SIMD8<Float>.self)
            k += 8
        }
        var sum = acc.sum()
        while k < count { sum += x[k] * y[k]; k += 1 }
        return sum
    }

    static func backwardData(
        _ g: Conv2DGeometry, outputGradient: UnsafePointer<Float>, filter: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, context: ComputeContext
    ) {
        let dy = SharedBuffer(readOnly: UnsafeBufferPointer(start: outputGradient, count: g.outputCount))
        let w = SharedBuffer(readOnly: UnsafeBufferPointer(start: filter, count: g.filterCount))
        let dx = SharedBuffer(UnsafeMutableBufferPointer(start: inputGradient, count: g.inputCount))
        let C = g.inputChannels, O = g.outputChannels, Og = g.outputChannelsPerGroup
        let H = g.inputHeight, W = g.inputWidth, OH = g.outputHeight, OW = g.outputWidth, SW = g.strideWidth
        if usesCKernels(g, .backwardData, context) {
            let shape = g.depthwiseGeometry, avx512 = context.simdLevel >= .avx512
            parallelFor(g.batch * C, elementsPerIndex: Og * g.outputPlane * g.kernelPlane, context: context) { range in
                withUnsafePointer(to: shape) { shape in
                    let p0 = Int64(range.lowerBound), p1 = Int64(range.upperBound)
                    if avx512 {
                        ck_dw_backward_data_avx512(shape, dy.base, w.base, dx.base, Int64(C), Int64(Og), p0, p1)
                    } else {
                        ck_dw_backward_data_avx2(shape, dy.base, w.base, dx.base, Int64(C), Int64(Og), p0, p1)
                    }
                }
            }
            return
        }
        // Each (image, input channel) plane is owned by one work item; it gathers from its Og outputs.
        parallelFor(g.batch * C, elementsPerIndex: Og * g.outputPlane * g.kernelPlane, context: context) { range in
            for index in range {
                let n = index / C, c = index % C
                let plane = dx.base + index * g.inputPlane
                plane.update(repeating: 0, count: g.inputPlane)
                for o in (c * Og)..<((c + 1) * Og) {
                    let gradient = dy.base + (n * O + o) * g.outputPlane
                    let weights = w.base + o * g.kernelPlane
                    for u in 0..<g.kernelHeight {
                        let yOffset = u * g.dilationHeight - g.paddingHeight
                        let rows = Im2col.validRange(offset: yOffset, stride: g.strideHeight, size: H, outputSize: OH)
                        for v in 0..<g.kernelWidth {
                            let weight = weights[u * g.kernelWidth + v]
                            let xOffset = v * g.dilationWidth - g.paddingWidth
                            let js = Im2col.validRange(offset: xOffset, stride: SW, size: W, outputSize: OW)
                            if js.isEmpty { continue }
                            for i in rows {
                                let dst = plane + (i * g.strideHeight + yOffset) * W + xOffset
                                let src = gradient + i * OW
                                if SW == 1 {
                                    axpy(weight, src + js.lowerBound, dst + js.lowerBound, js.count)
                                } else {
                                    for j in js { dst[j &* SW] += weight * src[j] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    static func backwardFilter(
        _ g: Conv2DGeometry, input: UnsafePointer<Float>, outputGradient: UnsafeBufferPointer<Float>,
        filterGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutableBufferPointer<Float>?,
        accumulate: Bool, context: ComputeContext
    ) {
        let x = SharedBuffer(readOnly: UnsafeBufferPointer(start: input, count: g.inputCount))
        let dy = SharedBuffer(readOnly: outputGradient)
        let dw = SharedBuffer(UnsafeMutableBufferPointer(start: filterGradient, count: g.filterCount))
        let C = g.inputChannels, O = g.outputChannels, Og = g.outputChannelsPerGroup
        let H = g.inputHeight, W = g.inputWidth, OH = g.outputHeight, OW = g.outputWidth, SW = g.strideWidth
        if usesCKernels(g, .backwardFilter, context) {
            let shape = g.depthwiseGeometry, avx512 = context.simdLevel >= .avx512, add: Int32 = accumulate ? 1 : 0
            parallelFor(O, elementsPerIndex: g.batch * g.outputPlane * g.kernelPlane, context: context) { range in
                withUnsafePointer(to: shape) { shape in
                    let o0 = Int64(range.lowerBound), o1 = Int64(range.upperBound), N = Int64(g.batch)
                    if avx512 {
                        ck_dw_backward_filter_avx512(shape, x.base, dy.base, dw.base, N, Int64(O), Int64(Og), add, o0, o1)
                    } else {
                        ck_dw_backward_filter_avx2(shape, x.base, dy.base, dw.base, N, Int64(O), Int64(Og), add, o0, o1)
                    }
                }
            }
        } else {
            parallelFor(O, elementsPerIndex: g.batch * g.outputPlane * g.kernelPlane, context: context) { range in
                for o in range {
                    let c = o / Og
                    for u in 0..<g.kernelHeight {
                        let yOffset = u * g.dilationHeight - g.paddingHeight
                        let rows = Im2col.validRange(offset: yOffset, stride: g.strideHeight, size: H, outputSize: OH)
                        for v in 0..<g.kernelWidth {
                            let xOffset = v * g.dilationWidth - g.paddingWidth
                            let js = Im2col.validRange(offset: xOffset, stride: SW, size: W, outputSize: OW)
                            var sum: Float = 0
                            if !js.isEmpty {
                                for n in 0..<g.batch {
                                    let gradient = dy.base + (n * O + o) * g.outputPlane
                                    let plane = x.base + (n * C + c) * g.inputPlane
                                    for i in rows {
                                        let src = plane + (i * g.strideHeight + yOffset) * W + xOffset
                                        let d = gradient + i * OW
                                        if SW == 1 {
                                            sum += dot(d + js.lowerBound, src + js.lowerBound, js.count)
                                        } else {
                                            var partial: Float = 0
                                            for j in js { partial += d[j] * src[j &* SW] }
                                            sum += partial
                                        }
                                    }
                                }
                            }
                            let k = o * g.kernelPlane + u * g.kernelWidth + v
                            dw[k] = accumulate ? dw[k] + sum : sum
                        }
                    }
                }
            }
        }
        if let biasGradient {
            BiasKernel.reducePerChannel(outputGradient, into: biasGradient, batch: g.batch, channels: O,
                                        plane: OH * OW, accumulate: accumulate, context: context)
        }
    }
}

extension Conv2DGeometry {
    /// The per-plane shape as the depthwise C kernels take it.
    var depthwiseGeometry: ck_dw_geometry {
        ck_dw_geometry(
            input_height: Int64(inputHeight), input_width: Int64(inputWidth),
            output_height: Int64(outputHeight), output_width: Int64(outputWidth),
            kernel_height: Int64(kernelHeight), kernel_width: Int64(kernelWidth),
            stride_height: Int64(strideHeight), stride_width: Int64(strideWidth),
            padding_height: Int64(paddingHeight), padding_width: Int64(paddingWidth),
            dilation_height: Int64(dilationHeight), dilation_width: Int64(dilationWidth))
    }
}
