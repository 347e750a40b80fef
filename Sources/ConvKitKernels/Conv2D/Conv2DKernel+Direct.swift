import ConvKitCKernels

/// Direct convolution for small-channel layers (LeNet-5's C1/C3): AVX-512 C kernels that compute
/// the convolution from the input itself, with no im2col copy and no GEMM.
///
/// With few input channels the GEMMs of im2col are tiny and skinny (LeNet C3: M = 16, N = 100,
/// K = 150 per image) and the lowering copy costs as much as the arithmetic. The C kernels
/// (`ck_conv_direct.h`) view each input channel as a flat vector over the output positions
/// `q = i·Ws + j` (after a zero-padded, stride-phase rearrangement when the layer pads or strides)
/// and run 16-lane FMAs over `q`:
///
///     forward:         y[n,o,i,j]  = f( b[o] + Σ_c Σ_u Σ_v w[o,c,u,v] · x[n,c,i·S − P + u·D, j·S − P + v·D] )
///     backwardFilter:  dw[o,c,u,v] (+)= Σ_n Σ_i Σ_j dy[n,o,i,j] · x[n,c,i·S − P + u·D, j·S − P + v·D]
///                      db[o]       (+)= Σ_n Σ_i Σ_j dy[n,o,i,j]     (summed by the same C kernel)
///
/// backwardData of a stride-1 layer is itself a forward convolution (the transposed
/// convolution, with the same dilation D), run by the same forward kernel:
///
///     dx[n,c,y,x] = Σ_o Σ_u Σ_v dy[n,o,y − (D·(KH−1)−P) + u·D, x − (D·(KW−1)−P) + v·D] · w'[c,o,u,v],
///     w'[c,o,u,v] = w[o,c,KH−1−u,KW−1−v]      (padding D·(K−1)−P; needs P <= D·(K−1))
///
/// with the flipped, transposed filter `w'` written at the start of the workspace. Other layers
/// run ``Conv2DIm2col`` for backwardData.
///
/// Threading: `context.threads` workers over contiguous ranges of images, each calling the
/// single-threaded C kernel on its own slice of the workspace. Forward results do not depend on
/// the split; backwardFilter sums each worker's images in order into a per-worker partial, then
/// adds the partials in worker order, so a given thread count always gives the same bits (and
/// other counts differ only by rounding).
///
/// Applies to ungrouped layers (any stride, padding, dilation) when the CPU has AVX-512 and the
/// per-worker workspace stays under the cap; with `context.simdLevel` below AVX-512 the call runs
/// ``Conv2DIm2col`` (the portable path) within the same workspace.
enum Conv2DDirect {
    /// The vector instructions the C kernels need.
    static let requiredLevel: SIMDLevel = .avx512

    /// ``Conv2DAlgorithm/automatic`` picks direct up to this reduction length `C·KH·KW` (AlexNet
    /// C2's 2400): up to there direct at least matches im2col's GEMMs, whose small, skinny shapes
    /// run below OpenBLAS's peak (figures: docs/decisions/Decisions.md, "Algorithm choice").
    static let automaticMaxReduction = 2400

    /// ``Conv2DAlgorithm/automatic`` runs direct's backwardData (a forward pass over the input's
    /// channels) only with at least this many input channels per group: fewer leave most of the
    /// kernel's 16-lane channel blocks or 8-channel register blocks empty (VGG's and the stems'
    /// 3 channels ran 1.5× slower than im2col).
    static let automaticMinBackwardDataChannels = 16

    /// ``Conv2DAlgorithm/automatic`` runs direct's backwardData and backwardFilter only on calls
    /// with at least this many output positions (`batch·OH·OW`): with fewer (one 7×7 or 14×14 image)
    /// the per-call work on the whole filter (the flipped copy, the per-worker partial sums) is
    /// not amortised, and im2col's single GEMM ran 1.1–2.5× faster (ResNet's 256-channel 3×3 at
    /// batch 1; figures: docs/decisions/Decisions.md, "Late-stage 3×3 layers").
    static let automaticMinBackwardPositions = 256

    /// Largest per-worker workspace (floats) the algorithm accepts: the default cap of a call (32 MiB).
    static let perWorkerCapFloats = Conv2DLoweringPlan.defaultWorkspaceCapBytes / MemoryLayout<Float>.stride

    /// Largest stride the phase-plane layout takes (larger strides run ``Conv2DIm2col``).
    static let maxStride = 64

    static func supports(_ g: Conv2DGeometry) -> Bool {
        g.groups == 1 && SIMDLevel.detected >= requiredLevel && g.kernelPlane <= 1024
            && layoutFits(g)
            && perWorker(g, direction: .forward) <= perWorkerCapFloats
            && perWorker(g, direction: .backwardFilter) <= perWorkerCapFloats
    }

    /// `true` when the C kernels' Int64 layout arithmetic cannot overflow: strides up to
    /// ``maxStride`` and the prepared input (`C` phase-split padded planes) under the per-worker cap.
    static func layoutFits(_ g: Conv2DGeometry) -> Bool {
        guard g.strideHeight <= maxStride, g.strideWidth <= maxStride else { return false }
        // The geometry checked that H + 2·P fits; strides are small here.
        let rows = g.inputHeight + 2 * g.paddingHeight, cols = g.inputWidth + 2 * g.paddingWidth
        guard rows <= perWorkerCapFloats, cols <= perWorkerCapFloats else { return false }
        let plane = (rows + g.strideHeight).multipliedReportingOverflow(by: cols + g.strideWidth)
        guard !plane.overflow else { return false }
        let all = plane.partialValue.multipliedReportingOverflow(by: g.inputChannels)
        return !all.overflow && all.partialValue <= perWorkerCapFloats
    }

    static func shape(_ g: Conv2DGeometry) -> ck_conv_shape {
        ck_conv_shape(channels: Int64(g.inputChannels), height: Int64(g.inputHeight), width: Int64(g.inputWidth),
                      out_channels: Int64(g.outputChannels), out_height: Int64(g.outputHeight),
                      out_width: Int64(g.outputWidth), kernel_height: Int64(g.kernelHeight),
                      kernel_width: Int64(g.kernelWidth), stride_height: Int64(g.strideHeight),
                      stride_width: Int64(g.strideWidth), padding_height: Int64(g.paddingHeight),
                      padding_width: Int64(g.paddingWidth), dilation_height: Int64(g.dilationHeight),
                      dilation_width: Int64(g.dilationWidth))
    }

    /// Floats per worker: the C kernel's workspace (plus, for backwardFilter, the worker's partial
    /// filter and bias gradients), rounded to 16 floats.
    /// For a single image, the most any channel slice a split can give needs (a slice may take the
    /// other C kernel, whose workspace differs).
    static func perWorker(_ g: Conv2DGeometry, direction: Conv2DDirection) -> Int {
        func kernelFloats(_ s: inout ck_conv_shape) -> Int {
            direction == .forward ? Int(ck_conv_direct_forward_workspace(&s)) : Int(ck_conv_direct_backward_filter_workspace(&s))
        }
        if direction == .backwardData { return transposed(g).map { perWorker($0, direction: .forward) } ?? 0 }
        var s = shape(g)
        var most = kernelFloats(&s)
        if g.batch == 1 {
            for count in sliceCounts(g) {
                var t = s
                t.out_channels = Int64(count)
                most = max(most, kernelFloats(&t))
            }
        }
        let partial = direction == .backwardFilter ? partialCount(g) : 0
        return (most + partial + 15) / 16 * 16
    }

    /// The channel counts ``channelSlice(_:worker:workers:)`` can give, over every worker count a
    /// context allows (at most 256).
    static func sliceCounts(_ g: Conv2DGeometry) -> Set<Int> {
        let blocks = channelBlocks(g), tail = blocks * channelBlock - g.outputChannels
        var counts = Set<Int>()
        for workers in 2...max(2, min(blocks, 256)) {
            for k in [blocks / workers, (blocks + workers - 1) / workers] where k >= 1 {
                counts.insert(k * channelBlock)
                if k * channelBlock - tail >= 1 { counts.insert(k * channelBlock - tail) }
            }
        }
        return counts
    }

    /// The forward convolution that computes `g`'s input gradient (see the type's documentation),
    /// or `nil` when `g` is strided or grouped or pads by more than its dilated kernel's reach
    /// `D·(K − 1)`. The transposed convolution keeps the dilation `D` and pads by `D·(K − 1) − P`.
    static func transposed(_ g: Conv2DGeometry) -> Conv2DGeometry? {
        let reachHeight = g.dilationHeight * (g.kernelHeight - 1), reachWidth = g.dilationWidth * (g.kernelWidth - 1)
        guard g.groups == 1, g.strideHeight == 1, g.strideWidth == 1,
              g.paddingHeight <= reachHeight, g.paddingWidth <= reachWidth else { return nil }
        return try? Conv2DGeometry(
            batch: g.batch, inputChannels: g.outputChannels, inputHeight: g.outputHeight, inputWidth: g.outputWidth,
            outputChannels: g.inputChannels, kernelHeight: g.kernelHeight, kernelWidth: g.kernelWidth,
            paddingHeight: reachHeight - g.paddingHeight, paddingWidth: reachWidth - g.paddingWidth,
            dilationHeight: g.dilationHeight, dilationWidth: g.dilationWidth)
    }

    /// `true` when backwardData runs the direct kernel (on the transposed convolution).
    static func supportsBackwardData(_ g: Conv2DGeometry) -> Bool {
        guard supports(g), let t = transposed(g) else { return false }
        return t.inputHeight == g.outputHeight && t.outputHeight == g.inputHeight && t.outputWidth == g.inputWidth
            && supports(t)
    }

    /// Floats of the flipped filter at the start of a backwardData workspace.
    static func flippedCount(_ g: Conv2DGeometry) -> Int { (g.filterCount + 15) / 16 * 16 }

    /// A worker's partial gradients: `[O, C, KH, KW]` then `[O]`.
    static func partialCount(_ g: Conv2DGeometry) -> Int { (g.filterCount + g.outputChannels + 15) / 16 * 16 }

    /// One worker per available core (at most one per image, or per channel block of a single image,
    /// and as many as fit in `capBytes`, at least one); at least what ``Conv2DIm2col`` needs to run one output row at a time, so that
    /// the portable fallback fits in it.
    static func workspaceCount(_ g: Conv2DGeometry, direction: Conv2DDirection, capBytes: Int) -> Int {
        let per = perWorker(g, direction: direction)
        let fixed = direction == .backwardData ? flippedCount(g) : 0
        let fit = max(1, (capBytes / MemoryLayout<Float>.stride - fixed) / max(1, per))
        let units = g.batch == 1 ? channelBlocks(g) : g.batch
        let direct = fixed + per * min(units, ComputeContext.availableCores, fit)
        let im2colRow = g.isPointwise ? 0 : g.columnRows * g.outputWidth
        return max(direct, im2colRow)
    }

    /// Workers for a call: at most `context.threads`, one per image, as many as fit in the workspace,
    /// and one per `context.minimumElementsPerThread ×` ``flopsPerElement`` flops of arithmetic
    /// (12.6 MFLOP with the default context: below that, waking a second thread costs more than it
    /// saves; figures: docs/decisions/Decisions.md, "direct's workers"). A context with
    /// `minimumElementsPerThread: 1` splits any call, as the tests do. `workScale` weighs each flop
    /// (backwardData's transposed convolution passes 4: it runs at a third to a half of the
    /// forward rate).
    static func workers(_ g: Conv2DGeometry, direction: Conv2DDirection, workspace: Int, context: ComputeContext,
                        workScale: Double = 1) -> Int {
        let byWork = max(1, Int(workScale * g.flops / (Double(context.minimumElementsPerThread) * flopsPerElement)))
        let units = g.batch == 1 ? channelBlocks(g) : g.batch
        return max(1, min(context.threads, units, byWork, workspace / perWorker(g, direction: direction)))
    }

    /// A single image is split over its output channels instead, in whole blocks of this many
    /// (the C kernels' channel-block width), so that batch-1 calls use every worker.
    static let channelBlock = 16

    static func channelBlocks(_ g: Conv2DGeometry) -> Int { (g.outputChannels + channelBlock - 1) / channelBlock }

    /// Output channels `o0 ..< o1` of worker `worker` of `workers` (whole blocks, in order).
    static func channelSlice(_ g: Conv2DGeometry, worker: Int, workers: Int) -> Range<Int> {
        let blocks = channelBlocks(g)
        let lower = worker * blocks / workers * channelBlock, upper = (worker + 1) * blocks / workers * channelBlock
        return min(lower, g.outputChannels)..<min(upper, g.outputChannels)
    }

    /// The C shape of output channels `slice` of `g` (one image).
    static func shape(_ g: Conv2DGeometry, outputChannels slice: Range<Int>) -> ck_conv_shape {
        var s = shape(g)
        s.out_channels = Int64(slice.count)
        return s
    }

    /// Flops of a direct convolution that weigh as much as one element of an element-wise loop
    /// in ``ComputeContext/minimumElementsPerThread`` (a worker's minimum share of the work).
    static let flopsPerElement = 384.0

    /// `true` when `workspace` floats run `direction` (at least one worker).
    static func workspaceSuffices(_ g: Conv2DGeometry, direction: Conv2DDirection, workspace: Int) -> Bool {
        direction == .backwardData
            ? workspace >= flippedCount(g) + perWorker(g, direction: .backwardData)
            : workspace >= perWorker(g, direction: direction)
    }

    /// Input gradient through the transposed convolution (requires ``supportsBackwardData(_:)``);
    /// **overwrites** `inputGradient`.
    static func backwardData(
        _ g: Conv2DGeometry, outputGradient: UnsafePointer<Float>, filter: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, workspace: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        guard let t = transposed(g), let base = workspace.baseAddress else { requireFailed("direct backwardData on \(g)") }
        // w'[c,o,u,v] = w[o,c,KH−1−u,KW−1−v]   (w: [O, C, KH, KW], w': [C, O, KH, KW])
        let O = g.outputChannels, C = g.inputChannels, KH = g.kernelHeight, KW = g.kernelWidth, KK = KH * KW
        for c in 0..<C {
            for o in 0..<O {
                let from = filter + (o * C + c) * KK, to = base + (c * O + o) * KK
                for k in 0..<KK { to[k] = from[KK - 1 - k] }
            }
        }
        let fixed = flippedCount(g)
        let rest = UnsafeMutableBufferPointer(start: base + fixed, count: workspace.count - fixed)
        forward(t, input: outputGradient, filter: base, bias: nil, activation: .identity, output: inputGradient,
                workspace: rest, context: context, workScale: 4)
    }

    static func forward(
        _ g: Conv2DGeometry, input: UnsafePointer<Float>, filter: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        activation: FusedActivation, output: UnsafeMutablePointer<Float>,
        workspace: UnsafeMutableBufferPointer<Float>, context: ComputeContext, workScale: Double = 1
    ) {
        let workers = workers(g, direction: .forward, workspace: workspace.count, context: context, workScale: workScale)
        let per = perWorker(g, direction: .forward)
        let x = SharedBuffer(readOnly: UnsafeBufferPointer(start: input, count: g.inputCount))
        let w = SharedBuffer(readOnly: UnsafeBufferPointer(start: filter, count: g.filterCount))
        let y = SharedBuffer(UnsafeMutableBufferPointer(start: output, count: g.outputCount))
        let b = bias.map { SharedBuffer(readOnly: UnsafeBufferPointer(start: $0, count: g.outputChannels)) }
        let ws = SharedBuffer(workspace)
        let relu: Int32 = activation == .relu ? 1 : 0
        let inputImage = g.inputChannels * g.inputPlane, outputImage = g.outputChannels * g.outputPlane
        if g.batch == 1 && workers > 1 {
            // One image: each worker computes a slice of whole output-channel blocks.
            let filterPerChannel = g.inputChannels * g.kernelPlane
            Conv2DImageParallel.eachWorker(workers, workers: workers, context: context) { worker, _ in
                let slice = channelSlice(g, worker: worker, workers: workers)
                if slice.isEmpty { return }
                var s = shape(g, outputChannels: slice)
                require(Int(ck_conv_direct_forward_workspace(&s)) <= per, "direct: a channel slice needs more workspace than the whole layer")
                ck_conv_direct_forward_avx512(&s, x.base, w.base + slice.lowerBound * filterPerChannel, b.map { $0.base + slice.lowerBound },
                                              relu, y.base + slice.lowerBound * g.outputPlane, 1, ws.base + worker * per)
            }
            return
        }
        Conv2DImageParallel.eachWorker(g.batch, workers: workers, context: context) { worker, images in
            var s = shape(g)
            ck_conv_direct_forward_avx512(&s, x.base + images.lowerBound * inputImage, w.base, b?.base, relu,
                                          y.base + images.lowerBound * outputImage, Int64(images.count),
                                          ws.base + worker * per)
        }
    }

    static func backwardFilter(
        _ g: Conv2DGeometry, input: UnsafePointer<Float>, outputGradient: UnsafeBufferPointer<Float>,
        filterGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutableBufferPointer<Float>?,
        accumulate: Bool, workspace: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        let workers = workers(g, direction: .backwardFilter, workspace: workspace.count, context: context)
        let per = perWorker(g, direction: .backwardFilter)
        let partialOffset = per - partialCount(g)   // each worker's [O, C, KH, KW] and [O] sums
        let x = SharedBuffer(readOnly: UnsafeBufferPointer(start: input, count: g.inputCount))
        let dy = SharedBuffer(readOnly: outputGradient)
        let ws = SharedBuffer(workspace)
        let inputImage = g.inputChannels * g.inputPlane, outputImage = g.outputChannels * g.outputPlane
        let withBias = biasGradient != nil
        if g.batch == 1 && workers > 1 {
            // One image: each worker sums a slice of whole output-channel blocks straight into worker
            // 0's partial sums (disjoint parts); its scratch is the start of its own slice.
            let filterPerChannel = g.inputChannels * g.kernelPlane
            let partials = SharedBuffer(UnsafeMutableBufferPointer(start: ws.base + partialOffset, count: partialCount(g)))
            Conv2DImageParallel.eachWorker(workers, workers: workers, context: context) { worker, _ in
                let partial = partials.base
                let slice = channelSlice(g, worker: worker, workers: workers)
                if slice.isEmpty { return }
                var s = shape(g, outputChannels: slice)
                require(Int(ck_conv_direct_backward_filter_workspace(&s)) <= partialOffset,
                        "direct: a channel slice needs more workspace than the whole layer")
                ck_conv_direct_backward_filter_avx512(&s, x.base, dy.base + slice.lowerBound * g.outputPlane, 1,
                                                      partial + slice.lowerBound * filterPerChannel,
                                                      withBias ? partial + g.filterCount + slice.lowerBound : nil,
                                                      ws.base + worker * per)
            }
            let partial = partials.base
            for i in 0..<g.filterCount { filterGradient[i] = accumulate ? filterGradient[i] + partial[i] : partial[i] }
            if let db = biasGradient?.baseAddress {
                for o in 0..<g.outputChannels {
                    db[o] = accumulate ? db[o] + partial[g.filterCount + o] : partial[g.filterCount + o]
                }
            }
            return
        }
        Conv2DImageParallel.eachWorker(g.batch, workers: workers, context: context) { worker, images in
            var s = shape(g)
            let slice = ws.base + worker * per
            let partial = slice + partialOffset
            ck_conv_direct_backward_filter_avx512(&s, x.base + images.lowerBound * inputImage,
                                                  dy.base + images.lowerBound * outputImage, Int64(images.count),
                                                  partial, withBias ? partial + g.filterCount : nil, slice)
        }
        // dW (+)= Σ_w partial_w, workers in order: the same order for a given worker count (bias alike).
        func reduce(_ target: UnsafeMutablePointer<Float>, offset: Int, count: Int) {
            for i in 0..<count {
                var sum = ws.base[partialOffset + offset + i]
                for worker in 1..<max(1, workers) { sum += ws.base[worker * per + partialOffset + offset + i] }
                target[i] = accumulate ? target[i] + sum : sum
            }
        }
        reduce(filterGradient, offset: 0, count: g.filterCount)
        if let db = biasGradient?.baseAddress { reduce(db, offset: g.filterCount, count: g.outputChannels) }
    }
}
