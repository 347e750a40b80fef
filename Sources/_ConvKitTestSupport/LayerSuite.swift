/// The named layer shapes of the benchmark suite (float32, NCHW), shared by the benchmark runner
/// and the tests so both speak of the same `alexnet_c2` or `resnet_1x1`.
///
/// The conv and dense rows match `shared/anchors/suite.txt`, the single source of truth the peer
/// measurements (PyTorch, ONNX Runtime, oneDNN) were taken from. Shapes are plain numbers here;
/// ``ConvSpec/geometry()`` and ``DenseSpec/geometry()`` validate them.
public enum LayerSuite {
    /// A named square convolution: `N×C×H×W` input, `K` filters of `R×R`, stride, padding, groups.
    public struct ConvSpec: Sendable, Hashable {
        public let name: String
        public let batch: Int, inputChannels: Int, inputSize: Int
        public let outputChannels: Int, kernelSize: Int, stride: Int, padding: Int, groups: Int

        public init(_ name: String, batch: Int, inputChannels: Int, inputSize: Int,
                    outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, groups: Int = 1) {
            self.name = name
            self.batch = batch
            self.inputChannels = inputChannels
            self.inputSize = inputSize
            self.outputChannels = outputChannels
            self.kernelSize = kernelSize
            self.stride = stride
            self.padding = padding
            self.groups = groups
        }

        /// The validated geometry (throws when the numbers do not describe a convolution).
        public func geometry() throws(ShapeError) -> Conv2DGeometry {
            try Conv2DGeometry(batch: batch, inputChannels: inputChannels, inputSize: inputSize,
                               outputChannels: outputChannels, kernelSize: kernelSize,
                               stride: stride, padding: padding, groups: groups)
        }
    }

    /// A named fully connected layer: `batch × inputFeatures → outputFeatures`.
    public struct DenseSpec: Sendable, Hashable {
        public let name: String
        public let batch: Int, inputFeatures: Int, outputFeatures: Int

        public init(_ name: String, batch: Int, inputFeatures: Int, outputFeatures: Int) {
            self.name = name
            self.batch = batch
            self.inputFeatures = inputFeatures
            self.outputFeatures = outputFeatures
        }

        public func geometry() throws(ShapeError) -> DenseGeometry {
            try DenseGeometry(batch: batch, inputFeatures: inputFeatures, outputFeatures: outputFeatures)
        }
    }

    /// A named square max-pooling window over an `N×C×H×W` input.
    public struct PoolSpec: Sendable, Hashable {
        public let name: String
        public let batch: Int, channels: Int, inputSize: Int
        public let windowSize: Int, stride: Int, padding: Int

        public init(_ name: String, batch: Int, channels: Int, inputSize: Int,
                    windowSize: Int, stride: Int, padding: Int = 0) {
            self.name = name
            self.batch = batch
            self.channels = channels
            self.inputSize = inputSize
            self.windowSize = windowSize
            self.stride = stride
            self.padding = padding
        }

        /// `(inputSize + 2·padding − windowSize) / stride + 1`.
        public var outputSize: Int { (inputSize + 2 * padding - windowSize) / stride + 1 }
        public var inputCount: Int { batch * channels * inputSize * inputSize }
        public var outputCount: Int { batch * channels * outputSize * outputSize }
    }

    /// A named element-wise activation over `count` floats.
    public struct ElementwiseSpec: Sendable, Hashable {
        public let name: String
        public let count: Int
        public init(_ name: String, count: Int) {
            self.name = name
            self.count = count
        }
    }

    // MARK: The full suite (anchors' suite.txt)

    public static let conv: [ConvSpec] = [
        ConvSpec("lenet_c1", batch: 64, inputChannels: 1, inputSize: 32, outputChannels: 6, kernelSize: 5),
        ConvSpec("lenet_c3", batch: 64, inputChannels: 6, inputSize: 14, outputChannels: 16, kernelSize: 5),
        ConvSpec("alexnet_c1", batch: 8, inputChannels: 3, inputSize: 227, outputChannels: 96, kernelSize: 11, stride: 4),
        ConvSpec("alexnet_c2", batch: 8, inputChannels: 96, inputSize: 27, outputChannels: 256, kernelSize: 5, padding: 2),
        ConvSpec("alexnet_c3", batch: 8, inputChannels: 256, inputSize: 13, outputChannels: 384, kernelSize: 3, padding: 1),
        ConvSpec("resnet_3x3", batch: 8, inputChannels: 64, inputSize: 56, outputChannels: 64, kernelSize: 3, padding: 1),
        ConvSpec("resnet_1x1", batch: 8, inputChannels: 256, inputSize: 56, outputChannels: 64, kernelSize: 1),
        ConvSpec("vgg_3x3", batch: 8, inputChannels: 128, inputSize: 28, outputChannels: 128, kernelSize: 3, padding: 1),
        ConvSpec("strided_3x3", batch: 8, inputChannels: 128, inputSize: 28, outputChannels: 256, kernelSize: 3, stride: 2, padding: 1),
        ConvSpec("resnet_3x3_n1", batch: 1, inputChannels: 64, inputSize: 56, outputChannels: 64, kernelSize: 3, padding: 1),
    ]

    public static let dense: [DenseSpec] = [
        DenseSpec("lenet_f5", batch: 64, inputFeatures: 400, outputFeatures: 120),
        DenseSpec("alexnet_fc", batch: 64, inputFeatures: 4096, outputFeatures: 4096),
    ]

    public static let maxPool: [PoolSpec] = [
        PoolSpec("alexnet_pool1", batch: 8, channels: 96, inputSize: 55, windowSize: 3, stride: 2),
    ]

    public static let relu: [ElementwiseSpec] = [
        ElementwiseSpec("relu_16M", count: 1 << 24),
    ]

    // MARK: The quick suite (CI smoke: small shapes, seconds in total)

    /// Small versions of the suite's layer kinds: a 5×5 valid conv, a padded 3×3 (Winograd), a 1×1
    /// (pointwise, no im2col copy), a strided ragged odd-sized one, and a depthwise 3×3 (MobileNet style).
    public static let quickConv: [ConvSpec] = [
        ConvSpec("lenet_c1", batch: 8, inputChannels: 1, inputSize: 32, outputChannels: 6, kernelSize: 5),
        ConvSpec("lenet_c3", batch: 8, inputChannels: 6, inputSize: 14, outputChannels: 16, kernelSize: 5),
        ConvSpec("small_3x3", batch: 2, inputChannels: 16, inputSize: 28, outputChannels: 32, kernelSize: 3, padding: 1),
        ConvSpec("small_1x1", batch: 2, inputChannels: 32, inputSize: 28, outputChannels: 16, kernelSize: 1),
        ConvSpec("small_strided", batch: 2, inputChannels: 8, inputSize: 27, outputChannels: 12, kernelSize: 5, stride: 2, padding: 1),
        ConvSpec("small_depthwise", batch: 2, inputChannels: 32, inputSize: 28, outputChannels: 32, kernelSize: 3,
                 padding: 1, groups: 32),
    ]

    public static let quickDense: [DenseSpec] = [
        DenseSpec("lenet_f5", batch: 64, inputFeatures: 400, outputFeatures: 120),
        DenseSpec("small_fc", batch: 8, inputFeatures: 512, outputFeatures: 256),
    ]

    public static let quickMaxPool: [PoolSpec] = [
        PoolSpec("small_pool", batch: 2, channels: 16, inputSize: 27, windowSize: 3, stride: 2),
    ]

    public static let quickRelu: [ElementwiseSpec] = [
        ElementwiseSpec("relu_1M", count: 1 << 20),
    ]
}
