/// Convolution lowered to matrix products, chunked by ``Conv2DLoweringPlan``.
///
/// Per chunk (`b` images, or a band of `R` output rows of one image) and group `g`
/// (shapes row-major; `K = Cg·KH·KW`, `Q = b·R·OW` columns):
///
///     forward:         Y[g]   [Og × Q]  = W[g] [Og × K] · cols [K × Q]               (+ bias, activation)
///     backwardData:    dcols  [K × Q]   = W[g]ᵀ [K × Og] · dY[g] [Og × Q];   dX = col2im(dcols)
///     backwardFilter:  dW[g]  [Og × K] += dY[g] [Og × Q] · colsᵀ [Q × K]
///
/// With one image per chunk the GEMM reads and writes the NCHW planes in place (leading dimension
/// `OH·OW`); with several, the chunk's outputs pass through a staging matrix (scattered to NCHW with
/// the bias and activation fused in; output gradients gathered from NCHW). Pointwise convolutions
/// (1×1, stride 1, no padding) use the input planes as the column matrix: no copy, no workspace.
///
/// Threading: each GEMM is split by columns over `context.threads` workers, each a single-threaded
/// OpenBLAS call (``BLAS/sgemm(transA:transB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:context:)``;
/// OpenBLAS's own threads never run); packing, unpacking, staging and bias loops run in
/// ``parallelFor(_:grain:elementsPerIndex:context:_:)`` between GEMMs, never around one.
enum Conv2DIm2col {
    static func forward(
        _ g: Conv2DGeometry,
        input: UnsafeBufferPointer<Float>, filter: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?,
        activation: FusedActivation, output: UnsafeMutableBufferPointer<Float>,
        workspace: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        guard let x = input.baseAddress, let w = filter.baseAddress, let y = output.baseAddress else { return }
        let plan = Conv2DLoweringPlan(g, workspaceFloats: workspace.count)
        let C = g.inputChannels, O = g.outputChannels, Cg = g.inputChannelsPerGroup, Og = g.outputChannelsPerGroup
        let K = g.columnRows, P = g.outputPlane, HW = g.inputPlane, OW = g.outputWidth
        let columns = workspace.baseAddress
        let staging = columns.map { $0 + plan.columnCount }
        let b = bias?.baseAddress

        var n0 = 0
        while n0 < g.batch {
            let count = min(plan.imagesPerChunk, g.batch - n0)
            for group in 0..<g.groups {
                let image = x + n0 * C * HW + group * Cg * HW
                let weights = w + group * Og * K
                let out = y + n0 * O * P + group * Og * P
                let groupBias = b.map { $0 + group * Og }
                if g.isPointwise {
                    BLAS.sgemm(m: Og, n: P, k: K, a: weights, lda: K, b: image, ldb: P, beta: 0, c: out, ldc: P, context: context)
                    epilogueInPlace(out, channels: Og, plane: P, bias: groupBias, activation: activation, context: context)
                } else if count > 1, let columns, let staging {
                    let Q = count * P
                    Im2col.pack(g, images: image, imageStride: C * HW, imageCount: count, outputRows: 0..<g.outputHeight,
                                columns: columns, context: context)
                    BLAS.sgemm(m: Og, n: Q, k: K, a: weights, lda: K, b: columns, ldb: Q, beta: 0, c: staging, ldc: Q, context: context)
                    Im2col.scatter(staging: staging, outputChannels: Og, plane: P, imageCount: count,
                                   output: out, imageStride: O * P, bias: groupBias, activation: activation, context: context)
                } else if let columns {
                    var i0 = 0
                    while i0 < g.outputHeight {
                        let rows = min(plan.rowsPerChunk, g.outputHeight - i0)
                        Im2col.pack(g, images: image, imageStride: C * HW, imageCount: 1, outputRows: i0..<(i0 + rows),
                                    columns: columns, context: context)
                        BLAS.sgemm(m: Og, n: rows * OW, k: K, a: weights, lda: K, b: columns, ldb: rows * OW, beta: 0,
                                   c: out + i0 * OW, ldc: P, context: context)
                        i0 += rows
                    }
                    epilogueInPlace(out, channels: Og, plane: P, bias: groupBias, activation: activation, context: context)
                }
            }
            n0 += count
        }
    }

    /// Adds the bias and applies the activation to `channels` planes of `plane` floats, in place.
    static func epilogueInPlace(_ out: UnsafeMutablePointer<Float>, channels: Int, plane: Int,
                                bias: UnsafePointer<Float>?, activation: FusedActivation, context: ComputeContext) {
        if bias == nil && activation == .identity { return }
        let y = SharedBuffer(UnsafeMutableBufferPointer(start: out, count: channels * plane))
        let b = bias.map { SharedBuffer(readOnly: UnsafeBufferPointer(start: $0, count: channels)) }
        parallelFor(channels, elementsPerIndex: plane, context: context) { range in
            for o in range {
                let p = y.base + o * plane
                activation.apply(from: p, to: p, count: plane, bias: b?[o] ?? 0)
            }
        }
    }

    static func backwardData(
        _ g: Conv2DGeometry,
        outputGradient: UnsafeBufferPointer<Float>, filter: UnsafeBufferPointer<Float>,
        inputGradient: UnsafeMutableBufferPointer<Float>,
        workspace: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        guard let dy = outputGradient.baseAddress, let w = filter.baseAddress, let dx = inputGradient.baseAddress else { return }
        let plan = Conv2DLoweringPlan(g, workspaceFloats: workspace.count)
        let C = g.inputChannels, O = g.outputChannels, Cg = g.inputChannelsPerGroup, Og = g.outputChannelsPerGroup
        let K = g.columnRows, P = g.outputPlane, HW = g.inputPlane, OW = g.outputWidth
        let columns = workspace.baseAddress
        let staging = columns.map { $0 + plan.columnCount }

        var n0 = 0
        while n0 < g.batch {
            let count = min(plan.imagesPerChunk, g.batch - n0)
            for group in 0..<g.groups {
                let imageGradient = dx + n0 * C * HW + group * Cg * HW
                let weights = w + group * Og * K
                let gradient = dy + n0 * O * P + group * Og * P
                if g.isPointwise {
                    // dX[n,g] [Cg × HW] = W[g]ᵀ · dY[n,g], written in place.
                    BLAS.sgemm(transA: true, m: K, n: P, k: Og, a: weights, lda: K, b: gradient, ldb: P, beta: 0,
                               c: imageGradient, ldc: P, context: context)
                } else if count > 1, let columns, let staging {
                    let Q = count * P
                    Im2col.gather(outputGradient: gradient, imageStride: O * P, outputChannels: Og, plane: P,
                                  imageCount: count, staging: staging, context: context)
                    BLAS.sgemm(transA: true, m: K, n: Q, k: Og, a: weights, lda: K, b: staging, ldb: Q, beta: 0,
                               c: columns, ldc: Q, context: context)
                    Im2col.unpack(g, columns: columns, outputRows: 0..<g.outputHeight, images: imageGradient,
                                  imageStride: C * HW, imageCount: count, zeroFirst: true, context: context)
                } else if let columns {
                    var i0 = 0
                    while i0 < g.outputHeight {
                        let rows = min(plan.rowsPerChunk, g.outputHeight - i0)
                        BLAS.sgemm(transA: true, m: K, n: rows * OW, k: Og, a: weights, lda: K,
                                   b: gradient + i0 * OW, ldb: P, beta: 0, c: columns, ldc: rows * OW, context: context)
                        Im2col.unpack(g, columns: columns, outputRows: i0..<(i0 + rows), images: imageGradient,
                                      imageStride: C * HW, imageCount: 1, zeroFirst: i0 == 0, context: context)
                        i0 += rows
                    }
                }
            }
            n0 += count
        }
    }

    static func backwardFilter(
        _ g: Conv2DGeometry,
        input: UnsafeBufferPointer<Float>, outputGradient: UnsafeBufferPointer<Float>,
        filterGradient: UnsafeMutableBufferPointer<Float>, biasGradient: UnsafeMutableBufferPointer<Float>?,
        accumulate: Bool,
        workspace: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        guard let x = input.baseAddress, let dy = outputGradient.baseAddress, let dw = filterGradient.baseAddress else { return }
        let plan = Conv2DLoweringPlan(g, workspaceFloats: workspace.count)
        let C = g.inputChannels, O = g.outputChannels, Cg = g.inputChannelsPerGroup, Og = g.outputChannelsPerGroup
        let K = g.columnRows, P = g.outputPlane, HW = g.inputPlane, OW = g.outputWidth
        let columns = workspace.baseAddress
        let staging = columns.map { $0 + plan.columnCount }

        var n0 = 0
        while n0 < g.batch {
            let count = min(plan.imagesPerChunk, g.batch - n0)
            for group in 0..<g.groups {
                let image = x + n0 * C * HW + group * Cg * HW
                let gradient = dy + n0 * O * P + group * Og * P
                let weightGradient = dw + group * Og * K
                // The first GEMM into each group's gradient overwrites it (beta 0) unless asked to
                // accumulate; every later one adds (beta 1).
                var beta: Float = (n0 == 0 && !accumulate) ? 0 : 1
                if g.isPointwise {
                    BLAS.sgemm(transB: true, m: Og, n: K, k: P, a: gradient, lda: P, b: image, ldb: P, beta: beta,
                               c: weightGradient, ldc: K, context: context)
                } else if count > 1, let columns, let staging {
                    let Q = count * P
                    Im2col.pack(g, images: image, imageStride: C * HW, imageCount: count, outputRows: 0..<g.outputHeight,
                                columns: columns, context: context)
                    Im2col.gather(outputGradient: gradient, imageStride: O * P, outputChannels: Og, plane: P,
                                  imageCount: count, staging: staging, context: context)
                    BLAS.sgemm(transB: true, m: Og, n: K, k: Q, a: staging, lda: Q, b: columns, ldb: Q, beta: beta,
                               c: weightGradient, ldc: K, context: context)
                } else if let columns {
                    var i0 = 0
                    while i0 < g.outputHeight {
                        let rows = min(plan.rowsPerChunk, g.outputHeight - i0)
                        Im2col.pack(g, images: image, imageStride: C * HW, imageCount: 1, outputRows: i0..<(i0 + rows),
                                    columns: columns, context: context)
                        BLAS.sgemm(transB: true, m: Og, n: K, k: rows * OW, a: gradient + i0 * OW, lda: P,
                                   b: columns, ldb: rows * OW, beta: beta, c: weightGradient, ldc: K, context: context)
                        beta = 1
                        i0 += rows
                    }
                }
            }
            n0 += count
        }
        if let biasGradient {
            BiasKernel.reducePerChannel(outputGradient, into: biasGradient, batch: g.batch, channels: g.outputChannels,
                                        plane: P, accumulate: accumulate, context: context)
        }
    }

    /// The GEMMs one call issues, for the benchmark's bare-BLAS ceiling.
    static func gemmCalls(_ g: Conv2DGeometry, plan: Conv2DLoweringPlan, direction: Conv2DDirection) -> [GEMMCall] {
        let K = g.columnRows, P = g.outputPlane, Og = g.outputChannelsPerGroup, OW = g.outputWidth
        var calls: [GEMMCall] = []
        func add(columns: Int, count: Int) {
            guard count > 0 else { return }
            switch direction {
            case .forward: calls.append(GEMMCall(transA: false, transB: false, m: Og, n: columns, k: K, count: count))
            case .backwardData: calls.append(GEMMCall(transA: true, transB: false, m: K, n: columns, k: Og, count: count))
            case .backwardFilter: calls.append(GEMMCall(transA: false, transB: true, m: Og, n: K, k: columns, count: count))
            }
        }
        if g.isPointwise || plan.imagesPerChunk > 1 {
            let full = g.batch / plan.imagesPerChunk, rest = g.batch % plan.imagesPerChunk
            add(columns: plan.imagesPerChunk * P, count: full * g.groups)
            add(columns: rest * P, count: rest > 0 ? g.groups : 0)
        } else {
            let bands = g.outputHeight / plan.rowsPerChunk, rest = g.outputHeight % plan.rowsPerChunk
            add(columns: plan.rowsPerChunk * OW, count: bands * g.batch * g.groups)
            add(columns: rest * OW, count: rest > 0 ? g.batch * g.groups : 0)
        }
        return calls
    }
}
