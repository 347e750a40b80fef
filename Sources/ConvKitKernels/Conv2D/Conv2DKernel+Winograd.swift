import ConvKitCKernels

/// Convolution by Winograd's F(2×2, 3×3) for 3×3, stride-1, undilated, ungrouped convolutions
/// with padding ≤ 2 (see ``Winograd2x2`` for the transforms).
///
/// Per chunk of `b` images with `T = b·⌈OH/2⌉·⌈OW/2⌉` tiles (`ξ` = one of the 16 tile positions):
///
///     forward:         M[ξ] [O × T] = U[ξ] [O × C] · V[ξ] [C × T]         U = G·w·Gᵀ,  V = Bᵀ·x·B,  y = Aᵀ·M·A (+ bias, activation)
///     backwardData:    the forward algorithm on dY with the flipped, transposed filter
///                      w'[c][o][u][v] = w[o][c][2−u][2−v] and padding 2 − P (stride 1 makes the
///                      transposed convolution an ordinary one)
///     backwardFilter:  dU[ξ] [O × C] += dM[ξ] [O × T] · V[ξ]ᵀ [T × C],     dM = A·dY·Aᵀ,  dw = Gᵀ·dU·G
///
/// 16 multiplies per 2×2 tile and channel pair replace 36: 2.25× fewer flops than direct or im2col.
/// Error: the transforms add at most 4×4 inputs with coefficients 1 and ½ (exact in binary), so the
/// error stays within a small multiple of direct summation (measured ≤ 2.4× in float32); tests
/// use 8× the direct tolerance.
///
/// Workspace (floats): `16·O·C` transformed filters + `16·(C + O)·T` for one chunk + a row of
/// zeros; chunks hold as many images as fit in the cap (at least one).
enum Conv2DWinograd {
    /// `true` when Winograd F(2×2, 3×3) applies to `g`.
    static func supports(_ g: Conv2DGeometry) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideHeight == 1 && g.strideWidth == 1
            && g.dilationHeight == 1 && g.dilationWidth == 1 && g.groups == 1
            && g.paddingHeight == g.paddingWidth && g.paddingHeight <= 2
    }

    /// The geometry of the backward-data pass as a forward convolution of `dY` (see the type).
    static func transposedGeometry(_ g: Conv2DGeometry) -> Conv2DGeometry? {
        try? Conv2DGeometry(batch: g.batch, inputChannels: g.outputChannels, inputHeight: g.outputHeight,
                            inputWidth: g.outputWidth, outputChannels: g.inputChannels, kernelHeight: 3, kernelWidth: 3,
                            paddingHeight: 2 - g.paddingHeight, paddingWidth: 2 - g.paddingWidth)
    }

    /// Chunking of the tiles under a workspace of `floats`.
    struct Plan {
        let imagesPerChunk: Int
        let tilesHigh: Int, tilesWide: Int
        var tilesPerImage: Int { tilesHigh * tilesWide }
        let filterFloats: Int       // 16·O·C (plus 9·O·C for the flipped filter of backwardData)
        let chunkTiles: Int         // b · tilesPerImage
        let inputFloats: Int        // 16·C·chunkTiles
        let productFloats: Int      // 16·O·chunkTiles
        let rowFloats: Int          // a row of zeros (read for rows outside the image)
        var workspaceCount: Int { filterFloats + inputFloats + productFloats + rowFloats }

        init(_ g: Conv2DGeometry, capFloats: Int, extraFilterFloats: Int = 0) {
            tilesHigh = Winograd2x2.tiles(g.outputHeight)
            tilesWide = Winograd2x2.tiles(g.outputWidth)
            let C = g.inputChannels, O = g.outputChannels
            filterFloats = 16 * O * C + extraFilterFloats
            rowFloats = max(g.inputWidth, g.outputWidth) + 4
            let perImage = 16 * (C + O) * tilesHigh * tilesWide
            let room = capFloats - filterFloats - rowFloats
            imagesPerChunk = max(1, min(g.batch, room / max(1, perImage)))
            chunkTiles = imagesPerChunk * tilesHigh * tilesWide
            inputFloats = 16 * C * chunkTiles
            productFloats = 16 * O * chunkTiles
        }
    }

    static func workspaceCount(_ g: Conv2DGeometry, direction: Conv2DDirection, capBytes: Int) -> Int {
        let capFloats = capBytes / MemoryLayout<Float>.stride
        switch direction {
        case .forward, .backwardFilter:
            return Plan(g, capFloats: capFloats).workspaceCount
        case .backwardData:
            guard let t = transposedGeometry(g) else { return 0 }
            return Plan(t, capFloats: capFloats, extraFilterFloats: 9 * g.filterCount).workspaceCount
        }
    }

    /// The plan a kernel uses for a workspace of `floats` (the largest chunks that fit).
    static func plan(_ g: Conv2DGeometry, workspaceFloats floats: Int, extraFilterFloats: Int = 0) -> Plan {
        Plan(g, capFloats: floats, extraFilterFloats: extraFilterFloats)
    }

    /// `V[ξ][c][t] = (Bᵀ·d·B)[ξ]` for every input plane of the images `first ..< first + count`
    /// (one chunk of `T = count · tilesPerImage` tiles); parallel over planes.
    static func transformInputs(_ g: Conv2DGeometry, plan: Plan, images first: Int, count: Int,
                                input x: SharedBuffer<Float>, zeroRow zero: SharedBuffer<Float>,
                                into v: SharedBuffer<Float>, context: ComputeContext) {
        let C = g.inputChannels, H = g.inputHeight, W = g.inputWidth, P = g.paddingHeight
        let TH = plan.tilesHigh, TW = plan.tilesWide, tilesPerImage = plan.tilesPerImage
        let T = count * tilesPerImage
        let vector = context.simdLevel >= .avx512
        parallelFor(count * C, elementsPerIndex: 16 * tilesPerImage, context: context) { range in
            for index in range {
                let c = index % C, image = index / C
                if vector {
                    ck_wino_input_avx512(x.base + ((first + image) * C + c) * H * W, 0, 1, H, W, P, TW, 0, TH,
                                         v.base + c * T + image * tilesPerImage, 0, C * T)
                    continue
                }
                Winograd2x2.transformInputPlane(x.base + ((first + image) * C + c) * H * W, height: H, width: W,
                                                padding: P, tilesHigh: TH, tilesWide: TW, zeroRow: zero.base,
                                                out: v.base + c * T + image * tilesPerImage, positionStride: C * T)
            }
        }
    }

    // MARK: Forward

    static func forward(
        _ g: Conv2DGeometry,
        input: UnsafePointer<Float>, filter: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        activation: FusedActivation, output: UnsafeMutablePointer<Float>,
        workspace: UnsafeMutableBufferPointer<Float>, extraFilterFloats: Int = 0, context: ComputeContext
    ) {
        guard let ws = workspace.baseAddress else { return }
        let plan = plan(g, workspaceFloats: workspace.count, extraFilterFloats: extraFilterFloats)
        precondition(plan.workspaceCount <= workspace.count, "Winograd workspace too small")
        let C = g.inputChannels, O = g.outputChannels, W = g.inputWidth
        let OH = g.outputHeight, OW = g.outputWidth
        let TH = plan.tilesHigh, TW = plan.tilesWide, tilesPerImage = plan.tilesPerImage
        let U = ws + extraFilterFloats
        let V = U + 16 * O * C
        let M = V + plan.inputFloats
        let zeroRow = M + plan.productFloats
        zeroRow.update(repeating: 0, count: max(W, OW) + 4)

        Winograd2x2.transformFilters(filter, count: O * C, into: U, context: context)

        let x = SharedBuffer(readOnly: UnsafeBufferPointer(start: input, count: g.inputCount))
        let y = SharedBuffer(UnsafeMutableBufferPointer(start: output, count: g.outputCount))
        let v = SharedBuffer(UnsafeMutableBufferPointer(start: V, count: plan.inputFloats))
        let m = SharedBuffer(UnsafeMutableBufferPointer(start: M, count: plan.productFloats))
        let zero = SharedBuffer(UnsafeMutableBufferPointer(start: zeroRow, count: max(W, OW) + 4))
        let b = bias.map { SharedBuffer(readOnly: UnsafeBufferPointer(start: $0, count: O)) }

        var n0 = 0
        while n0 < g.batch {
            let count = min(plan.imagesPerChunk, g.batch - n0)
            let T = count * tilesPerImage
            let first = n0
            // V[ξ][c][t] for every plane of the chunk.
            transformInputs(g, plan: plan, images: first, count: count, input: x, zeroRow: zero, into: v, context: context)
            // 16 GEMMs on the caller's thread (OpenBLAS threads them).
            for xi in 0..<16 {
                BLAS.sgemm(m: O, n: T, k: C, a: U + xi * O * C, lda: C, b: V + xi * C * T, ldb: T, beta: 0,
                           c: M + xi * O * T, ldc: T)
            }
            // y = Aᵀ M A (+ bias, activation), each (image, o) plane owned by one work item.
            let vector = context.simdLevel >= .avx512
            parallelFor(count * O, elementsPerIndex: 16 * tilesPerImage, context: context) { range in
                for index in range {
                    let o = index % O, image = index / O
                    if vector {
                        ck_wino_output_avx512(m.base + o * T + image * tilesPerImage, 0, O * T, 1, OH, OW, TW, 0, TH,
                                              b.map { $0.base + o }, activation == .relu ? 1 : 0,
                                              y.base + ((first + image) * O + o) * OH * OW, 0)
                        continue
                    }
                    Winograd2x2.transformOutputPlane(m.base + o * T + image * tilesPerImage, positionStride: O * T,
                                                     tilesHigh: TH, tilesWide: TW,
                                                     plane: y.base + ((first + image) * O + o) * OH * OW,
                                                     height: OH, width: OW, bias: b?[o] ?? 0, activation: activation)
                }
            }
            n0 += count
        }
    }
}

extension Conv2DWinograd {
    // MARK: Backward data

    /// `dX` = the forward Winograd convolution of `dY` with the flipped, transposed filter and
    /// padding `2 − P`. **Overwrites** `inputGradient`.
    static func backwardData(
        _ g: Conv2DGeometry, outputGradient: UnsafePointer<Float>, filter: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, workspace: UnsafeMutableBufferPointer<Float>,
        context: ComputeContext
    ) {
        guard let t = transposedGeometry(g), let ws = workspace.baseAddress else { return }
        let C = g.inputChannels, O = g.outputChannels
        // w'[c][o][u][v] = w[o][c][2 − u][2 − v], at the start of the workspace.
        let flipped = SharedBuffer(UnsafeMutableBufferPointer(start: ws, count: 9 * O * C))
        let w = SharedBuffer(readOnly: UnsafeBufferPointer(start: filter, count: 9 * O * C))
        parallelFor(O * C, elementsPerIndex: 9, context: context) { range in
            for oc in range {
                let o = oc / C, c = oc % C
                let from = w.base + oc * 9, to = flipped.base + (c * O + o) * 9
                for k in 0..<9 { to[k] = from[8 - k] }
            }
        }
        forward(t, input: outputGradient, filter: ws, bias: nil, activation: .identity, output: inputGradient,
                workspace: workspace, extraFilterFloats: 9 * O * C, context: context)
    }

    // MARK: Backward filter

    /// `dW (+)= Gᵀ (Σ_chunks dM[ξ] · V[ξ]ᵀ) G` and the bias gradient. Overwrites unless `accumulate`.
    static func backwardFilter(
        _ g: Conv2DGeometry, input: UnsafePointer<Float>, outputGradient: UnsafeBufferPointer<Float>,
        filterGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutableBufferPointer<Float>?,
        accumulate: Bool, workspace: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        guard let ws = workspace.baseAddress, let dyBase = outputGradient.baseAddress else { return }
        let plan = plan(g, workspaceFloats: workspace.count)
        precondition(plan.workspaceCount <= workspace.count, "Winograd workspace too small")
        let C = g.inputChannels, O = g.outputChannels, W = g.inputWidth
        let OH = g.outputHeight, OW = g.outputWidth
        let TH = plan.tilesHigh, TW = plan.tilesWide, tilesPerImage = plan.tilesPerImage
        let dU = ws
        let V = dU + 16 * O * C
        let dM = V + plan.inputFloats
        let zeroRow = dM + plan.productFloats
        zeroRow.update(repeating: 0, count: max(W, OW) + 4)

        let x = SharedBuffer(readOnly: UnsafeBufferPointer(start: input, count: g.inputCount))
        let dy = SharedBuffer(readOnly: UnsafeBufferPointer(start: dyBase, count: g.outputCount))
        let v = SharedBuffer(UnsafeMutableBufferPointer(start: V, count: plan.inputFloats))
        let m = SharedBuffer(UnsafeMutableBufferPointer(start: dM, count: plan.productFloats))
        let zero = SharedBuffer(UnsafeMutableBufferPointer(start: zeroRow, count: max(W, OW) + 4))

        var n0 = 0
        while n0 < g.batch {
            let count = min(plan.imagesPerChunk, g.batch - n0)
            let T = count * tilesPerImage
            let first = n0
            transformInputs(g, plan: plan, images: first, count: count, input: x, zeroRow: zero, into: v, context: context)
            let vector = context.simdLevel >= .avx512
            parallelFor(count * O, elementsPerIndex: 16 * tilesPerImage, context: context) { range in
                for index in range {
                    let o = index % O, image = index / O
                    if vector {
                        ck_wino_output_grad_avx512(dy.base + ((first + image) * O + o) * OH * OW, 0, 1, OH, OW, TW, 0, TH,
                                                   m.base + o * T + image * tilesPerImage, 0, O * T)
                        continue
                    }
                    Winograd2x2.transformOutputGradientPlane(dy.base + ((first + image) * O + o) * OH * OW,
                                                             height: OH, width: OW, tilesHigh: TH, tilesWide: TW,
                                                             zeroRow: zero.base,
                                                             out: m.base + o * T + image * tilesPerImage, positionStride: O * T)
                }
            }
            let beta: Float = n0 == 0 ? 0 : 1
            for xi in 0..<16 {
                BLAS.sgemm(transB: true, m: O, n: C, k: T, a: dM + xi * O * T, lda: T, b: V + xi * C * T, ldb: T,
                           beta: beta, c: dU + xi * O * C, ldc: C)
            }
            n0 += count
        }
        Winograd2x2.transformFilterGradients(dU, count: O * C, into: filterGradient, accumulate: accumulate, context: context)
        if let biasGradient {
            BiasKernel.reducePerChannel(outputGradient, into: biasGradient, batch: g.batch, channels: O,
                                        plane: OH * OW, accumulate: accumulate, context: context)
        }
    }

    /// The GEMMs one call issues (for the benchmark's BLAS ceiling).
    static func gemmCalls(_ g: Conv2DGeometry, direction: Conv2DDirection, workspaceFloats: Int) -> [GEMMCall] {
        let geometry: Conv2DGeometry
        let extra: Int
        switch direction {
        case .backwardData:
            guard let t = transposedGeometry(g) else { return [] }
            geometry = t; extra = 9 * g.filterCount
        default:
            geometry = g; extra = 0
        }
        let plan = plan(geometry, workspaceFloats: workspaceFloats, extraFilterFloats: extra)
        let C = geometry.inputChannels, O = geometry.outputChannels
        var calls: [GEMMCall] = []
        let full = geometry.batch / plan.imagesPerChunk, rest = geometry.batch % plan.imagesPerChunk
        for (images, chunks) in [(plan.imagesPerChunk, full), (rest, rest > 0 ? 1 : 0)] where chunks > 0 {
            let T = images * plan.tilesPerImage
            if direction == .backwardFilter {
                calls.append(GEMMCall(transA: false, transB: true, m: O, n: C, k: T, count: 16 * chunks))
            } else {
                calls.append(GEMMCall(transA: false, transB: false, m: O, n: T, k: C, count: 16 * chunks))
            }
        }
        return calls
    }
}
