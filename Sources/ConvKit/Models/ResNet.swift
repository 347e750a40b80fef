/// ResNet (He, Zhang, Ren & Sun 2015) in torchvision's layout: the module tree and `state_dict`
/// keys of `torchvision.models.resnet18/34/50` (`conv1.weight`, `bn1.running_mean`,
/// `layer1.0.conv1.weight`, `layer2.0.downsample.0.weight`, `fc.bias`, …), so a torchvision
/// checkpoint saved with `safetensors.torch.save_file(model.state_dict(), path)` loads with
/// ``Layer/loadCheckpoint(from:strict:)`` and no renaming.
///
///     input  [N, 3, H, W]
///     conv1    Conv2D 3→w, 7×7 stride 2 pad 3, no bias      → [N, w, H/2, W/2]
///     bn1, relu
///     maxpool  MaxPool2D 3×3 stride 2 pad 1                 → [N, w, H/4, W/4]
///     layer1   blocks[0] × block(w)                         → [N, w·e, H/4, W/4]
///     layer2   blocks[1] × block(2w), the first stride 2    → [N, 2w·e, H/8, W/8]
///     layer3   blocks[2] × block(4w), the first stride 2    → [N, 4w·e, H/16, W/16]
///     layer4   blocks[3] × block(8w), the first stride 2    → [N, 8w·e, H/32, W/32]
///     avgpool  AdaptiveAvgPool2D 1×1, flatten               → [N, 8w·e]
///     dropout  Dropout(p), only when p > 0 (not in torchvision)
///     fc       Dense 8w·e → classes                         → [N, classes] logits
///
/// `w` is ``make(block:blocks:classes:stem:width:inputChannels:dropout:zeroInitResidual:convolution:using:)``'s
/// `width` (torchvision: 64), `e` the block's ``Block/expansion``; sizes halve with rounding up
/// (`(H − 1)/2 + 1`). Every block is a ``Graph`` (``basicBlock(inputChannels:planes:stride:zeroInitResidual:convolution:using:)``,
/// ``bottleneck(inputChannels:planes:stride:zeroInitResidual:convolution:using:)``); each stage
/// is a ``Sequential`` of blocks keyed `0, 1, …`; the model is a ``Sequential`` keyed like
/// torchvision's attributes.
///
/// Weights as torchvision draws them: convolutions `kaiming_normal_(mode="fan_out")`
/// (``Initializer/heNormalFanOut``), batch norms weight 1 and bias 0, the final ``Dense``
/// PyTorch's default `U(±1/√fanIn)` (``Initializer/pyTorchDefault``), all from the given
/// generator.
public enum ResNet {
    /// The residual block of a stage.
    public enum Block: Sendable, Hashable {
        /// Two 3×3 convolutions (ResNet-18/34); output channels = planes.
        case basic
        /// 1×1 → 3×3 (carrying the stride, torchvision's "ResNet v1.5") → 1×1 expanding by 4
        /// (ResNet-50/101/152); output channels = 4·planes.
        case bottleneck

        /// Output channels per plane of the block: 1 (basic) or 4 (bottleneck).
        public var expansion: Int { self == .basic ? 1 : 4 }
    }

    /// The layers before `layer1`.
    public enum Stem: Sendable, Hashable {
        /// torchvision's: 7×7 stride-2 convolution, batch norm, ReLU, 3×3 stride-2 max pooling
        /// (inputs of 224×224; the feature map is 1/4 of the image before `layer1`).
        case imageNet
        /// For 32×32 images (CIFAR-style): `conv1` is a 3×3 stride-1 convolution with padding 1,
        /// and there is no max pooling (the feature map keeps the image size before `layer1`).
        /// torchvision has no such variant; the keys are torchvision's, `conv1.weight` is
        /// `[w, 3, 3, 3]`. The PyTorch counterpart is a torchvision ResNet with
        /// `model.conv1 = nn.Conv2d(3, w, 3, 1, 1, bias=False)` and `model.maxpool = nn.Identity()`.
        case smallImage
    }

    /// The block type and the number of blocks per stage of torchvision's ResNet-`depth`:
    /// 18 (basic, 2-2-2-2), 34 (basic, 3-4-6-3), 50 (bottleneck, 3-4-6-3), 101 (bottleneck,
    /// 3-4-23-3), 152 (bottleneck, 3-8-36-3).
    ///
    /// - Throws: ``ShapeError`` `.invalidValue` for another depth.
    public static func configuration(depth: Int) throws(ShapeError) -> (block: Block, blocks: [Int]) {
        switch depth {
        case 18: return (.basic, [2, 2, 2, 2])
        case 34: return (.basic, [3, 4, 6, 3])
        case 50: return (.bottleneck, [3, 4, 6, 3])
        case 101: return (.bottleneck, [3, 4, 23, 3])
        case 152: return (.bottleneck, [3, 8, 36, 3])
        default: throw ShapeError(.invalidValue, "ResNet depth must be 18, 34, 50, 101 or 152, got \(depth)")
        }
    }

    /// torchvision's ResNet-`depth` (``configuration(depth:)``), e.g.
    /// `try ResNet.make(depth: 18, classes: 10, using: &rng)` for `resnet18(num_classes=10)`.
    public static func make(depth: Int, classes: Int = 1000, stem: Stem = .imageNet, width: Int = 64,
                            inputChannels: Int = 3, dropout: Float = 0,
                            zeroInitResidual: Bool = false, convolution: Conv2DAlgorithm = .automatic,
                            using generator: inout some RandomNumberGenerator) throws(ShapeError) -> Sequential {
        let (block, blocks) = try configuration(depth: depth)
        return try make(block: block, blocks: blocks, classes: classes, stem: stem, width: width,
                        inputChannels: inputChannels, dropout: dropout,
                        zeroInitResidual: zeroInitResidual, convolution: convolution, using: &generator)
    }

    /// A ResNet of four stages with `blocks[k]` blocks in stage `k + 1`.
    ///
    /// - Parameters:
    ///   - width: channels of the stem and of stage 1's planes (torchvision: 64); stage `k`
    ///     has `width · 2^(k−1)` planes. Smaller widths give the same keys with smaller tensors
    ///     (not torchvision's `width_per_group`, which widens only the bottleneck's inner
    ///     convolutions).
    ///   - inputChannels: channels of the images (torchvision: 3); `conv1.weight` is
    ///     `[w, inputChannels, k, k]` (1 for grey-scale digits).
    ///   - dropout: when > 0, a ``Dropout`` of this probability between the pooled features and
    ///     `fc` (node key `dropout`, parameter-free, so the keys are unchanged; torchvision's
    ///     ResNet has none, the PyTorch counterpart is an `nn.Dropout` applied before `fc`).
    ///   - zeroInitResidual: torchvision's `zero_init_residual`: the last batch norm of every
    ///     block (`bn2` of a basic block, `bn3` of a bottleneck) starts with weight 0, so each
    ///     block starts as the identity.
    /// - Throws: ``ShapeError`` `.invalidValue` unless `blocks` has four counts >= 1, or for a
    ///   dropout probability outside `[0, 1]`; `.nonPositive` for `classes`, `width` or
    ///   `inputChannels` < 1.
    public static func make(block: Block, blocks: [Int], classes: Int = 1000, stem: Stem = .imageNet, width: Int = 64,
                            inputChannels: Int = 3, dropout: Float = 0,
                            zeroInitResidual: Bool = false, convolution: Conv2DAlgorithm = .automatic,
                            using generator: inout some RandomNumberGenerator) throws(ShapeError) -> Sequential {
        if blocks.count != 4 || blocks.contains(where: { $0 < 1 }) {
            throw ShapeError(.invalidValue, "ResNet needs four stages of at least one block each, got \(blocks)")
        }
        if classes < 1 || width < 1 || inputChannels < 1 {
            throw ShapeError(.nonPositive,
                "ResNet needs classes, width and inputChannels >= 1, got \(classes), \(width) and \(inputChannels)")
        }
        let classifierDropout = try Dropout(probability: dropout)
        let conv1 = stem == .imageNet
            ? try Conv2D(inputChannels: inputChannels, outputChannels: width, kernelSize: 7, stride: 2, padding: 3, bias: false,
                         initializer: .heNormalFanOut, algorithm: convolution, using: &generator)
            : try Conv2D(inputChannels: inputChannels, outputChannels: width, kernelSize: 3, stride: 1, padding: 1, bias: false,
                         initializer: .heNormalFanOut, algorithm: convolution, using: &generator)
        let bn1 = try BatchNorm2D(channels: width)
        var stages: [Sequential] = []
        var channels = width
        for (k, count) in blocks.enumerated() {
            let planes = width << k
            var stage: [any Layer] = []
            for b in 0..<count {
                let stride = (k > 0 && b == 0) ? 2 : 1
                switch block {
                case .basic:
                    stage.append(try basicBlock(inputChannels: channels, planes: planes, stride: stride,
                                                zeroInitResidual: zeroInitResidual, convolution: convolution, using: &generator))
                case .bottleneck:
                    stage.append(try bottleneck(inputChannels: channels, planes: planes, stride: stride,
                                                zeroInitResidual: zeroInitResidual, convolution: convolution, using: &generator))
                }
                channels = planes * block.expansion
            }
            stages.append(Sequential(stage))
        }
        let fc = try Dense(inputFeatures: channels, outputFeatures: classes, initializer: .pyTorchDefault, using: &generator)
        var layers: [(key: String, layer: any Layer)] = [(key: "conv1", layer: conv1), (key: "bn1", layer: bn1),
                                                         (key: "relu", layer: ReLU())]
        if stem == .imageNet { layers.append((key: "maxpool", layer: try MaxPool2D(window: 3, stride: 2, padding: 1))) }
        for (k, stage) in stages.enumerated() { layers.append((key: "layer\(k + 1)", layer: stage)) }
        layers.append((key: "avgpool", layer: try AdaptiveAvgPool2D(outputSize: 1)))
        layers.append((key: "flatten", layer: Flatten()))
        if dropout > 0 { layers.append((key: "dropout", layer: classifierDropout)) }
        layers.append((key: "fc", layer: fc))
        return try Sequential(keyed: layers)
    }

    /// torchvision's `BasicBlock`:
    ///
    ///     y = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))
    ///     conv1  3×3 stride s pad 1, inputChannels → planes;  conv2  3×3 pad 1, planes → planes
    ///     shortcut = x, or `downsample` = 1×1 stride-s convolution + batch norm when s ≠ 1 or
    ///                inputChannels ≠ planes
    ///
    /// Graph keys `conv1`, `bn1`, `conv2`, `bn2`, `downsample` (`downsample.0`, `downsample.1`),
    /// torchvision's; the parameter-free nodes are `relu1`, `add`, `relu2`.
    public static func basicBlock(inputChannels: Int, planes: Int, stride: Int = 1, zeroInitResidual: Bool = false,
                                  convolution: Conv2DAlgorithm = .automatic,
                                  using generator: inout some RandomNumberGenerator) throws(ShapeError) -> Graph {
        var g = Graph()
        var x = try g.add(try conv(inputChannels, planes, 3, stride: stride, convolution, &generator), input: g.input, key: "conv1")
        x = try g.add(try BatchNorm2D(channels: planes), input: x, key: "bn1")
        x = try g.add(ReLU(), input: x, key: "relu1")
        x = try g.add(try conv(planes, planes, 3, stride: 1, convolution, &generator), input: x, key: "conv2")
        x = try g.add(try lastNorm(planes, zero: zeroInitResidual), input: x, key: "bn2")
        let shortcut = try downsample(g: &g, inputChannels, planes, stride: stride, convolution, &generator)
        let sum = try g.add(Add(), inputs: [x, shortcut], key: "add")
        try g.add(ReLU(), input: sum, key: "relu2")
        return g
    }

    /// torchvision's `Bottleneck` (stride on the 3×3 convolution):
    ///
    ///     y = relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + shortcut(x))
    ///     conv1  1×1, inputChannels → planes;  conv2  3×3 stride s pad 1, planes → planes;
    ///     conv3  1×1, planes → 4·planes
    ///     shortcut = x, or `downsample` (1×1 stride-s convolution + batch norm) when s ≠ 1 or
    ///                inputChannels ≠ 4·planes
    ///
    /// Graph keys `conv1`…`conv3`, `bn1`…`bn3`, `downsample`; parameter-free nodes `relu1`,
    /// `relu2`, `add`, `relu3`.
    public static func bottleneck(inputChannels: Int, planes: Int, stride: Int = 1, zeroInitResidual: Bool = false,
                                  convolution: Conv2DAlgorithm = .automatic,
                                  using generator: inout some RandomNumberGenerator) throws(ShapeError) -> Graph {
        let outputChannels = try CheckedSize.product([planes, Block.bottleneck.expansion], "Bottleneck output channels")
        var g = Graph()
        var x = try g.add(try conv(inputChannels, planes, 1, stride: 1, convolution, &generator), input: g.input, key: "conv1")
        x = try g.add(try BatchNorm2D(channels: planes), input: x, key: "bn1")
        x = try g.add(ReLU(), input: x, key: "relu1")
        x = try g.add(try conv(planes, planes, 3, stride: stride, convolution, &generator), input: x, key: "conv2")
        x = try g.add(try BatchNorm2D(channels: planes), input: x, key: "bn2")
        x = try g.add(ReLU(), input: x, key: "relu2")
        x = try g.add(try conv(planes, outputChannels, 1, stride: 1, convolution, &generator), input: x, key: "conv3")
        x = try g.add(try lastNorm(outputChannels, zero: zeroInitResidual), input: x, key: "bn3")
        let shortcut = try downsample(g: &g, inputChannels, outputChannels, stride: stride, convolution, &generator)
        let sum = try g.add(Add(), inputs: [x, shortcut], key: "add")
        try g.add(ReLU(), input: sum, key: "relu3")
        return g
    }

    /// A bias-free square convolution with padding `k/2`, drawn like torchvision's.
    private static func conv(_ i: Int, _ o: Int, _ k: Int, stride: Int, _ algorithm: Conv2DAlgorithm,
                             _ generator: inout some RandomNumberGenerator) throws(ShapeError) -> Conv2D {
        try Conv2D(inputChannels: i, outputChannels: o, kernelSize: k, stride: stride, padding: k / 2, bias: false,
                   initializer: .heNormalFanOut, algorithm: algorithm, using: &generator)
    }

    /// The block's last batch norm, with weight 0 when `zero` (zero_init_residual).
    private static func lastNorm(_ channels: Int, zero: Bool) throws(ShapeError) -> BatchNorm2D {
        var bn = try BatchNorm2D(channels: channels)
        if zero { bn.weight = Tensor.zeros(bn.weight.shape) }
        return bn
    }

    /// The shortcut node: the input itself, or a `downsample` node (1×1 stride-s convolution
    /// and batch norm, keyed `0` and `1`) when the shape changes.
    private static func downsample(g: inout Graph, _ inputChannels: Int, _ outputChannels: Int, stride: Int,
                                   _ algorithm: Conv2DAlgorithm,
                                   _ generator: inout some RandomNumberGenerator) throws(ShapeError) -> Graph.Node {
        if stride == 1 && inputChannels == outputChannels { return g.input }
        let projection = Sequential(try conv(inputChannels, outputChannels, 1, stride: stride, algorithm, &generator),
                                    try BatchNorm2D(channels: outputChannels))
        return try g.add(projection, input: g.input, key: "downsample")
    }
}
