/// The named layer shapes of the benchmark suite (float32, NCHW), shared by the benchmark runner
/// and the tests so both speak of the same `alexnet_c2` or `resnet_1x1`.
///
/// The conv and dense rows of the default suite are the shapes the peer measurements (PyTorch,
/// ONNX Runtime, oneDNN) were taken on; ``broadConv`` adds
/// the layer families of widely used networks (ResNet-50, MobileNetV2, ResNeXt, Inception-v3, ...). Shapes are plain numbers here;
/// ``ConvSpec/geometry()`` and ``DenseSpec/geometry()`` validate them.
public enum LayerSuite {
    /// A named convolution: `N×C×H×W` input, `K` filters of `R×S`, per-axis stride, padding and
    /// dilation, groups. The square initializer (`inputSize`, `kernelSize`, one stride and padding)
    /// covers most layers; the per-axis one the rectangular kernels (Inception's 1×7 / 7×1).
    public struct ConvSpec: Sendable, Hashable {
        public let name: String
        public let batch: Int, inputChannels: Int, inputHeight: Int, inputWidth: Int
        public let outputChannels: Int, kernelHeight: Int, kernelWidth: Int
        public let strideHeight: Int, strideWidth: Int
        public let paddingHeight: Int, paddingWidth: Int
        public let dilationHeight: Int, dilationWidth: Int
        public let groups: Int

        /// A square layer: `inputSize × inputSize` input, `kernelSize × kernelSize` filters.
        public init(_ name: String, batch: Int, inputChannels: Int, inputSize: Int,
                    outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
                    groups: Int = 1) {
            self.init(name, batch: batch, inputChannels: inputChannels, inputHeight: inputSize, inputWidth: inputSize,
                      outputChannels: outputChannels, kernelHeight: kernelSize, kernelWidth: kernelSize,
                      strideHeight: stride, strideWidth: stride, paddingHeight: padding, paddingWidth: padding,
                      dilationHeight: dilation, dilationWidth: dilation, groups: groups)
        }

        /// Any layer: every size, stride, padding and dilation per axis.
        public init(_ name: String, batch: Int, inputChannels: Int, inputHeight: Int, inputWidth: Int,
                    outputChannels: Int, kernelHeight: Int, kernelWidth: Int,
                    strideHeight: Int = 1, strideWidth: Int = 1, paddingHeight: Int = 0, paddingWidth: Int = 0,
                    dilationHeight: Int = 1, dilationWidth: Int = 1, groups: Int = 1) {
            self.name = name
            self.batch = batch
            self.inputChannels = inputChannels
            self.inputHeight = inputHeight
            self.inputWidth = inputWidth
            self.outputChannels = outputChannels
            self.kernelHeight = kernelHeight
            self.kernelWidth = kernelWidth
            self.strideHeight = strideHeight
            self.strideWidth = strideWidth
            self.paddingHeight = paddingHeight
            self.paddingWidth = paddingWidth
            self.dilationHeight = dilationHeight
            self.dilationWidth = dilationWidth
            self.groups = groups
        }

        /// `true` when input, kernel, stride, padding and dilation are the same on both axes.
        public var isSquare: Bool {
            inputHeight == inputWidth && kernelHeight == kernelWidth && strideHeight == strideWidth
                && paddingHeight == paddingWidth && dilationHeight == dilationWidth
        }

        // The square view (height values; equal to the width values when `isSquare`).
        public var inputSize: Int { inputHeight }
        public var kernelSize: Int { kernelHeight }
        public var stride: Int { strideHeight }
        public var padding: Int { paddingHeight }
        public var dilation: Int { dilationHeight }

        /// The validated geometry (throws when the numbers do not describe a convolution).
        public func geometry() throws(ShapeError) -> Conv2DGeometry {
            try Conv2DGeometry(batch: batch, inputChannels: inputChannels, inputHeight: inputHeight, inputWidth: inputWidth,
                               outputChannels: outputChannels, kernelHeight: kernelHeight, kernelWidth: kernelWidth,
                               strideHeight: strideHeight, strideWidth: strideWidth,
                               paddingHeight: paddingHeight, paddingWidth: paddingWidth,
                               dilationHeight: dilationHeight, dilationWidth: dilationWidth, groups: groups)
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

    // MARK: The broad suite (layer families of widely used networks)

    /// Conv layers of the networks users run, with shapes from the papers (float32, NCHW; not part
    /// of the anchors' suite.txt). Batch 8 unless the row says otherwise (`_n1`, `_n32`, and the
    /// segmentation/generation layers, which those papers train at batch 1 or 2); every row is at
    /// most ~2 GFLOP per direction so that `make compare` stays affordable on 2 cores.
    public static let broadConv: [ConvSpec] = [
        // ResNet-50 (He et al. 2016; torchvision v1.5 puts the stride on the 3×3): stem, bottleneck
        // 1×1 reduce / expand at conv2_x, the stride-2 3×3 and 1×1 projection entering conv3_x, conv5_x's 3×3.
        ConvSpec("r50_stem_7x7", batch: 8, inputChannels: 3, inputSize: 224, outputChannels: 64, kernelSize: 7,
                 stride: 2, padding: 3),
        ConvSpec("r50_1x1_reduce", batch: 8, inputChannels: 256, inputSize: 56, outputChannels: 64, kernelSize: 1),
        ConvSpec("r50_1x1_expand", batch: 8, inputChannels: 64, inputSize: 56, outputChannels: 256, kernelSize: 1),
        ConvSpec("r50_3x3_s2", batch: 8, inputChannels: 128, inputSize: 56, outputChannels: 128, kernelSize: 3,
                 stride: 2, padding: 1),
        ConvSpec("r50_1x1_proj_s2", batch: 8, inputChannels: 256, inputSize: 56, outputChannels: 512, kernelSize: 1,
                 stride: 2),
        ConvSpec("r50_3x3_late", batch: 8, inputChannels: 512, inputSize: 7, outputChannels: 512, kernelSize: 3, padding: 1),
        ConvSpec("r50_1x1_reduce_n1", batch: 1, inputChannels: 256, inputSize: 56, outputChannels: 64, kernelSize: 1),
        ConvSpec("r50_3x3_late_n1", batch: 1, inputChannels: 512, inputSize: 7, outputChannels: 512, kernelSize: 3,
                 padding: 1),
        // MobileNetV2 (Sandler et al. 2018, Table 2): depthwise 3×3 (groups = channels) at stride 1
        // and 2, the 1×1 expand (t = 6) and project of the 24-channel bottleneck at 56×56.
        ConvSpec("mbv2_dw3x3_112", batch: 8, inputChannels: 32, inputSize: 112, outputChannels: 32, kernelSize: 3,
                 padding: 1, groups: 32),
        ConvSpec("mbv2_dw3x3_s1", batch: 8, inputChannels: 144, inputSize: 56, outputChannels: 144, kernelSize: 3,
                 padding: 1, groups: 144),
        ConvSpec("mbv2_dw3x3_s2", batch: 8, inputChannels: 144, inputSize: 56, outputChannels: 144, kernelSize: 3,
                 stride: 2, padding: 1, groups: 144),
        ConvSpec("mbv2_dw3x3_n32", batch: 32, inputChannels: 144, inputSize: 56, outputChannels: 144, kernelSize: 3,
                 padding: 1, groups: 144),
        ConvSpec("mbv2_pw_expand", batch: 8, inputChannels: 24, inputSize: 56, outputChannels: 144, kernelSize: 1),
        ConvSpec("mbv2_pw_project", batch: 8, inputChannels: 144, inputSize: 56, outputChannels: 24, kernelSize: 1),
        ConvSpec("mbv2_pw_expand_n32", batch: 32, inputChannels: 24, inputSize: 56, outputChannels: 144, kernelSize: 1),
        // ResNeXt-50 32×4d (Xie et al. 2017, Table 1): conv2's grouped 3×3, 32 groups of 4 channels.
        ConvSpec("resnext_g32_3x3", batch: 8, inputChannels: 128, inputSize: 56, outputChannels: 128, kernelSize: 3,
                 padding: 1, groups: 32),
        // Inception-v3 (Szegedy et al. 2016, Fig. 6 at 17×17, n = 7): the factorised 1×7 and 7×1.
        ConvSpec("incep_1x7", batch: 8, inputChannels: 128, inputHeight: 17, inputWidth: 17, outputChannels: 128,
                 kernelHeight: 1, kernelWidth: 7, paddingHeight: 0, paddingWidth: 3),
        ConvSpec("incep_7x1", batch: 8, inputChannels: 128, inputHeight: 17, inputWidth: 17, outputChannels: 128,
                 kernelHeight: 7, kernelWidth: 1, paddingHeight: 3, paddingWidth: 0),
        // DenseNet-121 (Huang et al. 2017): dense block 1's 3×3 growth layer, 4k = 128 → k = 32.
        ConvSpec("densenet_3x3_growth", batch: 8, inputChannels: 128, inputSize: 56, outputChannels: 32, kernelSize: 3,
                 padding: 1),
        // DeepLabv3 (Chen et al. 2017): atrous 3×3 at output stride 16 (513 crop → 33×33), rates 2 and 4,
        // 256 channels (block 3 width), batch 1.
        ConvSpec("deeplab_3x3_d2", batch: 1, inputChannels: 256, inputSize: 33, outputChannels: 256, kernelSize: 3,
                 padding: 2, dilation: 2),
        ConvSpec("deeplab_3x3_d4", batch: 1, inputChannels: 256, inputSize: 33, outputChannels: 256, kernelSize: 3,
                 padding: 4, dilation: 4),
        // U-Net (Ronneberger et al. 2015, batch 1): the first level's 64-channel 3×3 (padded, 128×128 tile).
        ConvSpec("unet_3x3_64", batch: 1, inputChannels: 64, inputSize: 128, outputChannels: 64, kernelSize: 3,
                 padding: 1),
        // CycleGAN (Zhu et al. 2017, batch 1): the generator's c7s1-64 stem at 256×256 (zero padding here).
        ConvSpec("cyclegan_stem_7x7", batch: 1, inputChannels: 3, inputSize: 256, outputChannels: 64, kernelSize: 7,
                 padding: 3),
        // VGG-16 (Simonyan & Zisserman 2015): conv1_1, 3 → 64 at 224×224.
        ConvSpec("vgg16_conv1_1", batch: 8, inputChannels: 3, inputSize: 224, outputChannels: 64, kernelSize: 3,
                 padding: 1),
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
