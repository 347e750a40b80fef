/// How a convolution is computed. Every algorithm gives the same result up to float rounding
/// and is tested against ``naive`` over one shape table.
public enum Conv2DAlgorithm: String, CaseIterable, Sendable, Hashable {
    /// The textbook loops (seven nested loops per direction). Slow; the reference.
    case naive
    /// Lowering: im2col copies each receptive field into a column, then one `cblas_sgemm`
    /// per image and group does the arithmetic (Caffe's three GEMMs). Pointwise convolutions
    /// (1×1, stride 1, no padding) skip the copy and multiply the input directly.
    case im2col
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
        switch algorithm {
        case .naive: return 0
        case .im2col: return Conv2DLoweringPlan(g, capBytes: capBytes).workspaceCount
        }
    }

    /// `true` when `workspace` floats are enough for `algorithm` on `g` (the kernels' precondition).
    static func workspaceSuffices(_ g: Conv2DGeometry, _ algorithm: Conv2DAlgorithm, _ workspace: Int) -> Bool {
        switch algorithm {
        case .naive: return true
        case .im2col: return Conv2DLoweringPlan(g, workspaceFloats: workspace).workspaceCount <= workspace
        }
    }

    /// The `cblas_sgemm` calls one call of `algorithm` issues in `direction` (empty for `naive`):
    /// the benchmark times the same GEMMs bare to report the fraction of the BLAS ceiling.
    public static func gemmCalls(
        _ g: Conv2DGeometry, algorithm: Conv2DAlgorithm, direction: Conv2DDirection,
        workspaceCount: Int? = nil
    ) -> [GEMMCall] {
        let floats = workspaceCount ?? Self.workspaceCount(g, algorithm: algorithm, direction: direction)
        switch algorithm {
        case .naive: return []
        case .im2col: return Conv2DIm2col.gemmCalls(g, plan: Conv2DLoweringPlan(g, workspaceFloats: floats), direction: direction)
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
        precondition(input.count >= g.inputCount, "input holds \(input.count) floats, expected \(g.inputCount)")
        precondition(filter.count >= g.filterCount, "filter holds \(filter.count) floats, expected \(g.filterCount)")
        precondition(bias == nil || bias!.count >= g.outputChannels, "bias shorter than outputChannels")
        precondition(output.count >= g.outputCount, "output holds \(output.count) floats, expected \(g.outputCount)")
        precondition(workspaceSuffices(g, algorithm, workspace.count), "workspace of \(workspace.count) floats too small for \(algorithm)")
        switch algorithm {
        case .naive: Conv2DNaive.forward(g, input: input, filter: filter, bias: bias, activation: activation, output: output)
        case .im2col: Conv2DIm2col.forward(g, input: input, filter: filter, bias: bias, activation: activation,
                                           output: output, workspace: workspace, context: context)
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
        precondition(outputGradient.count >= g.outputCount, "outputGradient holds \(outputGradient.count) floats, expected \(g.outputCount)")
        precondition(filter.count >= g.filterCount, "filter holds \(filter.count) floats, expected \(g.filterCount)")
        precondition(inputGradient.count >= g.inputCount, "inputGradient holds \(inputGradient.count) floats, expected \(g.inputCount)")
        precondition(workspaceSuffices(g, algorithm, workspace.count), "workspace of \(workspace.count) floats too small for \(algorithm)")
        switch algorithm {
        case .naive: Conv2DNaive.backwardData(g, outputGradient: outputGradient, filter: filter, inputGradient: inputGradient)
        case .im2col: Conv2DIm2col.backwardData(g, outputGradient: outputGradient, filter: filter,
                                                inputGradient: inputGradient, workspace: workspace, context: context)
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
        precondition(input.count >= g.inputCount, "input holds \(input.count) floats, expected \(g.inputCount)")
        precondition(outputGradient.count >= g.outputCount, "outputGradient holds \(outputGradient.count) floats, expected \(g.outputCount)")
        precondition(filterGradient.count >= g.filterCount, "filterGradient holds \(filterGradient.count) floats, expected \(g.filterCount)")
        precondition(biasGradient == nil || biasGradient!.count >= g.outputChannels, "biasGradient shorter than outputChannels")
        precondition(workspaceSuffices(g, algorithm, workspace.count), "workspace of \(workspace.count) floats too small for \(algorithm)")
        switch algorithm {
        case .naive: Conv2DNaive.backwardFilter(g, input: input, outputGradient: outputGradient,
                                                filterGradient: filterGradient, biasGradient: biasGradient, accumulate: accumulate)
        case .im2col: Conv2DIm2col.backwardFilter(g, input: input, outputGradient: outputGradient,
                                                  filterGradient: filterGradient, biasGradient: biasGradient,
                                                  accumulate: accumulate, workspace: workspace, context: context)
        }
    }
}
