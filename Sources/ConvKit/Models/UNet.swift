/// U-Net (Ronneberger, Fischer & Brox 2015) in the layout of the common PyTorch reference
/// (milesial/Pytorch-UNet, `UNet(n_channels, n_classes, bilinear=False)`), so its `state_dict`
/// keys are the reference's and its checkpoints load with no renaming.
///
///     input  [N, inputChannels, H, W]          H, W multiples of 16
///     inc     DoubleConv inputChannels → w                               x1 [N, w,   H,    W]
///     down1   MaxPool2D 2, DoubleConv w → 2w                             x2 [N, 2w,  H/2,  W/2]
///     down2   … 2w → 4w                                                  x3 [N, 4w,  H/4,  W/4]
///     down3   … 4w → 8w                                                  x4 [N, 8w,  H/8,  W/8]
///     down4   … 8w → 16w                                                 x5 [N, 16w, H/16, W/16]
///     up1     ConvTranspose2D 16w → 8w 2×2 stride 2, concat [x4, ·], DoubleConv 16w → 8w   → H/8
///     up2     … 8w → 4w with x3;  up3 … 4w → 2w with x2;  up4 … 2w → w with x1           → H
///     outc    Conv2D w → classes 1×1 (bias)                              [N, classes, H, W] logits
///
///     DoubleConv(i → o): Conv2D i→o 3×3 pad 1 (no bias), BatchNorm2D, ReLU,
///                        Conv2D o→o 3×3 pad 1 (no bias), BatchNorm2D, ReLU
///
/// `w` is the base width (the reference's 64). Keys: `inc.double_conv.0.weight`,
/// `inc.double_conv.1.running_mean`, `inc.double_conv.3.weight`, `inc.double_conv.4.bias`,
/// `down1.maxpool_conv.1.double_conv.0.weight`, `up1.up.weight` (`[16w, 8w, 2, 2]`, PyTorch's
/// transposed layout), `up1.up.bias`, `up1.conv.double_conv.0.weight`, `outc.conv.weight`,
/// `outc.conv.bias`. 31,037,698 parameters for 3 channels and 2 classes at w = 64.
///
/// **Input size.** The reference pads each upsampled map to its skip connection's size when
/// pooling rounded a size down; this model does not, and accepts heights and widths that are
/// multiples of 16 (four 2×2 poolings), where no padding happens. Any other size is a
/// ``ShapeError`` `.invalidValue` before any arithmetic.
///
/// The model is a ``Graph`` (``graph``) wrapped to check the input size: `up1` reads two values
/// (the layer below and the skip connection), so its members are graph nodes keyed by path
/// (`up1.up`, `up1.cat`, `up1.conv`) rather than a container of their own. Weights are PyTorch's
/// defaults, which the reference keeps: convolutions and transposed convolutions
/// `U(±1/√fanIn)` (``Initializer/pyTorchDefault``; a transposed convolution's fan-in is
/// `outputChannels·K²`, PyTorch's), batch norms weight 1 and bias 0.
public struct UNet: Layer, ProbedLayer {
    /// The network (nodes `inc`, `down1`…`down4`, `up1.up`, `up1.cat`, `up1.conv`, …, `outc`).
    public var graph: Graph
    /// The reference's `n_channels`.
    public let inputChannels: Int
    /// The reference's `n_classes`: output channels (per-pixel logits).
    public let classes: Int
    /// The base width `w` (the reference's 64).
    public let width: Int

    /// The reference's `UNet(n_channels=inputChannels, n_classes=classes, bilinear=False)` with
    /// base width `width`.
    ///
    /// - Throws: ``ShapeError`` `.nonPositive` for `inputChannels`, `classes` or `width` < 1.
    public static func make(inputChannels: Int = 3, classes: Int = 2, width: Int = 64,
                            convolution: Conv2DAlgorithm = .automatic,
                            using generator: inout some RandomNumberGenerator) throws(ShapeError) -> UNet {
        if inputChannels < 1 || classes < 1 || width < 1 {
            throw ShapeError(.nonPositive,
                "UNet needs inputChannels, classes and width >= 1, got \(inputChannels), \(classes) and \(width)")
        }
        _ = try CheckedSize.product([width, 32], "UNet channels")
        let w = [width, 2 * width, 4 * width, 8 * width, 16 * width]
        var g = Graph()
        let x1 = try g.add(try doubleConv(inputChannels, w[0], convolution: convolution, using: &generator),
                           input: g.input, key: "inc")
        var skips = [x1]
        for k in 1...4 {
            skips.append(try g.add(try down(w[k - 1], w[k], convolution: convolution, using: &generator),
                                   input: skips[k - 1], key: "down\(k)"))
        }
        var x = skips[4]
        for k in 1...4 {
            x = try addUp(to: &g, input: x, skip: skips[4 - k], key: "up\(k)", inputChannels: w[5 - k],
                          outputChannels: w[4 - k], convolution: convolution, using: &generator)
        }
        let outc = try Conv2D(inputChannels: w[0], outputChannels: classes, kernelSize: 1, initializer: .pyTorchDefault,
                              algorithm: convolution, using: &generator)
        try g.add(try Sequential(named: ["conv": outc]), input: x, key: "outc")
        return UNet(graph: g, inputChannels: inputChannels, classes: classes, width: width)
    }

    /// The reference's `DoubleConv(i, o)`: a ``Sequential`` keyed `double_conv` holding
    /// `0` Conv2D 3×3 pad 1 (no bias), `1` BatchNorm2D, `2` ReLU, `3` Conv2D, `4` BatchNorm2D, `5` ReLU.
    public static func doubleConv(_ inputChannels: Int, _ outputChannels: Int, convolution: Conv2DAlgorithm = .automatic,
                                  using generator: inout some RandomNumberGenerator) throws(ShapeError) -> Sequential {
        func conv(_ i: Int, _ g: inout some RandomNumberGenerator) throws(ShapeError) -> Conv2D {
            try Conv2D(inputChannels: i, outputChannels: outputChannels, kernelSize: 3, padding: 1, bias: false,
                       initializer: .pyTorchDefault, algorithm: convolution, using: &g)
        }
        return try Sequential(named: ["double_conv": Sequential(
            try conv(inputChannels, &generator), try BatchNorm2D(channels: outputChannels), ReLU(),
            try conv(outputChannels, &generator), try BatchNorm2D(channels: outputChannels), ReLU())])
    }

    /// The reference's `Down(i, o)`: a ``Sequential`` keyed `maxpool_conv` holding `0`
    /// MaxPool2D 2×2 and `1` ``doubleConv(_:_:convolution:using:)``.
    public static func down(_ inputChannels: Int, _ outputChannels: Int, convolution: Conv2DAlgorithm = .automatic,
                            using generator: inout some RandomNumberGenerator) throws(ShapeError) -> Sequential {
        try Sequential(named: ["maxpool_conv": Sequential(
            try MaxPool2D(window: 2), try doubleConv(inputChannels, outputChannels, convolution: convolution, using: &generator))])
    }

    /// The reference's `Up(i, o, bilinear=False)` added to `graph`: nodes `<key>.up`
    /// (ConvTranspose2D i → i/2, 2×2 stride 2, with bias) on `input`, `<key>.cat` (``Concat`` of
    /// `[skip, up]`, the reference's order) and `<key>.conv` (``doubleConv(_:_:convolution:using:)``
    /// i → o). Returns the `conv` node. `skip` must have i/2 channels and twice `input`'s size.
    ///
    /// - Throws: ``ShapeError`` `.invalidValue` for an odd or non-positive `inputChannels` or a
    ///   bad key (see ``Graph/add(_:input:key:)``).
    @discardableResult
    public static func addUp(to graph: inout Graph, input: Graph.Node, skip: Graph.Node, key: String,
                             inputChannels: Int, outputChannels: Int, convolution: Conv2DAlgorithm = .automatic,
                             using generator: inout some RandomNumberGenerator) throws(ShapeError) -> Graph.Node {
        if inputChannels < 2 || inputChannels % 2 != 0 {
            throw ShapeError(.invalidValue, "UNet up block needs an even number of input channels >= 2, got \(inputChannels)")
        }
        let up = try ConvTranspose2D(inputChannels: inputChannels, outputChannels: inputChannels / 2, kernelSize: 2, stride: 2,
                                     initializer: .pyTorchDefault, algorithm: convolution, using: &generator)
        let upsampled = try graph.add(up, input: input, key: "\(key).up")
        let joined = try graph.add(Concat(), inputs: [skip, upsampled], key: "\(key).cat")
        return try graph.add(try doubleConv(inputChannels, outputChannels, convolution: convolution, using: &generator),
                             input: joined, key: "\(key).conv")
    }

    /// Throws unless `input` is `[N, inputChannels, H, W]` with H and W positive multiples of 16:
    /// `.mismatch` for the rank or the channels, `.invalidValue` for the size.
    public func validate(_ input: Tensor) throws(ShapeError) {
        try ShapeCheck.rank(input.shape, 4, "UNet input", layout: "[batch, channels, height, width]")
        try ShapeCheck.axis(input.shape, 1, inputChannels, "UNet input", "channels")
        let h = input.shape[2], w = input.shape[3]
        if h < 16 || w < 16 || h % 16 != 0 || w % 16 != 0 {
            throw ShapeError(.invalidValue,
                "UNet input height and width must be positive multiples of 16 (four 2×2 poolings; the skip connections are not padded), got \(h)×\(w)")
        }
    }

    public typealias Cache = Graph.Cache

    public var parameterNames: [String] { graph.parameterNames }
    public var parameters: [Tensor] { graph.parameters }
    public mutating func updateParameters(_ body: (Int, inout Tensor) -> Void) { graph.updateParameters(body) }
    public var bufferNames: [String] { graph.bufferNames }
    public var buffers: [Tensor] { graph.buffers }
    public var bufferKinds: [BufferKind] { graph.bufferKinds }
    public mutating func updateBuffers(_ body: (Int, inout Tensor) -> Void) { graph.updateBuffers(body) }
    public func bufferUpdates(in cache: Cache) -> [BufferUpdate] { graph.bufferUpdates(in: cache) }

    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Cache) {
        try forward(input, mode: .evaluation, context: context)
    }

    public func forward(_ input: Tensor, mode: ForwardMode, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Cache) {
        try validate(input)
        return try graph.forward(input, mode: mode, context: context)
    }

    func forward(_ input: Tensor, mode: ForwardMode, context: ComputeContext, probe: inout NonFiniteProbe, path: String)
        throws(ShapeError) -> (output: Tensor, cache: Cache) {
        try validate(input)
        return try graph.forward(input, mode: mode, context: context, probe: &probe, path: path)
    }

    public func backward(_ outputGradient: Tensor, cache: Cache, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        try graph.backward(outputGradient, cache: cache, context: context)
    }

    public func parameterGradients(_ outputGradient: Tensor, cache: Cache, context: ComputeContext) throws(ShapeError) -> [Tensor] {
        try graph.parameterGradients(outputGradient, cache: cache, context: context)
    }

    func backward(_ outputGradient: Tensor, cache: Cache, context: ComputeContext, probe: inout NonFiniteProbe, path: String)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        try graph.backward(outputGradient, cache: cache, context: context, probe: &probe, path: path)
    }
}
