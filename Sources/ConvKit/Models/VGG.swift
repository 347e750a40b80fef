/// VGG (Simonyan & Zisserman 2014) in torchvision's layout: the module tree and `state_dict`
/// keys of `torchvision.models.vgg11_bn` / `vgg16_bn` (and `vgg11` / `vgg16` without batch
/// norm), so their checkpoints load with no renaming.
///
///     input  [N, 3, H, W]
///     features    per entry of the configuration: a channel count c → Conv2D 3×3 pad 1 (with
///                 bias), BatchNorm2D (with batch norm), ReLU; "M" → MaxPool2D 2×2 stride 2
///                 VGG-11: 64 M 128 M 256 256 M 512 512 M 512 512 M
///                 VGG-16: 64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512 M
///                                                                → [N, 512, H/32, W/32]
///     avgpool     AdaptiveAvgPool2D 7×7, flatten                 → [N, 512·49]
///     classifier  0 Dense 512·49 → 4096, 1 ReLU, 2 Dropout(p),
///                 3 Dense 4096 → 4096, 4 ReLU, 5 Dropout(p),
///                 6 Dense 4096 → classes                         → [N, classes] logits
///
/// Keys: `features.0.weight`, `features.1.running_var` (the batch norm after the first
/// convolution), …, `classifier.0.weight`, `classifier.3.weight`, `classifier.6.bias`.
/// Inputs need `H, W >= 32` (five 2×2 poolings); the adaptive pooling makes the classifier
/// independent of the image size (repeating values below 224×224, as in PyTorch).
///
/// Weights as torchvision draws them: convolutions `kaiming_normal_(mode="fan_out")` with zero
/// bias, batch norms weight 1 and bias 0, dense layers N(0, 0.01²) with zero bias.
public enum VGG {
    /// An entry of a configuration: a 3×3 convolution to `channels`, or a 2×2 max pooling.
    public enum Stage: Sendable, Hashable {
        case convolution(channels: Int)
        case maxPool
    }

    /// torchvision's configuration "A" (VGG-11) or "D" (VGG-16).
    ///
    /// - Throws: ``ShapeError`` `.invalidValue` for a depth other than 11 or 16.
    public static func configuration(depth: Int) throws(ShapeError) -> [Stage] {
        let m = -1
        let entries: [Int]
        switch depth {
        case 11: entries = [64, m, 128, m, 256, 256, m, 512, 512, m, 512, 512, m]
        case 16: entries = [64, 64, m, 128, 128, m, 256, 256, 256, m, 512, 512, 512, m, 512, 512, 512, m]
        default: throw ShapeError(.invalidValue, "VGG depth must be 11 or 16, got \(depth)")
        }
        return entries.map { $0 == m ? .maxPool : .convolution(channels: $0) }
    }

    /// torchvision's `vgg11_bn` / `vgg16_bn` (`batchNorm: false`: `vgg11` / `vgg16`).
    ///
    /// - Parameters:
    ///   - width: channels of the first convolution (torchvision: 64); every convolution's
    ///     channel count is scaled by `width/64` (rounded down, at least 1). Smaller widths keep
    ///     the keys with smaller tensors.
    ///   - hiddenFeatures: the width of the classifier's two hidden layers (torchvision: 4096).
    ///   - dropout: the classifier's dropout probability (torchvision: 0.5).
    /// - Throws: ``ShapeError`` `.invalidValue` for an unknown depth or a dropout probability
    ///   outside `[0, 1]`, `.nonPositive` for `classes`, `width` or `hiddenFeatures` < 1.
    public static func make(depth: Int, batchNorm: Bool = true, classes: Int = 1000, width: Int = 64,
                            hiddenFeatures: Int = 4096, dropout: Float = 0.5,
                            convolution: Conv2DAlgorithm = .automatic,
                            using generator: inout some RandomNumberGenerator) throws(ShapeError) -> Sequential {
        if classes < 1 || width < 1 || hiddenFeatures < 1 {
            throw ShapeError(.nonPositive,
                "VGG needs classes, width and hiddenFeatures >= 1, got \(classes), \(width) and \(hiddenFeatures)")
        }
        var features: [any Layer] = []
        var channels = 3
        for stage in try configuration(depth: depth) {
            switch stage {
            case .maxPool:
                features.append(try MaxPool2D(window: 2, stride: 2))
            case .convolution(let c):
                let scaled = max(1, c * width / 64)
                features.append(try Conv2D(inputChannels: channels, outputChannels: scaled, kernelSize: 3, padding: 1,
                                           initializer: .heNormalFanOut, algorithm: convolution, using: &generator))
                if batchNorm { features.append(try BatchNorm2D(channels: scaled)) }
                features.append(ReLU())
                channels = scaled
            }
        }
        let pooled = try CheckedSize.product([channels, 7, 7], "VGG classifier input")
        func dense(_ i: Int, _ o: Int, _ g: inout some RandomNumberGenerator) throws(ShapeError) -> Dense {
            try Dense(inputFeatures: i, outputFeatures: o, initializer: .normal(standardDeviation: 0.01), using: &g)
        }
        let classifier = Sequential(
            try dense(pooled, hiddenFeatures, &generator), ReLU(), try Dropout(probability: dropout),
            try dense(hiddenFeatures, hiddenFeatures, &generator), ReLU(), try Dropout(probability: dropout),
            try dense(hiddenFeatures, classes, &generator))
        return try Sequential(named: [
            "features": Sequential(features), "avgpool": try AdaptiveAvgPool2D(outputSize: 7),
            "flatten": Flatten(), "classifier": classifier,
        ])
    }
}
