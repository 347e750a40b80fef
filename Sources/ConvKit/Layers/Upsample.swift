/// Upsampling of `[N, C, H, W]` images by integer factors to `[N, C, H·sH, W·sW]` (PyTorch's
/// `nn.Upsample(scale_factor=…, mode=…, align_corners=…)`).
///
///     nearest:   y[i, j] = x[⌊i/sH⌋, ⌊j/sW⌋]
///     bilinear:  y[i, j] = Σ_{a,b ∈ {0,1}} λ_a(i) · μ_b(j) · x[h_a(i), w_b(j)]
///                (source row (i + ½)/sH − ½ clamped at 0, or i·(H − 1)/(H·sH − 1) with alignCorners)
///
/// Backward is the adjoint (each output's gradient goes back to its sources with the same
/// weights). Arithmetic and the exact index rules in ``UpsampleKernel``; the cache is the input shape.
public struct Upsample: Layer {
    /// The interpolation.
    public enum Mode: Sendable, Hashable {
        case nearest
        /// `alignCorners`: PyTorch's `align_corners` (default `false`).
        case bilinear(alignCorners: Bool)
    }

    public let scaleHeight: Int
    public let scaleWidth: Int
    public let mode: Mode
    public let algorithm: ResamplingAlgorithm

    /// - Throws: ``ShapeError`` `.nonPositive` for a scale factor < 1.
    public init(scaleFactor: (height: Int, width: Int), mode: Mode = .nearest, algorithm: ResamplingAlgorithm = .simd) throws(ShapeError) {
        if scaleFactor.height < 1 || scaleFactor.width < 1 {
            throw ShapeError(.nonPositive, "Upsample scale factor must be >= 1, got (\(scaleFactor.height), \(scaleFactor.width))")
        }
        scaleHeight = scaleFactor.height
        scaleWidth = scaleFactor.width
        self.mode = mode
        self.algorithm = algorithm
    }

    /// The same factor on both axes.
    public init(scaleFactor: Int, mode: Mode = .nearest, algorithm: ResamplingAlgorithm = .simd) throws(ShapeError) {
        try self.init(scaleFactor: (scaleFactor, scaleFactor), mode: mode, algorithm: algorithm)
    }

    public typealias Cache = Shape

    /// The output shape for an input of shape `s`.
    ///
    /// - Throws: ``ShapeError`` `.mismatch` for an input that is not rank 4, `.overflow` when the
    ///   output does not fit in memory.
    public func outputShape(for s: Shape) throws(ShapeError) -> Shape {
        try ShapeCheck.rank(s, 4, "Upsample input", layout: "[batch, channels, height, width]")
        let oh = try CheckedSize.product([s[2], scaleHeight], "Upsample output height")
        let ow = try CheckedSize.product([s[3], scaleWidth], "Upsample output width")
        let shape = try Shape([s[0], s[1], oh, ow])
        try ShapeCheck.fitsInMemory([shape.count], "Upsample output \(shape)")
        return shape
    }

    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Shape) {
        let shape = try outputShape(for: input.shape)
        var y = scratch(shape.count)
        if shape.count > 0 {
            let s = input.shape
            input.withUnsafeBufferPointer { x in
                y.withUnsafeMutableBufferPointer { yp in
                    switch mode {
                    case .nearest:
                        UpsampleKernel.nearestForward(algorithm: algorithm, planes: s[0] * s[1], inputHeight: s[2], inputWidth: s[3],
                                                      scaleHeight: scaleHeight, scaleWidth: scaleWidth, input: x, output: yp, context: context)
                    case .bilinear(let alignCorners):
                        UpsampleKernel.bilinearForward(algorithm: algorithm, planes: s[0] * s[1], inputHeight: s[2], inputWidth: s[3],
                                                       scaleHeight: scaleHeight, scaleWidth: scaleWidth, alignCorners: alignCorners,
                                                       input: x, output: yp, context: context)
                    }
                }
            }
        }
        return (Tensor(uncheckedShape: shape, scalars: y), input.shape)
    }

    public func backward(_ outputGradient: Tensor, cache s: Shape, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        try ShapeCheck.equal(outputGradient.shape, try outputShape(for: s), "Upsample output gradient")
        var dx = scratch(s.count)
        if s.count > 0 {
            outputGradient.withUnsafeBufferPointer { dy in
                dx.withUnsafeMutableBufferPointer { d in
                    switch mode {
                    case .nearest:
                        UpsampleKernel.nearestBackward(algorithm: algorithm, planes: s[0] * s[1], inputHeight: s[2], inputWidth: s[3],
                                                       scaleHeight: scaleHeight, scaleWidth: scaleWidth, outputGradient: dy,
                                                       inputGradient: d, context: context)
                    case .bilinear(let alignCorners):
                        UpsampleKernel.bilinearBackward(algorithm: algorithm, planes: s[0] * s[1], inputHeight: s[2], inputWidth: s[3],
                                                        scaleHeight: scaleHeight, scaleWidth: scaleWidth, alignCorners: alignCorners,
                                                        outputGradient: dy, inputGradient: d, context: context)
                    }
                }
            }
        }
        return (Tensor(uncheckedShape: s, scalars: dx), [])
    }
}
