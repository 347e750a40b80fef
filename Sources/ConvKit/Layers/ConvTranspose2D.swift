/// 2-D transposed convolution (PyTorch's `nn.ConvTranspose2d`): the adjoint of a ``Conv2D`` in
/// its input, plus a bias. NCHW input, weight in PyTorch's layout.
///
///     input   x  [batch, inputChannels, H, W]
///     weight  w  [inputChannels, outputChannels / groups, kernelHeight, kernelWidth]
///     bias    b  [outputChannels]                    (optional)
///     output  y  [batch, outputChannels, OH, OW]
///
///     OH = (H − 1)·S − 2·P + D·(KH − 1) + outputPadding + 1          (OW likewise)
///     y[n, g·O/G + o, i·S − P + u·D, j·S − P + v·D] += x[n, c, i, j] · w[c, o, u, v]   (c in group g),  then + b
///
/// With the convolution `conv` of geometry input `[N, outputChannels, OH, OW]` → output
/// `[N, inputChannels, H, W]` (same kernel, stride, padding, dilation, groups; its filter
/// `[O, C/G, K, K]` is exactly `w`):
///
///     forward          y  = conv.backwardData(x; w) + b
///     input gradient   dx = conv.forward(dy; w)
///     weight gradient  dw = conv.backwardFilter(input: dy, outputGradient: x)
///     bias gradient    db = Σ_{n,i,j} dy[n, ·, i, j]
///
/// so every ``Conv2DAlgorithm`` serves. The convolution sees `H + ⌊outputPadding/S⌋` rows: when
/// `outputPadding ≥ S` (allowed when `D > S`) its extra rows get a zero input (``Pad2DKernel``)
/// and their input gradient is dropped. `outputPadding < max(S, D)` per axis (PyTorch's rule: it
/// picks one of the `S` input sizes a stride-`S` convolution maps to the same output size).
public struct ConvTranspose2D: Layer {
    /// `[inputChannels, outputChannels / groups, kernelHeight, kernelWidth]` (checked at each call).
    public var weight: Tensor
    /// `[outputChannels]`, or empty (`[0]`) without a bias.
    public var bias: Tensor
    public let hasBias: Bool
    public let inputChannels: Int
    public let outputChannels: Int
    public let kernelHeight: Int
    public let kernelWidth: Int
    public let strideHeight: Int
    public let strideWidth: Int
    public let paddingHeight: Int
    public let paddingWidth: Int
    public let outputPaddingHeight: Int
    public let outputPaddingWidth: Int
    public let dilationHeight: Int
    public let dilationWidth: Int
    public let groups: Int
    /// The convolution kernels' algorithm (default `.automatic`).
    public let algorithm: Conv2DAlgorithm
    /// The shape ``weight`` must keep.
    public let weightShape: Shape

    /// A transposed convolution with the given parameters.
    ///
    /// - Throws: ``ShapeError``: `.mismatch` for a weight that is not rank 4 or a bias that is not
    ///   `[outputChannels]`; `.nonPositive` for a kernel size, stride or dilation < 1 or a padding
    ///   or output padding < 0; `.invalidValue` when `groups` does not divide the input channels,
    ///   or an output padding is not smaller than the stride or the dilation (PyTorch's
    ///   "output padding must be smaller than either stride or dilation").
    public init(weight: Tensor, bias: Tensor?,
                stride: (height: Int, width: Int) = (1, 1), padding: (height: Int, width: Int) = (0, 0),
                outputPadding: (height: Int, width: Int) = (0, 0), dilation: (height: Int, width: Int) = (1, 1),
                groups: Int = 1, algorithm: Conv2DAlgorithm = .automatic) throws(ShapeError) {
        try ShapeCheck.rank(weight.shape, 4, "ConvTranspose2D weight",
                            layout: "[inputChannels, outputChannels/groups, kernelHeight, kernelWidth]")
        for (value, name) in [(weight.shape[0], "inputChannels"), (weight.shape[1], "outputChannels/groups"),
                              (weight.shape[2], "kernelHeight"), (weight.shape[3], "kernelWidth"),
                              (stride.height, "strideHeight"), (stride.width, "strideWidth"),
                              (dilation.height, "dilationHeight"), (dilation.width, "dilationWidth"), (groups, "groups")] where value < 1 {
            throw ShapeError(.nonPositive, "ConvTranspose2D \(name) must be >= 1, got \(value)")
        }
        for (value, name) in [(padding.height, "paddingHeight"), (padding.width, "paddingWidth"),
                              (outputPadding.height, "outputPaddingHeight"), (outputPadding.width, "outputPaddingWidth")] where value < 0 {
            throw ShapeError(.nonPositive, "ConvTranspose2D \(name) must be >= 0, got \(value)")
        }
        if weight.shape[0] % groups != 0 {
            throw ShapeError(.invalidValue, "ConvTranspose2D groups (\(groups)) must divide inputChannels (\(weight.shape[0]))")
        }
        if outputPadding.height >= max(stride.height, dilation.height) || outputPadding.width >= max(stride.width, dilation.width) {
            throw ShapeError(.invalidValue,
                "ConvTranspose2D output padding (\(outputPadding.height), \(outputPadding.width)) must be smaller than either stride (\(stride.height), \(stride.width)) or dilation (\(dilation.height), \(dilation.width))")
        }
        let outputChannels = try CheckedSize.product([weight.shape[1], groups], "ConvTranspose2D outputChannels")
        if let bias {
            try ShapeCheck.equal(bias.shape, Shape(uncheckedDimensions: [outputChannels], count: outputChannels), "ConvTranspose2D bias")
        }
        self.weight = weight
        self.bias = bias ?? Tensor.zeros(Shape(uncheckedDimensions: [0], count: 0))
        self.hasBias = bias != nil
        self.weightShape = weight.shape
        self.inputChannels = weight.shape[0]
        self.outputChannels = outputChannels
        self.kernelHeight = weight.shape[2]
        self.kernelWidth = weight.shape[3]
        self.strideHeight = stride.height; self.strideWidth = stride.width
        self.paddingHeight = padding.height; self.paddingWidth = padding.width
        self.outputPaddingHeight = outputPadding.height; self.outputPaddingWidth = outputPadding.width
        self.dilationHeight = dilation.height; self.dilationWidth = dilation.width
        self.groups = groups
        self.algorithm = algorithm
    }

    /// A square-kernel transposed convolution with PyTorch's default initialisation
    /// (`initializer` with fanIn = `outputChannels/groups · K²`, PyTorch's fan-in of this weight
    /// layout, and fanOut = `inputChannels · K²`).
    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                outputPadding: Int = 0, dilation: Int = 1, groups: Int = 1, bias: Bool = true,
                initializer: Initializer = .pyTorchDefault, algorithm: Conv2DAlgorithm = .automatic,
                using generator: inout some RandomNumberGenerator) throws(ShapeError) {
        if groups < 1 || outputChannels % groups != 0 || inputChannels % groups != 0 {
            throw ShapeError(.invalidValue,
                "ConvTranspose2D groups (\(groups)) must be >= 1 and divide inputChannels (\(inputChannels)) and outputChannels (\(outputChannels))")
        }
        let shape = try Shape([inputChannels, outputChannels / groups, kernelSize, kernelSize])
        let fanIn = outputChannels / groups * kernelSize * kernelSize
        let w = try initializer.weight(shape: shape, fanIn: fanIn, fanOut: inputChannels * kernelSize * kernelSize, using: &generator)
        let b = bias ? initializer.bias(count: outputChannels, fanIn: fanIn, using: &generator) : nil
        try self.init(weight: w, bias: b, stride: (stride, stride), padding: (padding, padding),
                      outputPadding: (outputPadding, outputPadding), dilation: (dilation, dilation), groups: groups,
                      algorithm: algorithm)
    }

    public var parameterNames: [String] { hasBias ? ["weight", "bias"] : ["weight"] }
    public var parameters: [Tensor] { hasBias ? [weight, bias] : [weight] }
    public mutating func updateParameters(_ body: (Int, inout Tensor) -> Void) {
        body(0, &weight)
        if hasBias { body(1, &bias) }
    }

    /// Throws `.mismatch` unless ``weight`` and ``bias`` keep the shapes the layer was made with.
    public func validateParameters() throws(ShapeError) {
        try ShapeCheck.equal(weight.shape, weightShape, "ConvTranspose2D weight")
        let biasCount = hasBias ? outputChannels : 0
        try ShapeCheck.equal(bias.shape, Shape(uncheckedDimensions: [biasCount], count: biasCount), "ConvTranspose2D bias")
    }

    /// How an input is computed on: the convolution whose backwardData is this layer's forward,
    /// and the rows and columns of zeros its output needs below and right of the input.
    public struct Plan: Sendable, Hashable {
        public let convolution: Conv2DGeometry
        public let inputHeight: Int
        public let inputWidth: Int
        /// `⌊outputPadding/S⌋` per axis (0 unless `outputPadding ≥ S`).
        public var extraRows: Int { convolution.outputHeight - inputHeight }
        public var extraColumns: Int { convolution.outputWidth - inputWidth }
        public var outputShape: Shape {
            Shape(uncheckedDimensions: [convolution.batch, convolution.inputChannels, convolution.inputHeight, convolution.inputWidth],
                  count: convolution.inputCount)
        }
    }

    /// The plan for an input of shape `inputShape`.
    ///
    /// - Throws: ``ShapeError`` `.mismatch` for an input that is not `[N, inputChannels, H, W]`,
    ///   `.nonPositive` when the output size formula gives less than 1, and the convolution
    ///   geometry's errors (sizes that overflow).
    public func plan(for inputShape: Shape) throws(ShapeError) -> Plan {
        try ShapeCheck.rank(inputShape, 4, "ConvTranspose2D input", layout: "[batch, channels, height, width]")
        try ShapeCheck.axis(inputShape, 1, inputChannels, "ConvTranspose2D input", "channels")
        func size(_ n: Int, _ s: Int, _ p: Int, _ d: Int, _ k: Int, _ op: Int, _ axis: String) throws(ShapeError) -> Int {
            let grown = try CheckedSize.product([n - 1, s], "ConvTranspose2D \(axis)")
            let reach = try CheckedSize.product([d, k - 1], "ConvTranspose2D dilated kernel \(axis)")
            let twice = try CheckedSize.product([2, p], "ConvTranspose2D 2 x padding \(axis)")
            let total = try CheckedSize.sum(try CheckedSize.sum(grown, reach, "ConvTranspose2D \(axis)"), op + 1,
                                            "ConvTranspose2D \(axis)") - twice
            if total < 1 {
                throw ShapeError(.nonPositive,
                    "ConvTranspose2D output \(axis) (\(n) − 1)·\(s) − 2·\(p) + \(d)·(\(k) − 1) + \(op) + 1 = \(total) must be >= 1 (input shape \(inputShape))")
            }
            return total
        }
        let oh = try size(inputShape[2], strideHeight, paddingHeight, dilationHeight, kernelHeight, outputPaddingHeight, "height")
        let ow = try size(inputShape[3], strideWidth, paddingWidth, dilationWidth, kernelWidth, outputPaddingWidth, "width")
        let g = try Conv2DGeometry(batch: inputShape[0], inputChannels: outputChannels, inputHeight: oh, inputWidth: ow,
                                   outputChannels: inputChannels, kernelHeight: kernelHeight, kernelWidth: kernelWidth,
                                   strideHeight: strideHeight, strideWidth: strideWidth,
                                   paddingHeight: paddingHeight, paddingWidth: paddingWidth,
                                   dilationHeight: dilationHeight, dilationWidth: dilationWidth, groups: groups)
        return Plan(convolution: g, inputHeight: inputShape[2], inputWidth: inputShape[3])
    }

    /// The output shape for an input of shape `inputShape`.
    public func outputShape(for inputShape: Shape) throws(ShapeError) -> Shape { try plan(for: inputShape).outputShape }

    /// The input (with its zero rows and columns when the plan has any) and the plan.
    public struct Cache: Sendable {
        public let input: Tensor
        public let plan: Plan
    }

    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Cache) {
        try validateParameters()
        let plan = try plan(for: input.shape)
        let g = plan.convolution
        let workspaceCount = Conv2DKernel.workspaceCount(g, algorithm: algorithm, direction: .backwardData)
        try ShapeCheck.fitsInMemory([g.inputCount, g.outputCount, workspaceCount], "ConvTranspose2D forward on \(g)")
        let x = try padded(input, plan, context: context)
        var y = scratch(g.inputCount), workspace = scratch(workspaceCount)
        x.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { w in
                y.withUnsafeMutableBufferPointer { yp in
                    workspace.withUnsafeMutableBufferPointer { ws in
                        Conv2DKernel.backwardData(g, algorithm: algorithm, outputGradient: xp, filter: w, inputGradient: yp,
                                                  workspace: ws, context: context)
                    }
                    if hasBias {
                        bias.withUnsafeBufferPointer { b in
                            BiasKernel.addPerChannel(b, to: yp, batch: g.batch, channels: outputChannels, plane: g.inputPlane, context: context)
                        }
                    }
                }
            }
        }
        return (Tensor(uncheckedShape: plan.outputShape, scalars: y), Cache(input: x, plan: plan))
    }

    /// Returns `(dL/dx, [dL/dweight, dL/dbias])` (no bias gradient without a bias).
    public func backward(_ outputGradient: Tensor, cache: Cache, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        let plan = cache.plan, g = plan.convolution
        try ShapeCheck.equal(outputGradient.shape, plan.outputShape, "ConvTranspose2D output gradient")
        try validateParameters()
        try ShapeCheck.equal(weightShape, Shape(uncheckedDimensions: [g.outputChannels, g.inputChannelsPerGroup, g.kernelHeight, g.kernelWidth],
                                                count: g.filterCount), "ConvTranspose2D weight (cache from a layer of another shape)")
        let workspaceCount = max(Conv2DKernel.workspaceCount(g, algorithm: algorithm, direction: .forward),
                                 Conv2DKernel.workspaceCount(g, algorithm: algorithm, direction: .backwardFilter))
        try ShapeCheck.fitsInMemory([g.outputCount, g.filterCount, workspaceCount], "ConvTranspose2D backward on \(g)")
        var dx = scratch(g.outputCount), dw = scratch(g.filterCount), db = scratch(hasBias ? outputChannels : 0)
        var workspace = scratch(workspaceCount)
        outputGradient.withUnsafeBufferPointer { dy in
            weight.withUnsafeBufferPointer { w in
                cache.input.withUnsafeBufferPointer { x in
                    workspace.withUnsafeMutableBufferPointer { ws in
                        dx.withUnsafeMutableBufferPointer { dxp in
                            Conv2DKernel.forward(g, algorithm: algorithm, input: dy, filter: w, bias: nil, output: dxp,
                                                 workspace: ws, context: context)
                        }
                        dw.withUnsafeMutableBufferPointer { dwp in
                            Conv2DKernel.backwardFilter(g, algorithm: algorithm, input: dy, outputGradient: x, filterGradient: dwp,
                                                        biasGradient: nil, accumulate: false, workspace: ws, context: context)
                        }
                    }
                }
            }
            if hasBias {
                db.withUnsafeMutableBufferPointer { dbp in
                    BiasKernel.reducePerChannel(dy, into: dbp, batch: g.batch, channels: outputChannels, plane: g.inputPlane,
                                                accumulate: false, context: context)
                }
            }
        }
        let inputShape = Shape(uncheckedDimensions: [g.batch, inputChannels, plan.inputHeight, plan.inputWidth],
                               count: g.batch * inputChannels * plan.inputHeight * plan.inputWidth)
        var inputGradient = Tensor(uncheckedShape: Shape(uncheckedDimensions: [g.batch, inputChannels, g.outputHeight, g.outputWidth],
                                                         count: g.outputCount), scalars: dx)
        if plan.extraRows > 0 || plan.extraColumns > 0 {
            // The adjoint of the zero rows and columns: drop their gradient.
            var cropped = scratch(inputShape.count)
            inputGradient.withUnsafeBufferPointer { d in
                cropped.withUnsafeMutableBufferPointer { c in
                    Pad2DKernel.backward(algorithm: .simd, mode: .zero, planes: g.batch * inputChannels, inputHeight: plan.inputHeight,
                                         inputWidth: plan.inputWidth, pads: extraPads(plan), outputGradient: d, inputGradient: c,
                                         context: context)
                }
            }
            inputGradient = Tensor(uncheckedShape: inputShape, scalars: cropped)
        }
        var gradients = [Tensor(uncheckedShape: weight.shape, scalars: dw)]
        if hasBias { gradients.append(Tensor(uncheckedShape: bias.shape, scalars: db)) }
        return (inputGradient, gradients)
    }

    func extraPads(_ plan: Plan) -> Pad2DKernel.Pads {
        Pad2DKernel.Pads(left: 0, right: plan.extraColumns, top: 0, bottom: plan.extraRows)
    }

    /// `input` with the plan's zero rows and columns below and right (itself when there are none).
    func padded(_ input: Tensor, _ plan: Plan, context: ComputeContext) throws(ShapeError) -> Tensor {
        if plan.extraRows == 0 && plan.extraColumns == 0 { return input }
        let g = plan.convolution
        var x = scratch(g.outputCount)
        input.withUnsafeBufferPointer { source in
            x.withUnsafeMutableBufferPointer { target in
                Pad2DKernel.forward(algorithm: .simd, mode: .zero, planes: g.batch * inputChannels, inputHeight: plan.inputHeight,
                                    inputWidth: plan.inputWidth, pads: extraPads(plan), input: source, output: target, context: context)
            }
        }
        return Tensor(uncheckedShape: Shape(uncheckedDimensions: [g.batch, inputChannels, g.outputHeight, g.outputWidth], count: g.outputCount),
                      scalars: x)
    }
}
