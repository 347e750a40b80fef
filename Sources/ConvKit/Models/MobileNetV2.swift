/// MobileNetV2 (Sandler, Howard, Zhu, Zhmoginov & Chen 2018) in torchvision's layout: the module
/// tree and `state_dict` keys of `torchvision.models.mobilenet_v2`, so its checkpoints load with
/// no renaming.
///
///     input  [N, 3, H, W]
///     features.0    Conv2D 3→c₀ 3×3 stride 2 pad 1 (no bias), BatchNorm2D, ReLU6   → H/2
///     features.1…17 inverted residual blocks, per stage (t, c, n, s):
///                   (1, 16, 1, 1) (6, 24, 2, 2) (6, 32, 3, 2) (6, 64, 4, 2)
///                   (6, 96, 3, 1) (6, 160, 3, 2) (6, 320, 1, 1)               → H/32
///                   n blocks of expansion t to c channels, the first with stride s
///     features.18   Conv2D →last 1×1 (no bias), BatchNorm2D, ReLU6            → [N, last, H/32, W/32]
///     avgpool       AdaptiveAvgPool2D 1×1, flatten                            → [N, last]
///     classifier    0 Dropout(p), 1 Dense last → classes                      → [N, classes] logits
///
/// Channels are scaled by the width multiplier α and rounded by ``makeDivisible(_:divisor:)``:
/// `c₀ = d(32α)`, stage channels `d(cα)`, `last = d(1280·max(1, α))`. Sizes halve with rounding
/// up (`(H − 1)/2 + 1`). Keys: `features.0.0.weight`, `features.0.1.running_mean`,
/// `features.1.conv.0.0.weight` (the depthwise convolution of a block without expansion),
/// `features.2.conv.0.0.weight` (the 1×1 expansion), `features.2.conv.1.0.weight` (depthwise),
/// `features.2.conv.2.weight` (the linear 1×1 projection), `features.2.conv.3.running_var`, …,
/// `features.18.0.weight`, `classifier.1.weight`. 3,504,872 parameters for 1000 classes at α = 1.
///
/// Weights as torchvision draws them, from the given generator: convolutions
/// `kaiming_normal_(mode="fan_out")` (``Initializer/heNormalFanOut``; the fan-out of a depthwise
/// convolution is `channels·9`, PyTorch's), batch norms weight 1 and bias 0, the classifier
/// N(0, 0.01²) with zero bias.
public enum MobileNetV2 {
    /// A stage of inverted residual blocks: expansion factor `t`, output channels `c` (before the
    /// width multiplier), `n` blocks, stride `s` of the first.
    public struct Stage: Sendable, Hashable {
        public let expansion: Int
        public let channels: Int
        public let blocks: Int
        public let stride: Int

        public init(expansion: Int, channels: Int, blocks: Int, stride: Int) {
            self.expansion = expansion
            self.channels = channels
            self.blocks = blocks
            self.stride = stride
        }
    }

    /// torchvision's `inverted_residual_setting`.
    public static let stages: [Stage] = [
        Stage(expansion: 1, channels: 16, blocks: 1, stride: 1),
        Stage(expansion: 6, channels: 24, blocks: 2, stride: 2),
        Stage(expansion: 6, channels: 32, blocks: 3, stride: 2),
        Stage(expansion: 6, channels: 64, blocks: 4, stride: 2),
        Stage(expansion: 6, channels: 96, blocks: 3, stride: 1),
        Stage(expansion: 6, channels: 160, blocks: 3, stride: 2),
        Stage(expansion: 6, channels: 320, blocks: 1, stride: 1),
    ]

    /// torchvision's `_make_divisible(v, divisor)`: `v` rounded to the nearest multiple of
    /// `divisor` (halves up), at least `divisor`, and one `divisor` more when rounding lost over
    /// 10% of `v`.
    ///
    ///     d(v) = max(divisor, ⌊v + divisor/2⌋ div divisor · divisor),  + divisor if d(v) < 0.9·v
    public static func makeDivisible(_ value: Double, divisor: Int = 8) -> Int {
        let half = value + Double(divisor) / 2
        let truncated = half < Double(Int.max / 2) ? Int(half) : Int.max / 2
        var rounded = max(divisor, truncated / divisor * divisor)
        if Double(rounded) < 0.9 * value { rounded += divisor }
        return rounded
    }

    /// torchvision's `mobilenet_v2(num_classes=classes, width_mult=widthMultiplier)`.
    ///
    /// - Parameters:
    ///   - widthMultiplier: α, scaling every channel count (torchvision: 1.0); counts are rounded
    ///     to multiples of `roundNearest` (8) by ``makeDivisible(_:divisor:)``.
    ///   - dropout: the classifier's dropout probability (torchvision: 0.2).
    /// - Throws: ``ShapeError`` `.nonPositive` for `classes` or `roundNearest` < 1, `.invalidValue`
    ///   for a width multiplier that is not finite and > 0 or a dropout probability outside `[0, 1]`.
    public static func make(classes: Int = 1000, widthMultiplier: Double = 1.0, roundNearest: Int = 8,
                            dropout: Float = 0.2, convolution: Conv2DAlgorithm = .automatic,
                            using generator: inout some RandomNumberGenerator) throws(ShapeError) -> Sequential {
        if classes < 1 || roundNearest < 1 {
            throw ShapeError(.nonPositive, "MobileNetV2 needs classes >= 1 and roundNearest >= 1, got \(classes) and \(roundNearest)")
        }
        if !(widthMultiplier.isFinite && widthMultiplier > 0 && widthMultiplier <= 1024) {
            throw ShapeError(.invalidValue, "MobileNetV2 width multiplier must be in (0, 1024], got \(widthMultiplier)")
        }
        var channels = makeDivisible(32 * widthMultiplier, divisor: roundNearest)
        let last = makeDivisible(1280 * max(1, widthMultiplier), divisor: roundNearest)
        var features: [any Layer] = [
            try convNormReLU6(3, channels, kernelSize: 3, stride: 2, convolution: convolution, using: &generator),
        ]
        for stage in stages {
            let output = makeDivisible(Double(stage.channels) * widthMultiplier, divisor: roundNearest)
            for b in 0..<stage.blocks {
                features.append(try invertedResidual(inputChannels: channels, outputChannels: output,
                                                     stride: b == 0 ? stage.stride : 1, expansion: stage.expansion,
                                                     convolution: convolution, using: &generator))
                channels = output
            }
        }
        features.append(try convNormReLU6(channels, last, kernelSize: 1, convolution: convolution, using: &generator))
        let classifier = Sequential(
            try Dropout(probability: dropout),
            try Dense(inputFeatures: last, outputFeatures: classes, initializer: .normal(standardDeviation: 0.01), using: &generator))
        return try Sequential(named: [
            "features": Sequential(features), "avgpool": try AdaptiveAvgPool2D(outputSize: 1), "flatten": Flatten(),
            "classifier": classifier,
        ])
    }

    /// torchvision's `InvertedResidual`:
    ///
    ///     hidden = inputChannels · t
    ///     conv   [0] Conv2dNormActivation 1×1 inputChannels → hidden, ReLU6     (only when t ≠ 1)
    ///            [·] Conv2dNormActivation 3×3 depthwise (groups = hidden), stride s, ReLU6
    ///            [·] Conv2D 1×1 hidden → outputChannels (no bias), [·] BatchNorm2D   (linear)
    ///     y = x + conv(x) when s = 1 and inputChannels = outputChannels, else conv(x)
    ///
    /// A ``Graph`` with the node `conv` (a ``Sequential`` keyed `0, 1, …`: `conv.0.0.weight`,
    /// …) and, for the residual form, the merge `add`.
    ///
    /// - Throws: ``ShapeError`` `.invalidValue` for a stride other than 1 or 2 (torchvision's
    ///   rule), `.nonPositive` for a channel count or expansion < 1.
    public static func invertedResidual(inputChannels: Int, outputChannels: Int, stride: Int, expansion: Int,
                                        convolution: Conv2DAlgorithm = .automatic,
                                        using generator: inout some RandomNumberGenerator) throws(ShapeError) -> Graph {
        if stride != 1 && stride != 2 {
            throw ShapeError(.invalidValue, "MobileNetV2 inverted residual stride must be 1 or 2, got \(stride)")
        }
        if inputChannels < 1 || outputChannels < 1 || expansion < 1 {
            throw ShapeError(.nonPositive,
                "MobileNetV2 inverted residual needs channels and expansion >= 1, got \(inputChannels), \(outputChannels) and \(expansion)")
        }
        let hidden = try CheckedSize.product([inputChannels, expansion], "MobileNetV2 hidden channels")
        var layers: [any Layer] = []
        if expansion != 1 {
            layers.append(try convNormReLU6(inputChannels, hidden, kernelSize: 1, convolution: convolution, using: &generator))
        }
        layers.append(try convNormReLU6(hidden, hidden, kernelSize: 3, stride: stride, groups: hidden,
                                        convolution: convolution, using: &generator))
        layers.append(try Conv2D(inputChannels: hidden, outputChannels: outputChannels, kernelSize: 1, bias: false,
                                 initializer: .heNormalFanOut, algorithm: convolution, using: &generator))
        layers.append(try BatchNorm2D(channels: outputChannels))
        var g = Graph()
        let conv = try g.add(Sequential(layers), input: g.input, key: "conv")
        if stride == 1 && inputChannels == outputChannels {
            try g.add(Add(), inputs: [g.input, conv], key: "add")
        }
        return g
    }

    /// torchvision's `Conv2dNormActivation` with ReLU6: a bias-free `k×k` convolution with padding
    /// `(k − 1)/2`, batch norm, ReLU6, keyed `0, 1, 2`.
    public static func convNormReLU6(_ inputChannels: Int, _ outputChannels: Int, kernelSize: Int, stride: Int = 1,
                                     groups: Int = 1, convolution: Conv2DAlgorithm = .automatic,
                                     using generator: inout some RandomNumberGenerator) throws(ShapeError) -> Sequential {
        Sequential(
            try Conv2D(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: kernelSize, stride: stride,
                       padding: (kernelSize - 1) / 2, groups: groups, bias: false, initializer: .heNormalFanOut,
                       algorithm: convolution, using: &generator),
            try BatchNorm2D(channels: outputChannels),
            ReLU6())
    }
}
