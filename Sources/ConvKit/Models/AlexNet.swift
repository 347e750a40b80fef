/// AlexNet in torchvision's form (`torchvision.models.alexnet`, after Krizhevsky's 2014 "one
/// weird trick" variant): its module tree and `state_dict` keys, so its checkpoints load with no
/// renaming. The paper's form is ``AlexNet2012``.
///
///     input  [N, 3, H, W]   (224×224 in torchvision; at least 63×63)
///     features    0 Conv2D 3→64, 11×11 stride 4 pad 2, 1 ReLU, 2 MaxPool2D 3×3/2     224 → 55 → 27
///                 3 Conv2D 64→192, 5×5 pad 2, 4 ReLU, 5 MaxPool2D 3×3/2              27 → 13
///                 6 Conv2D 192→384, 3×3 pad 1, 7 ReLU
///                 8 Conv2D 384→256, 3×3 pad 1, 9 ReLU
///                10 Conv2D 256→256, 3×3 pad 1, 11 ReLU, 12 MaxPool2D 3×3/2           13 → 6
///     avgpool     AdaptiveAvgPool2D 6×6, flatten                         → [N, 256·36]
///     classifier  0 Dropout(p), 1 Dense 9216 → 4096, 2 ReLU,
///                 3 Dropout(p), 4 Dense 4096 → 4096, 5 ReLU,
///                 6 Dense 4096 → classes                                 → [N, classes] logits
///
/// Keys: `features.0.weight`, `features.3.bias`, …, `classifier.1.weight`, `classifier.4.weight`,
/// `classifier.6.bias`. Weights are PyTorch's default initialisation (`U(±1/√fanIn)` for weights
/// and biases, ``Initializer/pyTorchDefault``), which torchvision's AlexNet keeps.
public enum AlexNet {
    /// Trainable scalars of torchvision's AlexNet with `classes` outputs and `hiddenFeatures`
    /// (4096) hidden units: 61,100,840 for 1000 classes.
    ///
    ///     features  23,296 + 307,392 + 663,936 + 884,992 + 590,080      =  2,469,696
    ///     classifier 9216·h + h + h·h + h + h·classes + classes
    public static func parameterCount(classes: Int = 1000, hiddenFeatures h: Int = 4096) -> Int {
        2_469_696 + 9216 * h + h + h * h + h + h * classes + classes
    }

    /// A freshly initialised torchvision AlexNet.
    ///
    /// - Parameters:
    ///   - hiddenFeatures: the classifier's hidden width (torchvision: 4096).
    ///   - dropout: the classifier's dropout probability (torchvision: 0.5).
    /// - Throws: ``ShapeError`` `.nonPositive` for `classes` or `hiddenFeatures` < 1,
    ///   `.invalidValue` for a dropout probability outside `[0, 1]`.
    public static func make(classes: Int = 1000, hiddenFeatures: Int = 4096, dropout: Float = 0.5,
                            initializer: Initializer = .pyTorchDefault, convolution: Conv2DAlgorithm = .automatic,
                            using generator: inout some RandomNumberGenerator) throws(ShapeError) -> Sequential {
        if classes < 1 || hiddenFeatures < 1 {
            throw ShapeError(.nonPositive, "AlexNet needs classes and hiddenFeatures >= 1, got \(classes) and \(hiddenFeatures)")
        }
        func conv(_ i: Int, _ o: Int, _ k: Int, stride: Int = 1, padding: Int,
                  _ g: inout some RandomNumberGenerator) throws(ShapeError) -> Conv2D {
            try Conv2D(inputChannels: i, outputChannels: o, kernelSize: k, stride: stride, padding: padding,
                       initializer: initializer, algorithm: convolution, using: &g)
        }
        func dense(_ i: Int, _ o: Int, _ g: inout some RandomNumberGenerator) throws(ShapeError) -> Dense {
            try Dense(inputFeatures: i, outputFeatures: o, initializer: initializer, using: &g)
        }
        let features = Sequential(
            try conv(3, 64, 11, stride: 4, padding: 2, &generator), ReLU(), try MaxPool2D(window: 3, stride: 2),
            try conv(64, 192, 5, padding: 2, &generator), ReLU(), try MaxPool2D(window: 3, stride: 2),
            try conv(192, 384, 3, padding: 1, &generator), ReLU(),
            try conv(384, 256, 3, padding: 1, &generator), ReLU(),
            try conv(256, 256, 3, padding: 1, &generator), ReLU(), try MaxPool2D(window: 3, stride: 2))
        let classifier = Sequential(
            try Dropout(probability: dropout), try dense(256 * 36, hiddenFeatures, &generator), ReLU(),
            try Dropout(probability: dropout), try dense(hiddenFeatures, hiddenFeatures, &generator), ReLU(),
            try dense(hiddenFeatures, classes, &generator))
        return try Sequential(named: [
            "features": features, "avgpool": try AdaptiveAvgPool2D(outputSize: 6), "flatten": Flatten(),
            "classifier": classifier,
        ])
    }
}
