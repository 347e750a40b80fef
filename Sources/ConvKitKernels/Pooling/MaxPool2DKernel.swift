/// 2-D max pooling on raw NCHW buffers, forward and backward.
///
///     output[n,c,i,j]  = max over the valid taps (u, v) of input[n, c, i·S − P + u, j·S − P + v]
///     indices[n,c,i,j] = (i·S − P + u*)·inputWidth + (j·S − P + v*)   for the winning tap (u*, v*)
///
/// Rules (identical in every algorithm, and tested):
/// - **Padding never wins**: padded positions are skipped (as if −∞), so the winner is always a
///   real input element (``Pool2DGeometry`` guarantees every window holds one).
/// - **Ties**: the first maximum in row-major window order (`u`, then `v`) wins.
/// - **NaN**: a NaN in the window wins and propagates (output NaN, index of the first NaN in
///   row-major order), like PyTorch's `max_pool2d`. Comparisons alone would silently drop it.
/// - **Indices** are `Int32` flat offsets **within the input plane** `[n, c]`
///   (`y · inputWidth + x`), not within the whole tensor.
///
/// Signatures mirror ``Conv2DKernel``: `(geometry, algorithm, tensors read, tensors written,
/// context)`. Kernels never allocate; sizes are asserted (`precondition`), not thrown.
public enum MaxPool2DKernel {
    /// Max-pooling forward pass: writes the maxima and the index of each winner.
    ///
    /// - Parameters:
    ///   - input: `[batch, channels, inputHeight, inputWidth]`.
    ///   - output: `[batch, channels, outputHeight, outputWidth]`, **overwritten**.
    ///   - indices: `[batch, channels, outputHeight, outputWidth]` `Int32` flat indices within
    ///     the input plane, **overwritten**; keep them for ``backward(_:algorithm:outputGradient:indices:inputGradient:context:)``.
    ///   - context: `.simd` splits the `batch · channels` planes over up to `context.threads`
    ///     threads; `.naive` runs on the caller's thread.
    public static func forward(
        _ g: Pool2DGeometry, algorithm: PoolingAlgorithm,
        input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>,
        indices: UnsafeMutableBufferPointer<Int32>, context: ComputeContext
    ) {
        require(input.count >= g.inputCount, "input holds \(input.count) floats, expected \(g.inputCount)")
        require(output.count >= g.outputCount, "output holds \(output.count) floats, expected \(g.outputCount)")
        require(indices.count >= g.outputCount, "indices holds \(indices.count) values, expected \(g.outputCount)")
        guard let x = input.baseAddress, let y = output.baseAddress, let k = indices.baseAddress else { return }
        switch algorithm {
        case .naive: MaxPool2DNaive.forward(g, input: x, output: y, indices: k)
        case .simd: MaxPool2DSIMD.forward(g, input: x, output: y, indices: k, context: context)
        }
    }

    /// Max-pooling backward pass: routes each output gradient to the input element that won.
    ///
    ///     inputGradient[n,c,p] = Σ over outputs (i, j) with indices[n,c,i,j] == p of outputGradient[n,c,i,j]
    ///
    /// (overlapping windows, e.g. 3×3 stride 2, can route several gradients to one element; they
    /// are summed in output order, so every algorithm and thread count gives the same bits.)
    ///
    /// - Parameters:
    ///   - outputGradient: `[batch, channels, outputHeight, outputWidth]`.
    ///   - indices: the indices written by ``forward(_:algorithm:input:output:indices:context:)``;
    ///     each must lie in `0 ..< inputHeight · inputWidth` (`precondition`).
    ///   - inputGradient: `[batch, channels, inputHeight, inputWidth]`, **overwritten** (zero
    ///     where no output gradient lands).
    public static func backward(
        _ g: Pool2DGeometry, algorithm: PoolingAlgorithm,
        outputGradient: UnsafeBufferPointer<Float>, indices: UnsafeBufferPointer<Int32>,
        inputGradient: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        require(outputGradient.count >= g.outputCount, "outputGradient holds \(outputGradient.count) floats, expected \(g.outputCount)")
        require(indices.count >= g.outputCount, "indices holds \(indices.count) values, expected \(g.outputCount)")
        require(inputGradient.count >= g.inputCount, "inputGradient holds \(inputGradient.count) floats, expected \(g.inputCount)")
        guard let dy = outputGradient.baseAddress, let k = indices.baseAddress, let dx = inputGradient.baseAddress else { return }
        switch algorithm {
        case .naive: MaxPool2DNaive.backward(g, outputGradient: dy, indices: k, inputGradient: dx)
        case .simd: MaxPool2DSIMD.backward(g, outputGradient: dy, indices: k, inputGradient: dx, context: context)
        }
    }
}
