/// 2-D convolution (cross-correlation) with or without bias, NCHW input, OIHW filter.
///
///     input   x  [batch, inputChannels, inputHeight, inputWidth]
///     filter  w  [outputChannels, inputChannels / groups, kernelHeight, kernelWidth]
///     bias    b  [outputChannels], or none (b = 0: PyTorch's `bias=False`)
///     output  y  [batch, outputChannels, outputHeight, outputWidth]
///
///     y[n,o,i,j] = b[o] + Σ_c Σ_u Σ_v x[n, g·C/G + c, i·S − P + u·D, j·S − P + v·D] · w[o,c,u,v]
///     outputHeight = (inputHeight + 2·P − D·(kernelHeight − 1) − 1) / S + 1
///
/// Parameters are named as in PyTorch's `state_dict`: `weight` (the filter) and, with a bias,
/// `bias`.
/// The arithmetic is ``Conv2DKernel``'s (``algorithm`` selects naive loops, im2col + GEMM, Winograd, depthwise, direct, or `.automatic`).
/// Input height and width are free: the geometry is built from each input's shape.
public struct Conv2D: Layer {
    /// `[outputChannels, inputChannels / groups, kernelHeight, kernelWidth]`. Assigning another
    /// shape makes the next ``forward(_:context:)`` / ``backward(_:cache:context:)`` throw `.mismatch`.
    public var filter: Tensor
    /// `[outputChannels]`, or `nil` for a convolution without bias (checked like ``filter``:
    /// whether a bias exists is fixed at creation, see ``hasBias``).
    public var bias: Tensor?
    /// Whether the layer has a bias (its parameters are then `weight`, `bias`; else `weight`).
    public let hasBias: Bool

    public let strideHeight: Int
    public let strideWidth: Int
    public let paddingHeight: Int
    public let paddingWidth: Int
    public let dilationHeight: Int
    public let dilationWidth: Int
    public let groups: Int
    /// The kernel algorithm (default: `.automatic`, the kernels' per-shape choice).
    public let algorithm: Conv2DAlgorithm
    /// Applied to the output in the convolution's own pass (a fused epilogue) instead of by a
    /// separate layer: `.relu` is `Conv2D` then ``ReLU`` in one pass over memory, forward and
    /// backward (the cache then keeps the output for the ReLU's mask). Default `.identity`.
    public var activation: FusedActivation = .identity

    public let outputChannels: Int
    public let inputChannels: Int
    public let kernelHeight: Int
    public let kernelWidth: Int
    /// The shape ``filter`` must keep: `[outputChannels, inputChannels / groups, kernelHeight, kernelWidth]`.
    public let filterShape: Shape

    /// A convolution with the given parameters.
    ///
    /// - Throws: ``ShapeError`` when the filter is not rank 4, the bias is not `[outputChannels]`,
    ///   `groups` does not divide the channels, or a stride/dilation is < 1 or a padding < 0.
    public init(filter: Tensor, bias: Tensor?,
                stride: (height: Int, width: Int) = (1, 1), padding: (height: Int, width: Int) = (0, 0),
                dilation: (height: Int, width: Int) = (1, 1), groups: Int = 1,
                algorithm: Conv2DAlgorithm = .automatic) throws(ShapeError) {
        try ShapeCheck.rank(filter.shape, 4, "Conv2D filter", layout: "[outputChannels, inputChannels/groups, kernelHeight, kernelWidth]")
        if let bias { try ShapeCheck.equal(bias.shape, [filter.shape[0]], "Conv2D bias") }
        if groups < 1 || filter.shape[0] % groups != 0 {
            throw ShapeError(.invalidValue, "Conv2D groups (\(groups)) must be >= 1 and divide outputChannels (\(filter.shape[0]))")
        }
        if dilation.height < 1 || dilation.width < 1 {
            throw ShapeError(.nonPositive, "Conv2D dilation must be >= 1, got (\(dilation.height), \(dilation.width))")
        }
        // Validate the hyper-parameters once with a 1-image geometry on the smallest input that fits.
        let extentH = try CheckedSize.sum(try CheckedSize.product([dilation.height, filter.shape[2] - 1], "Conv2D dilated kernelHeight"),
                                          1, "Conv2D dilated kernelHeight extent")
        let extentW = try CheckedSize.sum(try CheckedSize.product([dilation.width, filter.shape[3] - 1], "Conv2D dilated kernelWidth"),
                                          1, "Conv2D dilated kernelWidth extent")
        let inputChannels = try CheckedSize.product([filter.shape[1], groups], "Conv2D inputChannels (filter.shape[1] x groups)")
        _ = try Conv2DGeometry(batch: 1, inputChannels: inputChannels,
                               inputHeight: max(extentH, 1), inputWidth: max(extentW, 1),
                               outputChannels: filter.shape[0], kernelHeight: filter.shape[2], kernelWidth: filter.shape[3],
                               strideHeight: stride.height, strideWidth: stride.width,
                               paddingHeight: padding.height, paddingWidth: padding.width,
                               dilationHeight: dilation.height, dilationWidth: dilation.width, groups: groups)
        self.filter = filter
        self.bias = bias
        self.hasBias = bias != nil
        self.outputChannels = filter.shape[0]
        self.inputChannels = inputChannels
        self.kernelHeight = filter.shape[2]
        self.kernelWidth = filter.shape[3]
        self.filterShape = filter.shape
        self.strideHeight = stride.height
        self.strideWidth = stride.width
        self.paddingHeight = padding.height
        self.paddingWidth = padding.width
        self.dilationHeight = dilation.height
        self.dilationWidth = dilation.width
        self.groups = groups
        self.algorithm = algorithm
    }

    /// A square-kernel convolution with weights drawn by `initializer` (fanIn = C/G·K·K,
    /// fanOut = O·K·K); `bias: false` leaves out the bias (no bias values are drawn then).
    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                groups: Int = 1, bias: Bool = true, initializer: Initializer = .heNormal,
                algorithm: Conv2DAlgorithm = .automatic,
                using generator: inout some RandomNumberGenerator) throws(ShapeError) {
        if groups < 1 || inputChannels % groups != 0 {
            throw ShapeError(.invalidValue, "Conv2D groups (\(groups)) must be >= 1 and divide inputChannels (\(inputChannels))")
        }
        let shape = try Shape([outputChannels, inputChannels / groups, kernelSize, kernelSize])
        let fanIn = inputChannels / groups * kernelSize * kernelSize
        let w = try initializer.weight(shape: shape, fanIn: fanIn, fanOut: outputChannels * kernelSize * kernelSize,
                                       using: &generator)
        let b = bias ? initializer.bias(count: outputChannels, fanIn: fanIn, using: &generator) : nil
        try self.init(filter: w, bias: b, stride: (stride, stride), padding: (padding, padding),
                      groups: groups, algorithm: algorithm)
    }

    /// `["weight", "bias"]`, or `["weight"]` without bias.
    public var parameterNames: [String] { hasBias ? ["weight", "bias"] : ["weight"] }
    public var parameters: [Tensor] {
        guard hasBias, let bias else { return [filter] }
        return [filter, bias]
    }
    public mutating func updateParameters(_ body: (Int, inout Tensor) -> Void) {
        body(0, &filter)
        guard hasBias, var b = bias else { return }
        bias = nil  // the closure then holds the only reference: updated in place
        body(1, &b)
        bias = b
    }

    /// Throws `.mismatch` unless ``filter`` and ``bias`` still have the shapes the layer was made
    /// with, and the bias is present exactly when ``hasBias`` (they are public `var`s; a kernel
    /// must never see a wrong-sized buffer).
    public func validateParameters() throws(ShapeError) {
        try ShapeCheck.equal(filter.shape, filterShape, "Conv2D filter")
        switch (hasBias, bias) {
        case (true, let b?):
            try ShapeCheck.equal(b.shape, Shape(uncheckedDimensions: [outputChannels], count: outputChannels), "Conv2D bias")
        case (false, nil):
            break
        case (true, nil):
            throw ShapeError(.mismatch, "Conv2D bias was removed from a layer made with a bias")
        case (false, _?):
            throw ShapeError(.mismatch, "Conv2D bias was set on a layer made without bias")
        }
    }

    /// The validated geometry for an input of shape `inputShape`.
    ///
    /// - Throws: ``ShapeError`` `.mismatch` when the input is not `[N, inputChannels, H, W]`,
    ///   or the geometry's errors (kernel larger than the padded input, …).
    public func geometry(for inputShape: Shape) throws(ShapeError) -> Conv2DGeometry {
        try ShapeCheck.rank(inputShape, 4, "Conv2D input", layout: "[batch, channels, height, width]")
        try ShapeCheck.axis(inputShape, 1, inputChannels, "Conv2D input", "channels")
        return try Conv2DGeometry(batch: inputShape[0], inputChannels: inputChannels,
                                  inputHeight: inputShape[2], inputWidth: inputShape[3],
                                  outputChannels: outputChannels, kernelHeight: kernelHeight, kernelWidth: kernelWidth,
                                  strideHeight: strideHeight, strideWidth: strideWidth,
                                  paddingHeight: paddingHeight, paddingWidth: paddingWidth,
                                  dilationHeight: dilationHeight, dilationWidth: dilationWidth, groups: groups)
    }

    /// The output shape for an input of shape `inputShape`.
    public func outputShape(for inputShape: Shape) throws(ShapeError) -> Shape {
        let g = try geometry(for: inputShape)
        return Shape(uncheckedDimensions: [g.batch, g.outputChannels, g.outputHeight, g.outputWidth], count: g.outputCount)
    }

    /// The input and its geometry (and the output, with a fused activation).
    public struct Cache: Sendable {
        public let input: Tensor
        public let geometry: Conv2DGeometry
        /// The output, when ``Conv2D/activation`` is not `.identity`.
        public var output: Tensor? = nil
    }

    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Cache) {
        try forward(input, activation: activation, context: context)
    }

    /// The forward pass with `activation` in the epilogue; the cache keeps the output only when
    /// `activation` is this layer's own (a container that fuses the next layer's ReLU keeps
    /// that layer's cache itself).
    func forward(_ input: Tensor, activation: FusedActivation, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Cache) {
        try validateParameters()
        let g = try geometry(for: input.shape)
        let workspaceCount = Conv2DKernel.workspaceCount(g, algorithm: algorithm, direction: .forward)
        try ShapeCheck.fitsInMemory([g.outputCount, workspaceCount], "Conv2D forward on \(g)")
        var output = scratch(g.outputCount)
        var workspace = scratch(workspaceCount)
        input.withUnsafeBufferPointer { x in
            filter.withUnsafeBufferPointer { w in
                output.withUnsafeMutableBufferPointer { y in
                    workspace.withUnsafeMutableBufferPointer { ws in
                        if let bias {
                            bias.withUnsafeBufferPointer { b in
                                Conv2DKernel.forward(g, algorithm: algorithm, input: x, filter: w, bias: b, activation: activation,
                                                     output: y, workspace: ws, context: context)
                            }
                        } else {
                            Conv2DKernel.forward(g, algorithm: algorithm, input: x, filter: w, bias: nil, activation: activation,
                                                 output: y, workspace: ws, context: context)
                        }
                    }
                }
            }
        }
        let shape = Shape(uncheckedDimensions: [g.batch, g.outputChannels, g.outputHeight, g.outputWidth], count: g.outputCount)
        let y = Tensor(uncheckedShape: shape, scalars: output)
        return (y, Cache(input: input, geometry: g, output: self.activation == .identity ? nil : y))
    }

    /// Returns `(dL/dx, [dL/dfilter, dL/dbias])` (`[dL/dfilter]` without bias).
    public func backward(_ outputGradient: Tensor, cache: Cache, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        let (dx, dθ) = try backward(outputGradient, cache: cache, inputGradient: true, context: context)
        return (dx ?? Tensor.zeros(cache.input.shape), dθ)
    }

    /// `[dL/dfilter, dL/dbias]` (`[dL/dfilter]` without bias): no backward-data convolution.
    public func parameterGradients(_ outputGradient: Tensor, cache: Cache, context: ComputeContext) throws(ShapeError) -> [Tensor] {
        try backward(outputGradient, cache: cache, inputGradient: false, context: context).parameterGradients
    }

    func backward(_ givenOutputGradient: Tensor, cache: Cache, inputGradient: Bool, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor?, parameterGradients: [Tensor]) {
        let g = cache.geometry
        let expected = Shape(uncheckedDimensions: [g.batch, g.outputChannels, g.outputHeight, g.outputWidth], count: g.outputCount)
        try ShapeCheck.equal(givenOutputGradient.shape, expected, "Conv2D output gradient")
        var outputGradient = givenOutputGradient
        switch activation {
        case .identity:
            break
        case .relu:
            // dz = dy · [y > 0] (the fused ReLU's backward), then the convolution's.
            guard let y = cache.output, y.shape == expected else {
                throw ShapeError(.mismatch, "Conv2D with a fused activation needs a cache that holds its output")
            }
            var dz = scratch(g.outputCount)
            y.withUnsafeBufferPointer { yp in
                givenOutputGradient.withUnsafeBufferPointer { dy in
                    dz.withUnsafeMutableBufferPointer { d in
                        ReLUKernel.backward(algorithm: .simd, input: yp, outputGradient: dy, inputGradient: d, context: context)
                    }
                }
            }
            outputGradient = Tensor(uncheckedShape: expected, scalars: dz)
        }
        try validateParameters()
        try ShapeCheck.equal(filterShape, Shape(uncheckedDimensions: [g.outputChannels, g.inputChannelsPerGroup, g.kernelHeight, g.kernelWidth],
                                                count: g.filterCount), "Conv2D filter (cache from a layer of another shape)")
        let workspaceCount = max(inputGradient ? Conv2DKernel.workspaceCount(g, algorithm: algorithm, direction: .backwardData) : 0,
                                 Conv2DKernel.workspaceCount(g, algorithm: algorithm, direction: .backwardFilter))
        try ShapeCheck.fitsInMemory([g.inputCount, g.filterCount, workspaceCount], "Conv2D backward on \(g)")
        var dx = scratch(inputGradient ? g.inputCount : 0), dw = scratch(g.filterCount), db = scratch(hasBias ? g.outputChannels : 0)
        var workspace = scratch(workspaceCount)
        outputGradient.withUnsafeBufferPointer { dy in
            filter.withUnsafeBufferPointer { w in
                cache.input.withUnsafeBufferPointer { x in
                    workspace.withUnsafeMutableBufferPointer { ws in
                        if inputGradient {
                            dx.withUnsafeMutableBufferPointer { dxp in
                                Conv2DKernel.backwardData(g, algorithm: algorithm, outputGradient: dy, filter: w,
                                                          inputGradient: dxp, workspace: ws, context: context)
                            }
                        }
                        dw.withUnsafeMutableBufferPointer { dwp in
                            db.withUnsafeMutableBufferPointer { dbp in
                                Conv2DKernel.backwardFilter(g, algorithm: algorithm, input: x, outputGradient: dy,
                                                            filterGradient: dwp, biasGradient: hasBias ? dbp : nil,
                                                            accumulate: false, workspace: ws, context: context)
                            }
                        }
                    }
                }
            }
        }
        let filterGradient = Tensor(uncheckedShape: filter.shape, scalars: dw)
        let inputGradientTensor = inputGradient ? Tensor(uncheckedShape: cache.input.shape, scalars: dx) : nil
        guard hasBias else { return (inputGradientTensor, [filterGradient]) }
        let biasShape = Shape(uncheckedDimensions: [outputChannels], count: outputChannels)
        return (inputGradientTensor, [filterGradient, Tensor(uncheckedShape: biasShape, scalars: db)])
    }
}
