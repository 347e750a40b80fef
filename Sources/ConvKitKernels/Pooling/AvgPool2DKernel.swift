/// 2-D average pooling on raw NCHW buffers, forward and backward.
///
///     output[n,c,i,j] = (Σ over the valid taps (u, v) of input[n, c, i·S − P + u, j·S − P + v]) / d(i, j)
///
///     d(i, j) = windowHeight · windowWidth                   when countPadding (padding counts as zeros;
///                                                            PyTorch count_include_pad = true)
///             = (valid rows of the window) · (valid columns)  otherwise (only real elements count)
///
/// The sum runs over the taps in row-major order starting from 0, then one division, in every
/// algorithm (so the forward results are bit-identical across algorithms and thread counts).
public enum AvgPool2DKernel {
    /// Average-pooling forward pass.
    ///
    /// - Parameters:
    ///   - countPadding: whether padded zeros count in the divisor (see the type's doc).
    ///   - input: `[batch, channels, inputHeight, inputWidth]`.
    ///   - output: `[batch, channels, outputHeight, outputWidth]`, **overwritten**.
    ///   - context: `.simd` splits the `batch · channels` planes over up to `context.threads`
    ///     threads; `.naive` runs on the caller's thread.
    public static func forward(
        _ g: Pool2DGeometry, algorithm: PoolingAlgorithm, countPadding: Bool,
        input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>,
        context: ComputeContext
    ) {
        require(input.count >= g.inputCount, "input holds \(input.count) floats, expected \(g.inputCount)")
        require(output.count >= g.outputCount, "output holds \(output.count) floats, expected \(g.outputCount)")
        guard let x = input.baseAddress, let y = output.baseAddress else { return }
        switch algorithm {
        case .naive: AvgPool2DNaive.forward(g, countPadding: countPadding, input: x, output: y)
        case .simd: AvgPool2DSIMD.forward(g, countPadding: countPadding, input: x, output: y, context: context)
        }
    }

    /// Average-pooling backward pass: spreads each output gradient evenly over its window.
    ///
    ///     inputGradient[n,c,y,x] = Σ over outputs (i, j) whose window holds (y, x) of outputGradient[n,c,i,j] / d(i, j)
    ///
    /// (padded taps receive nothing; with `countPadding` their share is simply lost, which is the
    /// exact gradient of the forward pass.)
    ///
    /// - Parameters:
    ///   - countPadding: must be the value used in the forward pass.
    ///   - outputGradient: `[batch, channels, outputHeight, outputWidth]`.
    ///   - inputGradient: `[batch, channels, inputHeight, inputWidth]`, **overwritten**.
    ///     With overlapping windows the algorithms add the shares in different orders
    ///     (results agree to a few ulps; each algorithm is deterministic for any thread count).
    public static func backward(
        _ g: Pool2DGeometry, algorithm: PoolingAlgorithm, countPadding: Bool,
        outputGradient: UnsafeBufferPointer<Float>, inputGradient: UnsafeMutableBufferPointer<Float>,
        context: ComputeContext
    ) {
        require(outputGradient.count >= g.outputCount, "outputGradient holds \(outputGradient.count) floats, expected \(g.outputCount)")
        require(inputGradient.count >= g.inputCount, "inputGradient holds \(inputGradient.count) floats, expected \(g.inputCount)")
        guard let dy = outputGradient.baseAddress, let dx = inputGradient.baseAddress else { return }
        switch algorithm {
        case .naive: AvgPool2DNaive.backward(g, countPadding: countPadding, outputGradient: dy, inputGradient: dx)
        case .simd: AvgPool2DSIMD.backward(g, countPadding: countPadding, outputGradient: dy, inputGradient: dx, context: context)
        }
    }

    /// The divisor `d` of an output whose window has `rows × columns` valid taps.
    @inline(__always)
    static func divisor(_ g: Pool2DGeometry, countPadding: Bool, rows: Int, columns: Int) -> Float {
        Float(countPadding ? g.windowPlane : rows * columns)
    }
}
