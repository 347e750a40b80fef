/// LeNet-5 (LeCun et al. 1998) in its modern form: ReLU and 2×2 max pooling, as in the
/// project's PyTorch anchor (`nn.Sequential` with the same layer indices, so the checkpoint
/// keys `0.weight`, `3.weight`, `7.weight`, `9.weight`, `11.weight` (+ biases) match its
/// `state_dict`).
///
///     input  [N, 1, 32, 32]   (28×28 MNIST digits padded by 2)
///      0 C1  Conv2D 1→6, 5×5          → [N, 6, 28, 28]
///      1     ReLU
///      2 S2  MaxPool2D 2×2/2          → [N, 6, 14, 14]
///      3 C3  Conv2D 6→16, 5×5         → [N, 16, 10, 10]
///      4     ReLU
///      5 S4  MaxPool2D 2×2/2          → [N, 16, 5, 5]
///      6     Flatten                  → [N, 400]
///      7 C5  Dense 400→120            (C5 of the paper: a 5×5 convolution over a 5×5 map)
///      8     ReLU
///      9 F6  Dense 120→84
///     10     ReLU
///     11     Dense 84→classes         → [N, classes] logits
public enum LeNet5 {
    /// The input shape of one image: `[1, 32, 32]`.
    public static let imageShape: Shape = [1, 32, 32]

    /// Trainable scalars for `classes` outputs:
    ///
    ///     C1  6·1·5·5 + 6     =    156
    ///     C3  16·6·5·5 + 16   =  2,416
    ///     C5  400·120 + 120   = 48,120
    ///     F6  120·84 + 84     = 10,164
    ///     out 84·10 + 10      =    850      (classes = 10)
    ///     total                 61,706
    public static func parameterCount(classes: Int = 10) -> Int { 156 + 2_416 + 48_120 + 10_164 + 84 * classes + classes }

    /// A freshly initialised LeNet-5. The default initialiser is PyTorch's (U(±1/√fanIn) for
    /// weights and biases), which the anchor recipe uses.
    public static func make(classes: Int = 10, initializer: Initializer = .pyTorchDefault,
                            convolution: Conv2DAlgorithm = .automatic, dense: DenseAlgorithm = .gemm,
                            using generator: inout some RandomNumberGenerator) throws(ShapeError) -> Sequential {
        Sequential(
            try Conv2D(inputChannels: 1, outputChannels: 6, kernelSize: 5, initializer: initializer, algorithm: convolution, using: &generator),
            ReLU(),
            try MaxPool2D(window: 2),
            try Conv2D(inputChannels: 6, outputChannels: 16, kernelSize: 5, initializer: initializer, algorithm: convolution, using: &generator),
            ReLU(),
            try MaxPool2D(window: 2),
            Flatten(),
            try Dense(inputFeatures: 400, outputFeatures: 120, initializer: initializer, algorithm: dense, using: &generator),
            ReLU(),
            try Dense(inputFeatures: 120, outputFeatures: 84, initializer: initializer, algorithm: dense, using: &generator),
            ReLU(),
            try Dense(inputFeatures: 84, outputFeatures: classes, initializer: initializer, algorithm: dense, using: &generator))
    }
}
