import ConvKitCKernels

/// Convolution by Winograd's F(m×m, 3×3), m = 2 or 4 (``Tile``), for 3×3, stride-1, undilated,
/// ungrouped convolutions with padding ≤ 2 (see ``Winograd2x2`` and ``Winograd4x4`` for the
/// transforms). Below, `α = m + 2` and `α²` = 16 (F(2×2)) or 36 (F(4×4)).
///
/// The batch's `N·TH` rows of tiles (`TH = ⌈OH/m⌉` rows of `TW = ⌈OW/m⌉` tiles per image) are cut
/// into blocks of `r` tile rows (`T = r·TW` tiles, possibly spanning images). Per block (`ξ` = one
/// of the `α²` tile positions):
///
///     forward:         M[ξ] [O × T] = U[ξ] [O × C] · V[ξ] [C × T]         U = G·w·Gᵀ,  V = Bᵀ·x·B,  y = Aᵀ·M·A (+ bias, activation)
///     backwardData:    the forward algorithm on dY with the flipped, transposed filter
///                      w'[c][o][u][v] = w[o][c][2−u][2−v] and padding 2 − P (stride 1 makes the
///                      transposed convolution an ordinary one)
///     backwardFilter:  dU[ξ] [O × C] += dM[ξ] [O × T] · V[ξ]ᵀ [T × C],     dM = A·dY·Aᵀ,  dw = Gᵀ·dU·G
///
/// A block's transformed tiles (`α²·(C + O)·T` floats) are sized to stay in cache between the
/// transform that writes them, the `α²` GEMMs and the transform that reads them (``Plan``).
/// Threading: up to `context.threads` workers each run whole blocks (transforms and
/// **single-threaded** GEMMs; ``Conv2DKernel`` holds OpenBLAS at one thread for Winograd, so
/// threading never nests); backwardFilter gives each worker its own `dU` and sums them in worker
/// order (bit-identical for a given thread count). F(2×2)'s transforms run as AVX-512 C kernels
/// (`ck_wino_*`, ConvKitCKernels) when `context.simdLevel >= .avx512` (AVX2 ones for rows of ≤ 8
/// tiles), AVX2 C kernels for the tile transforms at `.avx2` (the filter transforms stay in Swift
/// there), portable Swift otherwise. F(4×4)'s run as AVX-512 C kernels (`ck_wino4_*`) at
/// `.avx512`, AVX2 ones at `.avx2`, portable Swift otherwise.
///
/// F(2×2): 16 multiplies per 2×2 tile and channel pair replace 36, 2.25× fewer flops than direct or
/// im2col; the transforms add at most 4×4 inputs with coefficients 1 and ½ (exact in binary), so the
/// error stays within a small multiple of direct summation (docs/decisions/Research-notes.md §2.4);
/// tests use 8× the direct tolerance. F(4×4): 36 multiplies replace 144 (4× fewer), with larger error
/// growth (``Winograd4x4``; tests use 256× the direct tolerance).
///
/// Workspace (floats): `α²·O·C` transformed filters (+ `9·O·C` flipped filters for backwardData),
/// a row of zeros, and per worker `α²·(C + O)·T` block tiles (+ `α²·O·C` for its `dU` in
/// backwardFilter).
enum Conv2DWinograd {
    /// The output tile of a Winograd algorithm: F(2×2, 3×3) or F(4×4, 3×3).
    enum Tile: Sendable {
        case f2x2, f4x4

        /// Outputs per tile along an axis (`m`).
        var size: Int { self == .f2x2 ? 2 : 4 }
        /// Transformed positions per tile (`α² = (m + 2)²`): one GEMM each.
        var positions: Int { self == .f2x2 ? 16 : 36 }
        /// Floats of transformed tiles a block aims for: ``Conv2DWinograd/blockFloats`` (2 MiB) for
        /// F(2×2); 4 MiB for F(4×4), whose GEMMs are smaller per tile, so larger blocks keep them
        /// efficient (figures: docs/decisions/Decisions.md, "Winograd block sizes").
        var blockFloats: Int { self == .f2x2 ? Conv2DWinograd.blockFloats : 1 << 20 }
        /// Tiles along an axis of `outputSize` outputs: `⌈outputSize / m⌉`.
        func tiles(_ outputSize: Int) -> Int { (outputSize + size - 1) / size }

        /// `U = G·g·Gᵀ` for the `count` filters (see ``Winograd2x2``/``Winograd4x4``).
        func transformFilters(_ filter: UnsafePointer<Float>, count: Int, into U: UnsafeMutablePointer<Float>,
                              context: ComputeContext) {
            switch self {
            case .f2x2: Winograd2x2.transformFilters(filter, count: count, into: U, context: context)
            case .f4x4: Winograd4x4.transformFilters(filter, count: count, into: U, context: context)
            }
        }
    }

    /// `true` when Winograd F(2×2, 3×3) and F(4×4, 3×3) apply to `g`.
    static func supports(_ g: Conv2DGeometry) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideHeight == 1 && g.strideWidth == 1
            && g.dilationHeight == 1 && g.dilationWidth == 1 && g.groups == 1
            && g.paddingHeight == g.paddingWidth && g.paddingHeight <= 2
    }

    /// ``Conv2DAlgorithm/automatic`` picks Winograd only for calls with at least this many output
    /// positions (`batch·OH·OW`): the filter transform (16 or 36 floats per input-output channel
    /// pair) is paid once per call, and over fewer positions (one 14×14 image) it cost more than the
    /// multiplications saved (figures: docs/decisions/Decisions.md, "Late-stage 3×3 layers").
    static let automaticMinPositions = 512

    /// ``Conv2DAlgorithm/automatic`` picks F(4×4) over F(2×2) when `g` has at least 64 input and
    /// output channels, its 4×4 tiles are at least 75% filled (`OH·OW ≥ 0.75·16·TH·TW`: 14×14 and
    /// 7×7 planes are 77%, 13×13 66%), the call has at least ``minimumBlockTiles`` (128) tiles (fewer
    /// make GEMMs too narrow: 8 images of 7×7 give 32), and each direction's F(4×4) plan stays
    /// within the default 32 MiB cap. ResNet's 256-channel 14×14 layer at batch 8 (77%, 128 tiles)
    /// ran 12–26% faster with F(4×4) than F(2×2) at 1 thread (docs/decisions/Decisions.md,
    /// "Late-stage 3×3 layers"). Measured (1 thread, Zen 5,
    /// Cooperlake sgemm, F(2×2) / F(4×4) ms): resnet_3x3 5.89 / 3.43 forward, 6.94 / 4.93
    /// backwardFilter; vgg_3x3 5.45 / 3.57, 5.36 / 3.70; resnet_3x3_n1 0.576 / 0.443; alexnet_c3
    /// (13×13: 66% filled, 128 tiles in the batch, 14 MB of transformed filters) 7.78 / 9.24, a loss.
    static func prefersLargeTiles(_ g: Conv2DGeometry) -> Bool {
        guard supports(g), g.inputChannels >= 64, g.outputChannels >= 64 else { return false }
        let tile = Tile.f4x4
        let tiles = tile.tiles(g.outputHeight) * tile.tiles(g.outputWidth)
        guard 4 * g.outputHeight * g.outputWidth >= 3 * 16 * tiles, g.batch * tiles >= minimumBlockTiles else { return false }
        let capBytes = Conv2DLoweringPlan.defaultWorkspaceCapBytes
        return Conv2DDirection.allCases.allSatisfy {
            workspaceCount(g, tile: tile, direction: $0, capBytes: capBytes) * MemoryLayout<Float>.stride <= capBytes
        }
    }

    /// The geometry of the backward-data pass as a forward convolution of `dY` (see the type).
    static func transposedGeometry(_ g: Conv2DGeometry) -> Conv2DGeometry? {
        try? Conv2DGeometry(batch: g.batch, inputChannels: g.outputChannels, inputHeight: g.outputHeight,
                            inputWidth: g.outputWidth, outputChannels: g.inputChannels, kernelHeight: 3, kernelWidth: 3,
                            paddingHeight: 2 - g.paddingHeight, paddingWidth: 2 - g.paddingWidth)
    }

    /// Floats of transformed tiles (`α²·(C + O)·T`) an F(2×2) block aims for: 2 MiB, so a block's
    /// tiles are still in cache when its GEMMs read them (the best of 1, 2 and 4 MiB; figures:
    /// docs/decisions/Decisions.md, "Winograd block sizes"). F(4×4) aims for 4 MiB
    /// (``Tile/blockFloats``).
    static let blockFloats = 1 << 19
    /// Fewest tiles a block aims for: below ~128 columns the GEMMs lose efficiency and each block
    /// re-reads all of `U` (6 MiB for alexnet_c3).
    static let minimumBlockTiles = 128
    /// Rows of at most this many tiles use the 8-wide AVX2 transforms even at `.avx512`: a 16-wide
    /// vector would be half empty (alexnet_c3 has 7 tiles a row).
    static let narrow = 8

    /// Blocks of tile rows and workers under a workspace of `capFloats`.
    struct Plan {
        let tile: Tile
        let tilesHigh: Int, tilesWide: Int
        var tilesPerImage: Int { tilesHigh * tilesWide }
        let rows: Int               // tile rows in the batch: N · TH
        let rowsPerBlock: Int
        var blockTiles: Int { rowsPerBlock * tilesWide }
        var blocks: Int { (rows + rowsPerBlock - 1) / rowsPerBlock }
        let workers: Int
        let filterFloats: Int       // α²·O·C (plus 9·O·C for the flipped filter of backwardData)
        let rowFloats: Int          // a row of zeros (read for rows outside the image)
        let inputFloats: Int        // α²·C·blockTiles
        let productFloats: Int      // α²·O·blockTiles
        let gradientFloats: Int     // α²·O·C per worker for backwardFilter, else 0
        var perWorker: Int { inputFloats + productFloats + gradientFloats }
        var workspaceCount: Int { filterFloats + rowFloats + workers * perWorker }

        init(_ g: Conv2DGeometry, tile: Tile, capFloats: Int, extraFilterFloats: Int = 0, filterGradient: Bool = false,
             maxWorkers: Int = ComputeContext.availableCores) {
            self.tile = tile
            let positions = tile.positions
            tilesHigh = tile.tiles(g.outputHeight)
            tilesWide = tile.tiles(g.outputWidth)
            rows = g.batch * tilesHigh
            let C = g.inputChannels, O = g.outputChannels
            filterFloats = positions * O * C + extraFilterFloats
            rowFloats = max(g.inputWidth, g.outputWidth) + 4
            gradientFloats = filterGradient ? positions * O * C : 0
            let perRow = positions * (C + O) * tilesWide
            let room = capFloats - filterFloats - rowFloats
            // Blocks near the target size, a multiple of the worker count (equal shares; a layer
            // smaller than one target block is still split between the workers).
            let target = min(rows, max(1, tile.blockFloats / perRow,
                                       (Conv2DWinograd.minimumBlockTiles + tilesWide - 1) / tilesWide))
            var workers = max(1, min(maxWorkers, rows))
            var perBlock = 1
            while true {
                let blocks = ((rows + target - 1) / target + workers - 1) / workers * workers
                let even = (rows + blocks - 1) / blocks
                let fit = (room / workers - gradientFloats) / perRow
                if fit >= 1 || workers == 1 {
                    perBlock = max(1, min(even, fit))
                    break
                }
                workers -= 1
            }
            rowsPerBlock = perBlock
            self.workers = max(1, min(workers, (rows + perBlock - 1) / perBlock))
            inputFloats = positions * C * perBlock * tilesWide
            productFloats = positions * O * perBlock * tilesWide
        }
    }

    /// The plan a kernel uses in `direction` for a workspace of `floats`.
    static func plan(_ g: Conv2DGeometry, tile: Tile, direction: Conv2DDirection, workspaceFloats floats: Int) -> Plan? {
        switch direction {
        case .forward: return Plan(g, tile: tile, capFloats: floats)
        case .backwardFilter: return Plan(g, tile: tile, capFloats: floats, filterGradient: true)
        case .backwardData:
            guard let t = transposedGeometry(g) else { return nil }
            return Plan(t, tile: tile, capFloats: floats, extraFilterFloats: g.filterCount)   // the flipped filter: 9·O·C floats
        }
    }

    static func workspaceCount(_ g: Conv2DGeometry, tile: Tile, direction: Conv2DDirection, capBytes: Int) -> Int {
        plan(g, tile: tile, direction: direction, workspaceFloats: capBytes / MemoryLayout<Float>.stride)?.workspaceCount ?? 0
    }

    /// Calls `body(image, tileRows, offset)` for each image's part of the batch's tile rows
    /// `rows`, with `offset` = the tiles of `rows` before it.
    @inline(__always)
    static func segments(_ rows: Range<Int>, tilesHigh TH: Int, tilesWide TW: Int,
                         _ body: (Int, Range<Int>, Int) -> Void) {
        var r = rows.lowerBound
        while r < rows.upperBound {
            let image = r / TH
            let end = min(rows.upperBound, (image + 1) * TH)
            body(image, (r - image * TH)..<(end - image * TH), (r - rows.lowerBound) * TW)
            r = end
        }
    }

    /// `V[ξ][c][t] = (Bᵀ·d·B)[ξ]` for the tile rows `rows` of the batch (`T` tiles, `V` is
    /// `[α²][C][T]`); on the calling thread.
    static func transformInputs(_ g: Conv2DGeometry, plan: Plan, rows: Range<Int>, input x: UnsafePointer<Float>,
                                zeroRow: UnsafePointer<Float>, into v: UnsafeMutablePointer<Float>, simd: SIMDLevel) {
        let C = g.inputChannels, H = g.inputHeight, W = g.inputWidth, P = g.paddingHeight
        let TW = plan.tilesWide, T = rows.count * TW
        segments(rows, tilesHigh: plan.tilesHigh, tilesWide: TW) { image, tileRows, offset in
            let planes = x + image * C * H * W
            if plan.tile == .f4x4 {
                if simd >= .avx512 {
                    ck_wino4_input_avx512(planes, H * W, C, H, W, P, TW, tileRows.lowerBound, tileRows.upperBound,
                                          v + offset, T, C * T)
                    return
                }
                if simd >= .avx2 {
                    ck_wino4_input_avx2(planes, H * W, C, H, W, P, TW, tileRows.lowerBound, tileRows.upperBound,
                                        v + offset, T, C * T)
                    return
                }
                for c in 0..<C {
                    Winograd4x4.transformInputPlane(planes + c * H * W, height: H, width: W, padding: P, rows: tileRows,
                                                    tilesWide: TW, out: v + c * T + offset,
                                                    positionStride: C * T)
                }
                return
            }
            if simd >= .avx512 && TW > Conv2DWinograd.narrow {
                ck_wino_input_avx512(planes, H * W, C, H, W, P, TW, tileRows.lowerBound, tileRows.upperBound,
                                     v + offset, T, C * T)
                return
            }
            if simd >= .avx2 {
                ck_wino_input_avx2(planes, H * W, C, H, W, P, TW, tileRows.lowerBound, tileRows.upperBound,
                                   v + offset, T, C * T)
                return
            }
            for c in 0..<C {
                Winograd2x2.transformInputPlane(planes + c * H * W, height: H, width: W, padding: P, rows: tileRows,
                                                tilesWide: TW, zeroRow: zeroRow, out: v + c * T + offset,
                                                positionStride: C * T)
            }
        }
    }

    // MARK: Forward

    /// `y = act(conv(x, w) + bias)`; **overwrites** `output`. `extraFilterFloats` floats at the start
    /// of the workspace are left alone (backwardData keeps its flipped filter there).
    static func forward(
        _ g: Conv2DGeometry, tile: Tile,
        input: UnsafePointer<Float>, filter: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        activation: FusedActivation, output: UnsafeMutablePointer<Float>,
        workspace: UnsafeMutableBufferPointer<Float>, extraFilterFloats: Int = 0, context: ComputeContext
    ) {
        guard let ws = workspace.baseAddress else { return }
        let plan = Plan(g, tile: tile, capFloats: workspace.count, extraFilterFloats: extraFilterFloats)
        require(plan.workspaceCount <= workspace.count, "Winograd workspace holds \(workspace.count) floats, its plan needs \(plan.workspaceCount) on \(g)")
        let C = g.inputChannels, O = g.outputChannels
        let OH = g.outputHeight, OW = g.outputWidth
        let TH = plan.tilesHigh, TW = plan.tilesWide
        let positions = tile.positions
        let U = ws + extraFilterFloats
        let zeroRow = U + positions * O * C
        zeroRow.update(repeating: 0, count: plan.rowFloats)
        tile.transformFilters(filter, count: O * C, into: U, context: context)

        let x = SharedBuffer(readOnly: UnsafeBufferPointer(start: input, count: g.inputCount))
        let y = SharedBuffer(UnsafeMutableBufferPointer(start: output, count: g.outputCount))
        let u = SharedBuffer(UnsafeMutableBufferPointer(start: U, count: positions * O * C + plan.rowFloats))
        let blocks = SharedBuffer(UnsafeMutableBufferPointer(start: zeroRow + plan.rowFloats,
                                                             count: plan.workers * plan.perWorker))
        let b = bias.map { SharedBuffer(readOnly: UnsafeBufferPointer(start: $0, count: O)) }
        let simd = context.simdLevel, relu = activation == .relu
        let workers = min(context.threads, plan.workers)
        Conv2DImageParallel.eachWorker(plan.blocks, workers: workers, context: context) { worker, range in
            let V = blocks.base + worker * plan.perWorker
            let M = V + plan.inputFloats
            let zero = UnsafePointer(u.base + positions * O * C)
            for block in range {
                let rows = (block * plan.rowsPerBlock)..<min(plan.rows, (block + 1) * plan.rowsPerBlock)
                let T = rows.count * TW
                transformInputs(g, plan: plan, rows: rows, input: x.base, zeroRow: zero, into: V, simd: simd)
                // α² single-threaded GEMMs (OpenBLAS is held at one thread for Winograd).
                for xi in 0..<positions {
                    BLAS.sgemm(m: O, n: T, k: C, a: u.base + xi * O * C, lda: C, b: V + xi * C * T, ldb: T, beta: 0,
                               c: M + xi * O * T, ldc: T)
                }
                // y = Aᵀ M A (+ bias, activation) for the block's output rows.
                segments(rows, tilesHigh: TH, tilesWide: TW) { image, tileRows, offset in
                    let planes = y.base + image * O * OH * OW
                    if tile == .f4x4 {
                        if simd >= .avx512 {
                            ck_wino4_output_avx512(M + offset, T, O * T, O, OH, OW, TW, tileRows.lowerBound,
                                                   tileRows.upperBound, b?.base, relu ? 1 : 0, planes, OH * OW)
                            return
                        }
                        if simd >= .avx2 {
                            ck_wino4_output_avx2(M + offset, T, O * T, O, OH, OW, TW, tileRows.lowerBound,
                                                 tileRows.upperBound, b?.base, relu ? 1 : 0, planes, OH * OW)
                            return
                        }
                        for o in 0..<O {
                            Winograd4x4.transformOutputPlane(M + o * T + offset, positionStride: O * T, rows: tileRows,
                                                             tilesWide: TW, plane: planes + o * OH * OW, height: OH,
                                                             width: OW, bias: b?[o] ?? 0, activation: activation)
                        }
                        return
                    }
                    if simd >= .avx512 && TW > Conv2DWinograd.narrow {
                        ck_wino_output_avx512(M + offset, T, O * T, O, OH, OW, TW, tileRows.lowerBound,
                                              tileRows.upperBound, b?.base, relu ? 1 : 0, planes, OH * OW)
                        return
                    }
                    if simd >= .avx2 {
                        ck_wino_output_avx2(M + offset, T, O * T, O, OH, OW, TW, tileRows.lowerBound,
                                            tileRows.upperBound, b?.base, relu ? 1 : 0, planes, OH * OW)
                        return
                    }
                    for o in 0..<O {
                        Winograd2x2.transformOutputPlane(M + o * T + offset, positionStride: O * T, rows: tileRows,
                                                         tilesWide: TW, plane: planes + o * OH * OW, height: OH,
                                                         width: OW, bias: b?[o] ?? 0, activation: activation)
                    }
                }
            }
        }
    }
}

extension Conv2DWinograd {
    // MARK: Backward data

    /// `dX` = the forward Winograd convolution of `dY` with the flipped, transposed filter and
    /// padding `2 − P`. **Overwrites** `inputGradient`.
    static func backwardData(
        _ g: Conv2DGeometry, tile: Tile, outputGradient: UnsafePointer<Float>, filter: UnsafePointer<Float>,
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
        forward(t, tile: tile, input: outputGradient, filter: ws, bias: nil, activation: .identity, output: inputGradient,
                workspace: workspace, extraFilterFloats: 9 * O * C, context: context)
    }

    // MARK: Backward filter

    /// `dW (+)= Gᵀ (Σ_blocks dM[ξ] · V[ξ]ᵀ) G` and the bias gradient. Overwrites unless `accumulate`.
    static func backwardFilter(
        _ g: Conv2DGeometry, tile: Tile, input: UnsafePointer<Float>, outputGradient: UnsafeBufferPointer<Float>,
        filterGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutableBufferPointer<Float>?,
        accumulate: Bool, workspace: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        guard let ws = workspace.baseAddress, let dyBase = outputGradient.baseAddress else { return }
        let plan = Plan(g, tile: tile, capFloats: workspace.count, filterGradient: true)
        require(plan.workspaceCount <= workspace.count, "Winograd workspace holds \(workspace.count) floats, its plan needs \(plan.workspaceCount) on \(g)")
        let C = g.inputChannels, O = g.outputChannels
        let OH = g.outputHeight, OW = g.outputWidth
        let TH = plan.tilesHigh, TW = plan.tilesWide
        let positions = tile.positions
        // The transformed-filter slot of the forward layout holds the summed dU here.
        let zeroRow = ws + positions * O * C
        zeroRow.update(repeating: 0, count: plan.rowFloats)

        let x = SharedBuffer(readOnly: UnsafeBufferPointer(start: input, count: g.inputCount))
        let dy = SharedBuffer(readOnly: UnsafeBufferPointer(start: dyBase, count: g.outputCount))
        let shared = SharedBuffer(UnsafeMutableBufferPointer(start: ws, count: plan.workspaceCount))
        let simd = context.simdLevel
        let workers = min(context.threads, plan.workers)
        let first = positions * O * C + plan.rowFloats
        Conv2DImageParallel.eachWorker(plan.blocks, workers: workers, context: context) { worker, range in
            let V = shared.base + first + worker * plan.perWorker
            let dM = V + plan.inputFloats
            let dU = dM + plan.productFloats      // this worker's [α²][O][C]
            let zero = UnsafePointer(shared.base + positions * O * C)
            var beta: Float = 0
            for block in range {
                let rows = (block * plan.rowsPerBlock)..<min(plan.rows, (block + 1) * plan.rowsPerBlock)
                let T = rows.count * TW
                transformInputs(g, plan: plan, rows: rows, input: x.base, zeroRow: zero, into: V, simd: simd)
                segments(rows, tilesHigh: TH, tilesWide: TW) { image, tileRows, offset in
                    let planes = dy.base + image * O * OH * OW
                    if tile == .f4x4 {
                        if simd >= .avx512 {
                            ck_wino4_output_grad_avx512(planes, OH * OW, O, OH, OW, TW, tileRows.lowerBound,
                                                        tileRows.upperBound, dM + offset, T, O * T)
                            return
                        }
                        if simd >= .avx2 {
                            ck_wino4_output_grad_avx2(planes, OH * OW, O, OH, OW, TW, tileRows.lowerBound,
                                                      tileRows.upperBound, dM + offset, T, O * T)
                            return
                        }
                        for o in 0..<O {
                            Winograd4x4.transformOutputGradientPlane(planes + o * OH * OW, height: OH, width: OW,
                                                                     rows: tileRows, tilesWide: TW,
                                                                     out: dM + o * T + offset, positionStride: O * T)
                        }
                        return
                    }
                    if simd >= .avx512 && TW > Conv2DWinograd.narrow {
                        ck_wino_output_grad_avx512(planes, OH * OW, O, OH, OW, TW, tileRows.lowerBound,
                                                   tileRows.upperBound, dM + offset, T, O * T)
                        return
                    }
                    if simd >= .avx2 {
                        ck_wino_output_grad_avx2(planes, OH * OW, O, OH, OW, TW, tileRows.lowerBound,
                                                 tileRows.upperBound, dM + offset, T, O * T)
                        return
                    }
                    for o in 0..<O {
                        Winograd2x2.transformOutputGradientPlane(planes + o * OH * OW, height: OH, width: OW,
                                                                 rows: tileRows, tilesWide: TW, zeroRow: zero,
                                                                 out: dM + o * T + offset, positionStride: O * T)
                    }
                }
                for xi in 0..<positions {
                    BLAS.sgemm(transB: true, m: O, n: C, k: T, a: dM + xi * O * T, lda: T, b: V + xi * C * T, ldb: T,
                               beta: beta, c: dU + xi * O * C, ldc: C)
                }
                beta = 1
            }
        }
        // dU = Σ_w dU_w in worker order (the same order for a given worker count), then dW = Gᵀ·dU·G.
        let stride = plan.perWorker, offset = first + plan.inputFloats + plan.productFloats
        if simd >= .avx512 {
            let dw = SharedBuffer(UnsafeMutableBufferPointer(start: filterGradient, count: 9 * O * C))
            parallelFor(O * C, grain: 16, elementsPerIndex: positions * workers + 9, context: context) { range in
                if tile == .f4x4 {
                    ck_wino4_filter_grad_avx512(shared.base + offset, stride, max(1, workers), range.lowerBound,
                                                range.upperBound, O * C, dw.base, accumulate ? 1 : 0)
                } else {
                    ck_wino_filter_grad_avx512(shared.base + offset, stride, max(1, workers), range.lowerBound,
                                               range.upperBound, O * C, dw.base, accumulate ? 1 : 0)
                }
            }
        } else if simd >= .avx2 && tile == .f4x4 {
            let dw = SharedBuffer(UnsafeMutableBufferPointer(start: filterGradient, count: 9 * O * C))
            parallelFor(O * C, grain: 8, elementsPerIndex: positions * workers + 9, context: context) { range in
                ck_wino4_filter_grad_avx2(shared.base + offset, stride, max(1, workers), range.lowerBound,
                                          range.upperBound, O * C, dw.base, accumulate ? 1 : 0)
            }
        } else {
            reduceAndTransformFilterGradients(tile: tile, shared: shared, offset: offset, stride: stride, workers: workers,
                                              count: O * C, filterGradient: filterGradient, accumulate: accumulate,
                                              context: context)
        }
        if let biasGradient {
            BiasKernel.reducePerChannel(outputGradient, into: biasGradient, batch: g.batch, channels: O,
                                        plane: OH * OW, accumulate: accumulate, context: context)
        }
    }

    /// Portable path: `workspace[0 ..< α²·count] = Σ_w dU_w`, then `dW (+)= Gᵀ·dU·G`.
    static func reduceAndTransformFilterGradients(tile: Tile, shared: SharedBuffer<Float>, offset: Int, stride: Int,
                                                  workers: Int, count: Int, filterGradient: UnsafeMutablePointer<Float>,
                                                  accumulate: Bool, context: ComputeContext) {
        parallelFor(tile.positions * count, context: context) { range in
            for i in range {
                var sum = shared.base[offset + i]
                for worker in 1..<max(1, workers) { sum += shared.base[offset + worker * stride + i] }
                shared.base[i] = sum
            }
        }
        switch tile {
        case .f2x2:
            Winograd2x2.transformFilterGradients(shared.base, count: count, into: filterGradient, accumulate: accumulate,
                                                 context: context)
        case .f4x4:
            Winograd4x4.transformFilterGradients(shared.base, count: count, into: filterGradient, accumulate: accumulate,
                                                 context: context)
        }
    }

    /// The GEMMs one call issues (for the benchmark's BLAS ceiling).
    static func gemmCalls(_ g: Conv2DGeometry, tile: Tile, direction: Conv2DDirection, workspaceFloats: Int) -> [GEMMCall] {
        guard let plan = plan(g, tile: tile, direction: direction, workspaceFloats: workspaceFloats) else { return [] }
        let geometry = direction == .backwardData ? (transposedGeometry(g) ?? g) : g
        let C = geometry.inputChannels, O = geometry.outputChannels
        var calls: [GEMMCall] = []
        let full = plan.rows / plan.rowsPerBlock, rest = plan.rows % plan.rowsPerBlock
        for (rows, blocks) in [(plan.rowsPerBlock, full), (rest, rest > 0 ? 1 : 0)] where blocks > 0 {
            let T = rows * plan.tilesWide
            if direction == .backwardFilter {
                calls.append(GEMMCall(transA: false, transB: true, m: O, n: C, k: T, count: tile.positions * blocks))
            } else {
                calls.append(GEMMCall(transA: false, transB: false, m: O, n: T, k: C, count: tile.positions * blocks))
            }
        }
        return calls
    }
}
