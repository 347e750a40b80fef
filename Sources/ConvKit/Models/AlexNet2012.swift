/// AlexNet as in the paper (Krizhevsky, Sutskever & Hinton 2012), single-tower form: the
/// paper's channel counts (96, 256, 384, 384, 256) on 227×227 inputs, no channel groups, no local
/// response normalisation, no dropout. torchvision's AlexNet (other channel counts, adaptive
/// pooling, dropout, its `state_dict` keys) is ``AlexNet``.
///
///     input  [N, 3, 227, 227]
///      0 Conv2D 3→96, 11×11 stride 4          → [N, 96, 55, 55]     (227 − 11)/4 + 1 = 55
///      1 ReLU
///      2 MaxPool2D 3×3 stride 2 (overlapping) → [N, 96, 27, 27]     (55 − 3)/2 + 1 = 27
///      3 Conv2D 96→256, 5×5 pad 2             → [N, 256, 27, 27]
///      4 ReLU
///      5 MaxPool2D 3×3/2                      → [N, 256, 13, 13]
///      6 Conv2D 256→384, 3×3 pad 1            → [N, 384, 13, 13]
///      7 ReLU
///      8 Conv2D 384→384, 3×3 pad 1            → [N, 384, 13, 13]
///      9 ReLU
///     10 Conv2D 384→256, 3×3 pad 1            → [N, 256, 13, 13]
///     11 ReLU
///     12 MaxPool2D 3×3/2                      → [N, 256, 6, 6]
///     13 Flatten                              → [N, 9216]
///     14 Dense 9216→4096, 15 ReLU, 16 Dense 4096→4096, 17 ReLU, 18 Dense 4096→classes
public enum AlexNet2012 {
    /// The input shape of one image: `[3, 227, 227]`.
    public static let imageShape: Shape = [3, 227, 227]

    /// Trainable scalars for `classes` outputs:
    ///
    ///     conv1  96·3·11·11 + 96      =     34,944
    ///     conv2  256·96·5·5 + 256     =    614,656
    ///     conv3  384·256·3·3 + 384    =    885,120
    ///     conv4  384·384·3·3 + 384    =  1,327,488
    ///     conv5  256·384·3·3 + 256    =    884,992
    ///     fc6    9216·4096 + 4096     = 37,752,832
    ///     fc7    4096·4096 + 4096     = 16,781,312
    ///     fc8    4096·1000 + 1000     =  4,097,000    (classes = 1000)
    ///     total                         62,378,344
    public static func parameterCount(classes: Int = 1000) -> Int {
        34_944 + 614_656 + 885_120 + 1_327_488 + 884_992 + 37_752_832 + 16_781_312 + 4096 * classes + classes
    }

    /// A freshly initialised AlexNet of the paper (He normal by default; `.zeros` is fast when the weights
    /// will be loaded from a checkpoint).
    public static func make(classes: Int = 1000, initializer: Initializer = .heNormal,
                            convolution: Conv2DAlgorithm = .automatic, dense: DenseAlgorithm = .gemm,
                            using generator: inout some RandomNumberGenerator) throws(ShapeError) -> Sequential {
        func conv(_ i: Int, _ o: Int, _ k: Int, stride: Int = 1, padding: Int = 0,
                  _ g: inout some RandomNumberGenerator) throws(ShapeError) -> Conv2D {
            try Conv2D(inputChannels: i, outputChannels: o, kernelSize: k, stride: stride, padding: padding,
                       initializer: initializer, algorithm: convolution, using: &g)
        }
        func fullyConnected(_ i: Int, _ o: Int, _ g: inout some RandomNumberGenerator) throws(ShapeError) -> Dense {
            try Dense(inputFeatures: i, outputFeatures: o, initializer: initializer, algorithm: dense, using: &g)
        }
        return Sequential(
            try conv(3, 96, 11, stride: 4, &generator), ReLU(), try MaxPool2D(window: 3, stride: 2),
            try conv(96, 256, 5, padding: 2, &generator), ReLU(), try MaxPool2D(window: 3, stride: 2),
            try conv(256, 384, 3, padding: 1, &generator), ReLU(),
            try conv(384, 384, 3, padding: 1, &generator), ReLU(),
            try conv(384, 256, 3, padding: 1, &generator), ReLU(), try MaxPool2D(window: 3, stride: 2),
            Flatten(),
            try fullyConnected(9216, 4096, &generator), ReLU(),
            try fullyConnected(4096, 4096, &generator), ReLU(),
            try fullyConnected(4096, classes, &generator))
    }
}
