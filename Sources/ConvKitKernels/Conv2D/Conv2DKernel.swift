/// How a convolution is computed. Every algorithm gives the same result up to float rounding
/// and is tested against ``naive`` over one shape table.
public enum Conv2DAlgorithm: String, CaseIterable, Sendable, Hashable {
    /// The textbook loops (seven nested loops per direction). Slow; the reference.
    case naive
    /// Lowering: im2col copies each receptive field into a column, then one `cblas_sgemm`
    /// per image and group does the arithmetic (Caffe's three GEMMs). Pointwise convolutions
    /// (1×1, stride 1, no padding) skip the copy and multiply the input directly.
    case im2col
    /// Winograd F(2×2, 3×3): 16 GEMMs in the transformed domain, 2.25× fewer multiplications.
    /// Applies to 3×3, stride-1, undilated, ungrouped convolutions with equal padding ≤ 2; other
    /// shapes run ``im2col`` instead (same results up to rounding).
    case winograd
    /// Winograd F(4×4, 3×3): 36 GEMMs in the transformed domain, 4× fewer multiplications than
    /// direct, with larger rounding error than ``winograd`` (coefficients up to 8 and 1/6; see
    /// docs/Kernels.md). Same shapes as ``winograd``; others run ``im2col``. ``automatic`` picks it
    /// for layers with 64+ channels and well-filled 4×4 tiles (``Conv2DWinograd/prefersLargeTiles(_:)``).
    case winograd4x4
    /// im2col with Dispatch over images and single-threaded GEMMs (``Conv2DImageParallel``): the
    /// alternative to one GEMM per chunk split by columns over the workers; ``automatic`` runs it
    /// instead of ``im2col`` with several threads and an evenly split batch.
    case im2colImageParallel
    /// Direct SIMD loops for depthwise-style convolutions, where each output channel reads one
    /// input channel (`inputChannels / groups == 1`); other shapes run ``im2col`` instead.
    case depthwise
    /// Direct AVX-512 loops for small-channel layers (``Conv2DDirect``: no im2col, no GEMM) for
    /// forward and backwardFilter, and backwardData of stride-1 layers (as the transposed
    /// convolution; other layers' backwardData runs ``im2col``). Applies to ungrouped layers on CPUs
    /// with AVX-512; elsewhere, and when `context.simdLevel` is below AVX-512, it runs ``im2col``.
    case direct
    /// Picks per shape (see ``effective(for:)``): the rule documented in docs/Architecture.md.
    case automatic

    /// `true` when the algorithm runs as itself on `g` (rather than falling back to ``im2col``).
    public func supports(_ g: Conv2DGeometry) -> Bool {
        switch self {
        case .naive, .im2col, .im2colImageParallel, .automatic: return true
        case .winograd, .winograd4x4: return Conv2DWinograd.supports(g)
        case .depthwise: return Conv2DDepthwise.supports(g)
        case .direct: return Conv2DDirect.supports(g)
        }
    }

    /// `true` for algorithms that issue `cblas_sgemm` calls.
    public var usesBLAS: Bool { self == .im2col || isWinograd || self == .im2colImageParallel }

    /// `true` for the Winograd algorithms (``winograd``, ``winograd4x4``).
    public var isWinograd: Bool { self == .winograd || self == .winograd4x4 }

    /// The tile of a Winograd algorithm (`nil` for the others).
    var winogradTile: Conv2DWinograd.Tile? {
        switch self {
        case .winograd: return .f2x2
        case .winograd4x4: return .f4x4
        default: return nil
        }
    }

    /// The thread count OpenBLAS gets during a call: always one. ``im2colImageParallel`` and the
    /// Winograd algorithms call single-threaded GEMMs from their workers; ``im2col`` splits each GEMM
    /// over `context.threads` workers by columns (``BLAS/sgemm(transA:transB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:context:)``),
    /// so OpenBLAS's own threads never run (they would spin on the cores ConvKit's loops need next).
    func blasContext(_ context: ComputeContext) -> ComputeContext {
        context.blasSerial
    }

    /// What actually runs for `g`: `self`, or ``im2col`` where `self` does not apply; for
    /// ``automatic``, the algorithm the heuristic picks:
    ///
    /// 1. depthwise-style layers (one input channel per output channel, groups > 1) → ``depthwise``;
    /// 2. 3×3 stride-1 layers that Winograd supports, with at least 16 input and output channels,
    ///    an output of at least 8×8 and at least ``Conv2DWinograd/automaticMinPositions`` (512)
    ///    output positions in the call (`batch·OH·OW`) → ``winograd`` (2.25× fewer multiplies;
    ///    smaller layers lose to the transforms, and the filter transform, paid once per call,
    ///    needs that many positions to pay off), or ``winograd4x4`` (4× fewer multiplies) where
    ///    ``Conv2DWinograd/prefersLargeTiles(_:)`` holds: at least 64 input and output channels, 4×4
    ///    tiles at least 80% filled, and every direction within the default workspace cap (with
    ///    fewer channels or emptier tiles its larger transforms cost more than the GEMMs save);
    /// 3. layers that ``direct`` supports (groups 1, AVX-512 CPU), with a kernel larger than 1×1,
    ///    and a reduction `C·KH·KW <= 2400` (``Conv2DDirect/automaticMaxReduction``) → ``direct``
    ///    (it splits images over the workers, or a single image's output-channel blocks; such
    ///    GEMMs are small and skinny, and im2col's copy costs as much as their arithmetic).
    ///    ``effective(for:direction:simdLevel:)`` sends backwardData of strided layers
    ///    (no transposed form), and of layers with fewer than 16 input channels per group, to ``im2col``,
    ///    and both backward directions of calls with fewer than
    ///    ``Conv2DDirect/automaticMinBackwardPositions`` (256) output positions (`batch·OH·OW`: one
    ///    7×7 or 14×14 image), whose weight-sized work those few positions do not amortise;
    /// 4. everything else (including 1×1 kernels, whose lowering is at most a strided copy and which
    ///    are a single GEMM on the input at stride 1) → ``im2col``.
    ///
    /// The measurements behind these thresholds: docs/decisions/Decisions.md, "Algorithm choice".
    public func effective(for g: Conv2DGeometry) -> Conv2DAlgorithm {
        switch self {
        case .automatic:
            if g.groups > 1 && Conv2DDepthwise.supports(g) { return .depthwise }
            if Conv2DWinograd.supports(g) && g.inputChannels >= 16 && g.outputChannels >= 16
                && g.outputHeight >= 8 && g.outputWidth >= 8
                && g.batch * g.outputPlane >= Conv2DWinograd.automaticMinPositions {
                return Conv2DWinograd.prefersLargeTiles(g) ? .winograd4x4 : .winograd
            }
            if Conv2DDirect.supports(g) && g.kernelPlane > 1 && g.columnRows <= Conv2DDirect.automaticMaxReduction {
                return .direct
            }
            return .im2col
        default:
            return supports(g) ? self : .im2col
        }
    }

    /// What actually runs for `g` in `direction` with vector instructions up to `simdLevel`:
    /// ``effective(for:)``, except that ``direct`` runs ``im2col`` for `backwardData` of strided
    /// or over-padded layers (no transposed form), below ``SIMDLevel/avx512`` (its kernels are AVX-512 C code;
    /// im2col is its portable path), and that ``automatic``'s ``winograd4x4`` runs ``winograd``
    /// below ``SIMDLevel/avx2`` (F(4×4) on portable transforms is not known to beat F(2×2); F(2×2)'s
    /// plan fits in F(4×4)'s workspace: fewer transformed floats per tile row and filter). ``Conv2DKernel`` resolves every call with the context's level;
    /// workspace sizes and GEMM lists use the detected level, and the workspace of ``direct`` also
    /// fits an im2col run (one output row per chunk), so a lowered level always finds enough room.
    public func effective(for g: Conv2DGeometry, direction: Conv2DDirection,
                          simdLevel: SIMDLevel = .detected) -> Conv2DAlgorithm {
        let resolved = effective(for: g)
        if self == .automatic && resolved == .winograd4x4 && simdLevel < .avx2 { return .winograd }
        if resolved == .direct && (simdLevel < Conv2DDirect.requiredLevel
                                   || (direction == .backwardData && !Conv2DDirect.supportsBackwardData(g))) {
            return .im2col
        }
        if self == .automatic && resolved == .direct && direction == .backwardData
            && g.inputChannelsPerGroup < Conv2DDirect.automaticMinBackwardDataChannels {
            return .im2col
        }
        if self == .automatic && resolved == .direct && direction != .forward
            && g.batch * g.outputPlane < Conv2DDirect.automaticMinBackwardPositions {
            return .im2col
        }
        return resolved
    }

    /// What a call with `context` runs: ``effective(for:direction:simdLevel:)`` with the context's
    /// vector level, and, for ``automatic``, one rule on the thread count: where the heuristic gives
    /// ``im2col`` and the call may use several threads over a batch that splits evenly (a multiple
    /// of the thread count, or at least 4 images per thread), it runs ``im2colImageParallel``: one
    /// image per worker, each lowering its image and calling single-threaded GEMMs, rather than one
    /// GEMM per chunk split by columns over the workers (``BLAS/sgemm(transA:transB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:context:)``)
    /// between parallel lowering loops. Measured at 2 threads (OpenBLAS Cooperlake, median ms,
    /// im2col / im2colImageParallel): alexnet_c1 forward 6.54 / 5.74, backwardData 6.02 / 4.84,
    /// backwardFilter 9.75 / 6.94; strided_3x3 backwardData 3.22 / 2.71; resnet_1x1 forward 3.59 /
    /// 2.54, backwardData 3.23 / 2.18, backwardFilter 3.27 / 3.30; and before ConvKit stopped using
    /// OpenBLAS's threads, LeNet C1 forward 1.25 / 0.36 (Haswell core). Batch 1 keeps ``im2col``.
    ///
    /// Two more thread rules for planes of fewer than ``narrowPlane`` (64) output positions, whose
    /// per-image GEMM is too narrow to run well alone or to split by columns: batches keep
    /// im2col, which puts their images side by side in one wide GEMM, instead of one image per
    /// worker (pointwise layers excepted: their plan never batches), and the forward pass of a
    /// single image runs ``direct`` where it applies (kernels larger than 1×1, AVX-512), which
    /// splits the image's output channels over the workers. Why 64: ResNet-50's 7×7 stage
    /// (49 positions) ran 1.2–1.5× slower per image, LeNet C3 (100) and AlexNet C3 (169) faster.
    public func effective(for g: Conv2DGeometry, direction: Conv2DDirection, context: ComputeContext) -> Conv2DAlgorithm {
        let resolved = effective(for: g, direction: direction, simdLevel: context.simdLevel)
        if self == .automatic && resolved == .im2col && Self.prefersImageParallel(g, threads: context.threads) {
            return .im2colImageParallel
        }
        if self == .automatic && resolved == .im2col
            && Self.prefersDirectForOneImage(g, direction: direction, threads: context.threads, simdLevel: context.simdLevel) {
            return .direct
        }
        return resolved
    }

    static func prefersImageParallel(_ g: Conv2DGeometry, threads: Int) -> Bool {
        threads > 1 && g.batch >= 2 && (g.batch % threads == 0 || g.batch >= 4 * threads)
            && (g.isPointwise || g.outputPlane >= narrowPlane)
    }

    /// Output positions below which a per-image GEMM counts as narrow (see
    /// ``effective(for:direction:context:)``).
    static let narrowPlane = 64

    static func prefersDirectForOneImage(_ g: Conv2DGeometry, direction: Conv2DDirection, threads: Int,
                                         simdLevel: SIMDLevel) -> Bool {
        threads > 1 && g.batch == 1 && direction == .forward && g.kernelPlane > 1
            && g.outputPlane < narrowPlane
            && Conv2DDirect.supports(g) && simdLevel >= Conv2DDirect.requiredLevel
    }
}

/// The three directions of a convolution, for workspace queries.
public enum Conv2DDirection: String, CaseIterable, Sendable, Hashable {
    case forward, backwardData, backwardFilter
}

/// 2-D convolution kernels on raw NCHW / OIHW buffers.
///
/// Signatures mirror each other: `(geometry, algorithm, tensors read, tensors written,
/// workspace, context)`. Kernels never allocate; the caller passes a workspace of at least
/// ``workspaceCount(_:algorithm:direction:)`` floats. Sizes are validated once by
/// ``Conv2DGeometry``; here they are only asserted (`precondition`).
///
/// What is written:
/// - ``forward(_:algorithm:input:filter:bias:output:workspace:context:)`` **overwrites** `output`;
/// - ``backwardData(_:algorithm:outputGradient:filter:inputGradient:workspace:context:)`` **overwrites** `inputGradient`;
/// - ``backwardFilter(_:algorithm:input:outputGradient:filterGradient:biasGradient:accumulate:workspace:context:)``
///   **overwrites** or **accumulates into** (`+=`) `filterGradient` and `biasGradient`, as `accumulate` says.
public enum Conv2DKernel {
    /// Floats of workspace the algorithm needs for one call in `direction`.
    ///
    /// `im2col`: the column matrix of one chunk plus its staging matrix (``Conv2DLoweringPlan``),
    /// at most `capBytes` (default 32 MiB) unless a single output row's columns need more; 0 for
    /// pointwise convolutions. `naive`: 0.
    ///
    /// The kernels plan their chunks to fit the workspace they are given: pass a workspace of
    /// `workspaceCount(g, algorithm:, direction:, capBytes: budget)` floats to bound memory by `budget`.
    public static func workspaceCount(
        _ g: Conv2DGeometry, algorithm: Conv2DAlgorithm, direction: Conv2DDirection,
        capBytes: Int = Conv2DLoweringPlan.defaultWorkspaceCapBytes
    ) -> Int {
        let resolved = algorithm.effective(for: g, direction: direction)
        if algorithm == .automatic && resolved == .im2col
            && Conv2DAlgorithm.prefersImageParallel(g, threads: ComputeContext.availableCores) {
            // Room for whichever of the two the call's thread count picks.
            return max(Conv2DLoweringPlan(g, capBytes: capBytes).workspaceCount,
                       Conv2DImageParallel.workspaceCount(g, direction: direction, capBytes: capBytes))
        }
        if algorithm == .automatic && resolved == .im2col
            && Conv2DAlgorithm.prefersDirectForOneImage(g, direction: direction, threads: ComputeContext.availableCores,
                                                        simdLevel: .detected) {
            return max(Conv2DLoweringPlan(g, capBytes: capBytes).workspaceCount,
                       Conv2DDirect.workspaceCount(g, direction: direction, capBytes: capBytes))
        }
        switch resolved {
        case .naive: return 0
        case .im2col: return Conv2DLoweringPlan(g, capBytes: capBytes).workspaceCount
        case .winograd: return Conv2DWinograd.workspaceCount(g, tile: .f2x2, direction: direction, capBytes: capBytes)
        case .winograd4x4: return Conv2DWinograd.workspaceCount(g, tile: .f4x4, direction: direction, capBytes: capBytes)
        case .im2colImageParallel: return Conv2DImageParallel.workspaceCount(g, direction: direction, capBytes: capBytes)
        case .direct: return Conv2DDirect.workspaceCount(g, direction: direction, capBytes: capBytes)
        case .depthwise, .automatic: return 0
        }
    }

    /// The algorithm a call runs: ``Conv2DAlgorithm/effective(for:direction:context:)``, except that
    /// ``Conv2DAlgorithm/automatic``'s image-parallel choice needs room for two workers in the
    /// workspace given (else it stays with im2col, whose plan fits any workspace it was sized for).
    static func resolve(_ algorithm: Conv2DAlgorithm, _ g: Conv2DGeometry, _ direction: Conv2DDirection,
                        context: ComputeContext, workspace: Int) -> Conv2DAlgorithm {
        let resolved = algorithm.effective(for: g, direction: direction, context: context)
        if algorithm == .automatic && resolved == .im2colImageParallel
            && workspace < 2 * Conv2DImageParallel.perWorker(g, direction: direction) {
            return .im2col
        }
        if algorithm == .automatic && resolved == .direct && algorithm.effective(for: g, direction: direction,
                                                                                  simdLevel: context.simdLevel) == .im2col
            && !Conv2DDirect.workspaceSuffices(g, direction: direction, workspace: workspace) {
            return .im2col
        }
        return resolved
    }

    /// `true` when `workspace` floats are enough for `algorithm` on `g` (the kernels' precondition).
    static func workspaceSuffices(_ g: Conv2DGeometry, _ algorithm: Conv2DAlgorithm, _ direction: Conv2DDirection,
                                  _ workspace: Int) -> Bool {
        switch algorithm.effective(for: g) {
        case .naive: return true
        case .im2col: return Conv2DLoweringPlan(g, workspaceFloats: workspace).workspaceCount <= workspace
        case .winograd, .winograd4x4:
            guard let tile = algorithm.effective(for: g).winogradTile,
                  let plan = Conv2DWinograd.plan(g, tile: tile, direction: direction, workspaceFloats: workspace)
            else { return false }
            return plan.workspaceCount <= workspace
        case .im2colImageParallel: return workspace >= Conv2DImageParallel.perWorker(g, direction: direction)
        case .direct: return Conv2DDirect.workspaceSuffices(g, direction: direction, workspace: workspace)
        case .depthwise, .automatic: return true
        }
    }

    /// The `cblas_sgemm` calls one call of `algorithm` issues in `direction` (empty for `naive`):
    /// the benchmark times the same GEMMs bare to report the fraction of the BLAS ceiling.
    public static func gemmCalls(
        _ g: Conv2DGeometry, algorithm: Conv2DAlgorithm, direction: Conv2DDirection,
        workspaceCount: Int? = nil
    ) -> [GEMMCall] {
        let floats = workspaceCount ?? Self.workspaceCount(g, algorithm: algorithm, direction: direction)
        switch algorithm.effective(for: g, direction: direction) {
        case .naive: return []
        case .im2col: return Conv2DIm2col.gemmCalls(g, plan: Conv2DLoweringPlan(g, workspaceFloats: floats), direction: direction)
        case .winograd: return Conv2DWinograd.gemmCalls(g, tile: .f2x2, direction: direction, workspaceFloats: floats)
        case .winograd4x4: return Conv2DWinograd.gemmCalls(g, tile: .f4x4, direction: direction, workspaceFloats: floats)
        case .im2colImageParallel:
            let K = g.columnRows, P = g.outputPlane, Og = g.outputChannelsPerGroup, count = g.batch * g.groups
            switch direction {
            case .forward: return [GEMMCall(transA: false, transB: false, m: Og, n: P, k: K, count: count)]
            case .backwardData: return [GEMMCall(transA: true, transB: false, m: K, n: P, k: Og, count: count)]
            case .backwardFilter: return [GEMMCall(transA: false, transB: true, m: Og, n: K, k: P, count: count)]
            }
        case .depthwise, .direct, .automatic: return []
        }
    }

    /// Forward convolution with bias and an optional fused activation.
    ///
    ///     output[n,o,i,j] = f( bias[o] + Σ_c Σ_u Σ_v input[n, g·C/G + c, i·S − P + u·D, j·S − P + v·D] · filter[o,c,u,v] )
    ///
    /// where `f` is `activation` (identity by default; `.relu` fuses the ReLU into the output pass).
    ///
    /// - Parameters:
    ///   - input: `[batch, inputChannels, inputHeight, inputWidth]`.
    ///   - filter: `[outputChannels, inputChannels/groups, kernelHeight, kernelWidth]`.
    ///   - bias: `[outputChannels]`, or `nil` for no bias.
    ///   - activation: element-wise function applied to each output (default `.identity`).
    ///   - output: `[batch, outputChannels, outputHeight, outputWidth]`, **overwritten**.
    ///   - workspace: at least `workspaceCount(g, algorithm:, direction: .forward)` floats, contents ignored.
    ///   - context: parallelism for ConvKit's loops and OpenBLAS's GEMMs (never nested).
    public static func forward(
        _ g: Conv2DGeometry, algorithm: Conv2DAlgorithm,
        input: UnsafeBufferPointer<Float>, filter: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?,
        activation: FusedActivation = .identity,
        output: UnsafeMutableBufferPointer<Float>,
        workspace: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        require(input.count >= g.inputCount, "input holds \(input.count) floats, expected \(g.inputCount)")
        require(filter.count >= g.filterCount, "filter holds \(filter.count) floats, expected \(g.filterCount)")
        require(bias == nil || bias!.count >= g.outputChannels, "bias shorter than outputChannels")
        require(output.count >= g.outputCount, "output holds \(output.count) floats, expected \(g.outputCount)")
        let resolved = Self.resolve(algorithm, g, .forward, context: context, workspace: workspace.count)
        require(workspaceSuffices(g, resolved, .forward, workspace.count),
                "workspace holds \(workspace.count) floats, \(resolved) forward needs more (workspaceCount gives \(workspaceCount(g, algorithm: resolved, direction: .forward))) on \(g)")
        BLAS.withThreads(for: resolved.blasContext(context), usesBLAS: resolved.usesBLAS) {
            switch resolved {
            case .naive: Conv2DNaive.forward(g, input: input, filter: filter, bias: bias, activation: activation, output: output)
            case .im2col: Conv2DIm2col.forward(g, input: input, filter: filter, bias: bias, activation: activation,
                                               output: output, workspace: workspace, context: context)
            case .winograd, .winograd4x4:
                guard let x = input.baseAddress, let w = filter.baseAddress, let y = output.baseAddress,
                      let tile = resolved.winogradTile else { return }
                Conv2DWinograd.forward(g, tile: tile, input: x, filter: w, bias: bias?.baseAddress, activation: activation, output: y,
                                       workspace: workspace, context: context)
            case .im2colImageParallel:
                guard let x = input.baseAddress, let w = filter.baseAddress, let y = output.baseAddress else { return }
                Conv2DImageParallel.forward(g, input: x, filter: w, bias: bias?.baseAddress, activation: activation, output: y,
                                            workspace: workspace, context: context)
            case .direct:
                guard let x = input.baseAddress, let w = filter.baseAddress, let y = output.baseAddress else { return }
                Conv2DDirect.forward(g, input: x, filter: w, bias: bias?.baseAddress, activation: activation, output: y,
                                     workspace: workspace, context: context)
            case .depthwise, .automatic:
                guard let x = input.baseAddress, let w = filter.baseAddress, let y = output.baseAddress else { return }
                Conv2DDepthwise.forward(g, input: x, filter: w, bias: bias?.baseAddress, activation: activation, output: y,
                                        context: context)
            }
        }
    }

    /// Gradient of the loss with respect to the input (the transposed convolution).
    ///
    ///     inputGradient[n,c',y,x] = Σ_{o in group of c'} Σ_{(i,j,u,v): i·S − P + u·D = y, j·S − P + v·D = x}
    ///                               outputGradient[n,o,i,j] · filter[o, c' − g·C/G, u, v]
    ///
    /// - Parameters:
    ///   - outputGradient: `[batch, outputChannels, outputHeight, outputWidth]`.
    ///   - filter: `[outputChannels, inputChannels/groups, kernelHeight, kernelWidth]`.
    ///   - inputGradient: `[batch, inputChannels, inputHeight, inputWidth]`, **overwritten**.
    ///   - workspace: at least `workspaceCount(g, algorithm:, direction: .backwardData)` floats.
    public static func backwardData(
        _ g: Conv2DGeometry, algorithm: Conv2DAlgorithm,
        outputGradient: UnsafeBufferPointer<Float>, filter: UnsafeBufferPointer<Float>,
        inputGradient: UnsafeMutableBufferPointer<Float>,
        workspace: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        require(outputGradient.count >= g.outputCount, "outputGradient holds \(outputGradient.count) floats, expected \(g.outputCount)")
        require(filter.count >= g.filterCount, "filter holds \(filter.count) floats, expected \(g.filterCount)")
        require(inputGradient.count >= g.inputCount, "inputGradient holds \(inputGradient.count) floats, expected \(g.inputCount)")
        let resolved = Self.resolve(algorithm, g, .backwardData, context: context, workspace: workspace.count)
        require(workspaceSuffices(g, resolved, .backwardData, workspace.count),
                "workspace holds \(workspace.count) floats, \(resolved) backwardData needs more (workspaceCount gives \(workspaceCount(g, algorithm: resolved, direction: .backwardData))) on \(g)")
        BLAS.withThreads(for: resolved.blasContext(context), usesBLAS: resolved.usesBLAS) {
            switch resolved {
            case .naive: Conv2DNaive.backwardData(g, outputGradient: outputGradient, filter: filter, inputGradient: inputGradient)
            case .im2col: Conv2DIm2col.backwardData(g, outputGradient: outputGradient, filter: filter,
                                                    inputGradient: inputGradient, workspace: workspace, context: context)
            case .winograd, .winograd4x4:
                guard let dy = outputGradient.baseAddress, let w = filter.baseAddress, let dx = inputGradient.baseAddress,
                      let tile = resolved.winogradTile else { return }
                Conv2DWinograd.backwardData(g, tile: tile, outputGradient: dy, filter: w, inputGradient: dx, workspace: workspace, context: context)
            case .im2colImageParallel:
                guard let dy = outputGradient.baseAddress, let w = filter.baseAddress, let dx = inputGradient.baseAddress else { return }
                Conv2DImageParallel.backwardData(g, outputGradient: dy, filter: w, inputGradient: dx, workspace: workspace,
                                                 context: context)
            case .direct:
                guard let dy = outputGradient.baseAddress, let w = filter.baseAddress, let dx = inputGradient.baseAddress else { return }
                Conv2DDirect.backwardData(g, outputGradient: dy, filter: w, inputGradient: dx, workspace: workspace, context: context)
            case .depthwise, .automatic:
                guard let dy = outputGradient.baseAddress, let w = filter.baseAddress, let dx = inputGradient.baseAddress else { return }
                Conv2DDepthwise.backwardData(g, outputGradient: dy, filter: w, inputGradient: dx, context: context)
            }
        }
    }

    /// Gradients of the loss with respect to the filter and the bias.
    ///
    ///     filterGradient[o,c,u,v] (+)= Σ_n Σ_i Σ_j outputGradient[n,o,i,j] · input[n, g·C/G + c, i·S − P + u·D, j·S − P + v·D]
    ///     biasGradient[o]         (+)= Σ_n Σ_i Σ_j outputGradient[n,o,i,j]
    ///
    /// - Parameters:
    ///   - input: `[batch, inputChannels, inputHeight, inputWidth]`.
    ///   - outputGradient: `[batch, outputChannels, outputHeight, outputWidth]`.
    ///   - filterGradient: `[outputChannels, inputChannels/groups, kernelHeight, kernelWidth]`.
    ///   - biasGradient: `[outputChannels]`, or `nil` when the layer has no bias.
    ///   - accumulate: `false` **overwrites** both gradients; `true` **adds** to them (`+=`),
    ///     e.g. to sum gradients over several chunks of a batch.
    ///   - workspace: at least `workspaceCount(g, algorithm:, direction: .backwardFilter)` floats.
    public static func backwardFilter(
        _ g: Conv2DGeometry, algorithm: Conv2DAlgorithm,
        input: UnsafeBufferPointer<Float>, outputGradient: UnsafeBufferPointer<Float>,
        filterGradient: UnsafeMutableBufferPointer<Float>, biasGradient: UnsafeMutableBufferPointer<Float>?,
        accumulate: Bool = false,
        workspace: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        require(input.count >= g.inputCount, "input holds \(input.count) floats, expected \(g.inputCount)")
        require(outputGradient.count >= g.outputCount, "outputGradient holds \(outputGradient.count) floats, expected \(g.outputCount)")
        require(filterGradient.count >= g.filterCount, "filterGradient holds \(filterGradient.count) floats, expected \(g.filterCount)")
        require(biasGradient == nil || biasGradient!.count >= g.outputChannels, "biasGradient shorter than outputChannels")
        let resolved = Self.resolve(algorithm, g, .backwardFilter, context: context, workspace: workspace.count)
        require(workspaceSuffices(g, resolved, .backwardFilter, workspace.count),
                "workspace holds \(workspace.count) floats, \(resolved) backwardFilter needs more (workspaceCount gives \(workspaceCount(g, algorithm: resolved, direction: .backwardFilter))) on \(g)")
        BLAS.withThreads(for: resolved.blasContext(context), usesBLAS: resolved.usesBLAS) {
            switch resolved {
            case .im2colImageParallel:
                guard let x = input.baseAddress, let dw = filterGradient.baseAddress else { return }
                Conv2DImageParallel.backwardFilter(g, input: x, outputGradient: outputGradient, filterGradient: dw,
                                                   biasGradient: biasGradient, accumulate: accumulate, workspace: workspace,
                                                   context: context)
            case .direct:
                guard let x = input.baseAddress, let dw = filterGradient.baseAddress else { return }
                Conv2DDirect.backwardFilter(g, input: x, outputGradient: outputGradient, filterGradient: dw,
                                            biasGradient: biasGradient, accumulate: accumulate, workspace: workspace,
                                            context: context)
            case .depthwise, .automatic:
                guard let x = input.baseAddress, let dw = filterGradient.baseAddress else { return }
                Conv2DDepthwise.backwardFilter(g, input: x, outputGradient: outputGradient, filterGradient: dw,
                                               biasGradient: biasGradient, accumulate: accumulate, context: context)
            case .winograd, .winograd4x4:
                guard let x = input.baseAddress, let dw = filterGradient.baseAddress,
                      let tile = resolved.winogradTile else { return }
                Conv2DWinograd.backwardFilter(g, tile: tile, input: x, outputGradient: outputGradient, filterGradient: dw,
                                              biasGradient: biasGradient, accumulate: accumulate, workspace: workspace, context: context)
            case .naive: Conv2DNaive.backwardFilter(g, input: input, outputGradient: outputGradient,
                                                    filterGradient: filterGradient, biasGradient: biasGradient, accumulate: accumulate)
            case .im2col: Conv2DIm2col.backwardFilter(g, input: input, outputGradient: outputGradient,
                                                      filterGradient: filterGradient, biasGradient: biasGradient,
                                                      accumulate: accumulate, workspace: workspace, context: context)
            }
        }
    }
}
