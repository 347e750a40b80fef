/// im2col with the parallelism over images instead of inside the GEMM: `parallelFor` hands
/// whole images to up to `context.threads` workers, each lowering its image into its own slice of
/// the workspace and calling a **single-threaded** `cblas_sgemm` (``Conv2DKernel`` holds OpenBLAS at
/// one thread for the whole call, so threading never nests). Per image and group, as in ``Conv2DIm2col``:
///
///     forward:         Y[n,g]  = W[g] · cols(X[n,g])                     (+ bias, activation)
///     backwardData:    dX[n,g] = col2im(W[g]ᵀ · dY[n,g])
///     backwardFilter:  dW_w   += dY[n,g] · cols(X[n,g])ᵀ   per worker w,  then dW = Σ_w dW_w (fixed order)
///
/// This is the alternative to one GEMM per chunk split by columns over the workers that the
/// threading policy asks us to measure: it wins at 2 threads on every layer of the suite that
/// lowers (each worker packs and multiplies its own image, with no barrier between packing and
/// GEMM), provided the batch splits evenly over the workers. Workspace: one image's
/// columns per worker (plus one filter gradient per worker for backwardFilter); the number of workers
/// is what fits in the workspace, at most `context.threads`.
enum Conv2DImageParallel {
    /// Floats per worker.
    static func perWorker(_ g: Conv2DGeometry, direction: Conv2DDirection) -> Int {
        let columns = g.isPointwise ? 0 : g.columnRows * g.columnCols
        return direction == .backwardFilter ? columns + g.filterCount : columns
    }

    static func workspaceCount(_ g: Conv2DGeometry, direction: Conv2DDirection, capBytes: Int) -> Int {
        let per = perWorker(g, direction: direction)
        if per == 0 { return 0 }
        let fit = max(1, capBytes / MemoryLayout<Float>.stride / per)
        return per * min(g.batch, ComputeContext.availableCores, fit)
    }

    static func workers(_ g: Conv2DGeometry, direction: Conv2DDirection, workspace: Int, context: ComputeContext) -> Int {
        let per = perWorker(g, direction: direction)
        let fit = per == 0 ? context.threads : workspace / per
        return max(1, min(context.threads, g.batch, fit))
    }

    static func forward(
        _ g: Conv2DGeometry, input: UnsafePointer<Float>, filter: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        activation: FusedActivation, output: UnsafeMutablePointer<Float>,
        workspace: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        let workers = workers(g, direction: .forward, workspace: workspace.count, context: context)
        let per = perWorker(g, direction: .forward)
        let x = SharedBuffer(readOnly: UnsafeBufferPointer(start: input, count: g.inputCount))
        let w = SharedBuffer(readOnly: UnsafeBufferPointer(start: filter, count: g.filterCount))
        let y = SharedBuffer(UnsafeMutableBufferPointer(start: output, count: g.outputCount))
        let ws = SharedBuffer(workspace)
        let b = bias.map { SharedBuffer(readOnly: UnsafeBufferPointer(start: $0, count: g.outputChannels)) }
        let C = g.inputChannels, O = g.outputChannels, Cg = g.inputChannelsPerGroup, Og = g.outputChannelsPerGroup
        let K = g.columnRows, P = g.outputPlane, HW = g.inputPlane
        do {  // OpenBLAS is held at one thread by the caller (Conv2DKernel, through blasContext).
            eachWorker(g.batch, workers: workers, context: context) { worker, images in
                let columns = ws.base + worker * per
                for n in images {
                    for group in 0..<g.groups {
                        let source = lowered(g, image: x.base + n * C * HW + group * Cg * HW, columns: columns)
                        let out = y.base + n * O * P + group * Og * P
                        BLAS.sgemm(m: Og, n: P, k: K, a: w.base + group * Og * K, lda: K, b: source, ldb: P, beta: 0,
                                   c: out, ldc: P)
                        if b != nil || activation != .identity {
                            for o in 0..<Og {
                                activation.apply(from: out + o * P, to: out + o * P, count: P, bias: b?[group * Og + o] ?? 0)
                            }
                        }
                    }
                }
            }
        }
    }

    static func backwardData(
        _ g: Conv2DGeometry, outputGradient: UnsafePointer<Float>, filter: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, workspace: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        let workers = workers(g, direction: .backwardData, workspace: workspace.count, context: context)
        let per = perWorker(g, direction: .backwardData)
        let dy = SharedBuffer(readOnly: UnsafeBufferPointer(start: outputGradient, count: g.outputCount))
        let w = SharedBuffer(readOnly: UnsafeBufferPointer(start: filter, count: g.filterCount))
        let dx = SharedBuffer(UnsafeMutableBufferPointer(start: inputGradient, count: g.inputCount))
        let ws = SharedBuffer(workspace)
        let C = g.inputChannels, O = g.outputChannels, Cg = g.inputChannelsPerGroup, Og = g.outputChannelsPerGroup
        let K = g.columnRows, P = g.outputPlane, HW = g.inputPlane
        do {  // OpenBLAS is held at one thread by the caller (Conv2DKernel, through blasContext).
            eachWorker(g.batch, workers: workers, context: context) { worker, images in
                let columns = ws.base + worker * per
                for n in images {
                    for group in 0..<g.groups {
                        let imageGradient = dx.base + n * C * HW + group * Cg * HW
                        let a = w.base + group * Og * K, gradient = dy.base + n * O * P + group * Og * P
                        if g.isPointwise {
                            BLAS.sgemm(transA: true, m: K, n: P, k: Og, a: a, lda: K, b: gradient, ldb: P, beta: 0,
                                       c: imageGradient, ldc: P)
                        } else {
                            BLAS.sgemm(transA: true, m: K, n: P, k: Og, a: a, lda: K, b: gradient, ldb: P, beta: 0,
                                       c: columns, ldc: P)
                            Im2col.unpack(g, columns: columns, outputRows: 0..<g.outputHeight, images: imageGradient,
                                          imageStride: C * HW, imageCount: 1, zeroFirst: true, context: .serial)
                        }
                    }
                }
            }
        }
    }

    static func backwardFilter(
        _ g: Conv2DGeometry, input: UnsafePointer<Float>, outputGradient: UnsafeBufferPointer<Float>,
        filterGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutableBufferPointer<Float>?,
        accumulate: Bool, workspace: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        let workers = workers(g, direction: .backwardFilter, workspace: workspace.count, context: context)
        let per = perWorker(g, direction: .backwardFilter)
        let columnsCount = per - g.filterCount
        let x = SharedBuffer(readOnly: UnsafeBufferPointer(start: input, count: g.inputCount))
        let dy = SharedBuffer(readOnly: outputGradient)
        let ws = SharedBuffer(workspace)
        let C = g.inputChannels, O = g.outputChannels, Cg = g.inputChannelsPerGroup, Og = g.outputChannelsPerGroup
        let K = g.columnRows, P = g.outputPlane, HW = g.inputPlane
        do {  // OpenBLAS is held at one thread by the caller (Conv2DKernel, through blasContext).
            eachWorker(g.batch, workers: workers, context: context) { worker, images in
                let columns = ws.base + worker * per
                let partial = columns + columnsCount          // this worker's [O, C/G, KH, KW]
                var first = true
                for n in images {
                    for group in 0..<g.groups {
                        let source = lowered(g, image: x.base + n * C * HW + group * Cg * HW, columns: columns)
                        BLAS.sgemm(transB: true, m: Og, n: K, k: P, a: dy.base + n * O * P + group * Og * P, lda: P,
                                   b: source, ldb: P, beta: first ? 0 : 1, c: partial + group * Og * K, ldc: K)
                    }
                    first = false
                }
            }
        }
        // dW (+)= Σ_w partial_w, workers in order: the same order for a given worker count.
        let dw = SharedBuffer(UnsafeMutableBufferPointer(start: filterGradient, count: g.filterCount))
        parallelFor(g.filterCount, context: context) { range in
            for i in range {
                var sum = ws.base[columnsCount + i]
                for worker in 1..<max(1, workers) { sum += ws.base[worker * per + columnsCount + i] }
                dw[i] = accumulate ? dw[i] + sum : sum
            }
        }
        if let biasGradient {
            BiasKernel.reducePerChannel(outputGradient, into: biasGradient, batch: g.batch, channels: O,
                                        plane: P, accumulate: accumulate, context: context)
        }
    }

    /// The column matrix of one image and group: the image itself for a pointwise convolution,
    /// otherwise its im2col lowering into `columns` (on the calling worker).
    @inline(__always)
    static func lowered(_ g: Conv2DGeometry, image: UnsafeMutablePointer<Float>,
                        columns: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        if g.isPointwise { return UnsafePointer(image) }
        Im2col.pack(g, images: image, imageStride: g.inputChannels * g.inputPlane, imageCount: 1,
                    outputRows: 0..<g.outputHeight, columns: columns, context: .serial)
        return UnsafePointer(columns)
    }

    /// Splits `0..<count` images into `workers` contiguous ranges and runs them concurrently
    /// (worker `w` gets the `w`-th range); subnormals flushed as in `parallelFor`.
    static func eachWorker(_ count: Int, workers: Int, context: ComputeContext,
                           _ body: @Sendable (Int, Range<Int>) -> Void) {
        let forced = ComputeContext(threads: workers, minimumElementsPerThread: 1,
                                    flushesDenormals: context.flushesDenormals)
        parallelFor(workers, context: forced) { range in
            for worker in range {
                body(worker, (worker * count / workers)..<((worker + 1) * count / workers))
            }
        }
    }
}
