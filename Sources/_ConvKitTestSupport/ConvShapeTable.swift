/// A named convolution shape for the test table.
public struct NamedConv: Sendable, CustomStringConvertible {
    public let name: String
    public let geometry: Conv2DGeometry
    public var description: String { "\(name) [\(geometry)]" }

    public init(_ name: String, _ geometry: Conv2DGeometry) {
        self.name = name
        self.geometry = geometry
    }
}

/// The shape table every convolution algorithm is tested on: edge cases, then the named real
/// layers with their batch scaled down so that the naive reference stays fast.
public enum ConvShapeTable {
    /// Shapes that exercise every boundary of the lowering code.
    public static func edgeCases() throws -> [NamedConv] {
        [
            NamedConv("1x1 pointwise", try Conv2DGeometry(batch: 2, inputChannels: 5, inputHeight: 7, inputWidth: 6,
                                                          outputChannels: 3, kernelHeight: 1, kernelWidth: 1)),
            NamedConv("1x1 stride 2", try Conv2DGeometry(batch: 1, inputChannels: 4, inputHeight: 9, inputWidth: 8,
                                                        outputChannels: 6, kernelHeight: 1, kernelWidth: 1,
                                                        strideHeight: 2, strideWidth: 2)),
            NamedConv("1x1 padded", try Conv2DGeometry(batch: 1, inputChannels: 3, inputHeight: 4, inputWidth: 5,
                                                      outputChannels: 2, kernelHeight: 1, kernelWidth: 1,
                                                      paddingHeight: 1, paddingWidth: 1)),
            NamedConv("non-square kernel and image", try Conv2DGeometry(batch: 2, inputChannels: 3, inputHeight: 9, inputWidth: 13,
                                                                       outputChannels: 4, kernelHeight: 2, kernelWidth: 5)),
            NamedConv("stride 2 pad 1", try Conv2DGeometry(batch: 2, inputChannels: 3, inputHeight: 11, inputWidth: 10,
                                                          outputChannels: 5, kernelHeight: 3, kernelWidth: 3,
                                                          strideHeight: 2, strideWidth: 2, paddingHeight: 1, paddingWidth: 1)),
            NamedConv("stride 3", try Conv2DGeometry(batch: 1, inputChannels: 2, inputHeight: 13, inputWidth: 14,
                                                    outputChannels: 3, kernelHeight: 4, kernelWidth: 4,
                                                    strideHeight: 3, strideWidth: 3)),
            NamedConv("stride > kernel", try Conv2DGeometry(batch: 2, inputChannels: 2, inputHeight: 12, inputWidth: 11,
                                                           outputChannels: 3, kernelHeight: 2, kernelWidth: 2,
                                                           strideHeight: 3, strideWidth: 4)),
            NamedConv("padding 2", try Conv2DGeometry(batch: 1, inputChannels: 3, inputHeight: 6, inputWidth: 7,
                                                     outputChannels: 4, kernelHeight: 5, kernelWidth: 5,
                                                     paddingHeight: 2, paddingWidth: 2)),
            NamedConv("padding > kernel half (pad 2, 3x3)", try Conv2DGeometry(batch: 1, inputChannels: 2, inputHeight: 5, inputWidth: 5,
                                                                               outputChannels: 2, kernelHeight: 3, kernelWidth: 3,
                                                                               paddingHeight: 2, paddingWidth: 2)),
            NamedConv("odd sizes, asymmetric stride/pad", try Conv2DGeometry(batch: 3, inputChannels: 3, inputHeight: 15, inputWidth: 9,
                                                                             outputChannels: 7, kernelHeight: 3, kernelWidth: 2,
                                                                             strideHeight: 2, strideWidth: 1,
                                                                             paddingHeight: 1, paddingWidth: 0)),
            NamedConv("kernel = image", try Conv2DGeometry(batch: 2, inputChannels: 3, inputHeight: 5, inputWidth: 5,
                                                          outputChannels: 4, kernelHeight: 5, kernelWidth: 5)),
            NamedConv("batch 1, one channel", try Conv2DGeometry(batch: 1, inputChannels: 1, inputHeight: 8, inputWidth: 8,
                                                                outputChannels: 1, kernelHeight: 3, kernelWidth: 3)),
            NamedConv("many channels", try Conv2DGeometry(batch: 2, inputChannels: 96, inputHeight: 6, inputWidth: 6,
                                                         outputChannels: 40, kernelHeight: 3, kernelWidth: 3,
                                                         paddingHeight: 1, paddingWidth: 1)),
            NamedConv("stride 2, 48 channels (register-block pairs)", try Conv2DGeometry(batch: 2, inputChannels: 5, inputHeight: 9,
                                                                                        inputWidth: 40, outputChannels: 48,
                                                                                        kernelHeight: 3, kernelWidth: 3,
                                                                                        strideHeight: 2, strideWidth: 2,
                                                                                        paddingHeight: 1, paddingWidth: 1)),
            NamedConv("stride 2, 40 channels (pair and tail block)", try Conv2DGeometry(batch: 1, inputChannels: 4, inputHeight: 11,
                                                                                       inputWidth: 10, outputChannels: 40,
                                                                                       kernelHeight: 3, kernelWidth: 3,
                                                                                       strideHeight: 2, strideWidth: 2,
                                                                                       paddingHeight: 1, paddingWidth: 1)),
            NamedConv("11x11 stride 4, 40 channels (wide kernel rows)", try Conv2DGeometry(batch: 2, inputChannels: 3, inputHeight: 35,
                                                                                          inputWidth: 35, outputChannels: 40,
                                                                                          kernelHeight: 11, kernelWidth: 11,
                                                                                          strideHeight: 4, strideWidth: 4)),
            NamedConv("3x3 odd output, batch 3", try Conv2DGeometry(batch: 3, inputChannels: 5, inputHeight: 9, inputWidth: 7,
                                                                    outputChannels: 4, kernelHeight: 3, kernelWidth: 3)),
            NamedConv("3x3 pad 1 on 1x1 image", try Conv2DGeometry(batch: 2, inputChannels: 3, inputHeight: 1, inputWidth: 1,
                                                                   outputChannels: 2, kernelHeight: 3, kernelWidth: 3,
                                                                   paddingHeight: 1, paddingWidth: 1)),
            NamedConv("3x3 wide odd rows (vector blocks and tails)", try Conv2DGeometry(batch: 2, inputChannels: 3, inputHeight: 7,
                                                                                        inputWidth: 45, outputChannels: 4,
                                                                                        kernelHeight: 3, kernelWidth: 3,
                                                                                        paddingHeight: 1, paddingWidth: 1)),
            NamedConv("3x3 pad 2 wide", try Conv2DGeometry(batch: 1, inputChannels: 2, inputHeight: 5, inputWidth: 38,
                                                          outputChannels: 3, kernelHeight: 3, kernelWidth: 3,
                                                          paddingHeight: 2, paddingWidth: 2)),
            NamedConv("dilation 2", try Conv2DGeometry(batch: 1, inputChannels: 2, inputHeight: 10, inputWidth: 9,
                                                      outputChannels: 3, kernelHeight: 3, kernelWidth: 3,
                                                      paddingHeight: 2, paddingWidth: 1, dilationHeight: 2, dilationWidth: 2)),
            NamedConv("dilation 1x3 wide", try Conv2DGeometry(batch: 2, inputChannels: 3, inputHeight: 6, inputWidth: 41,
                                                             outputChannels: 17, kernelHeight: 3, kernelWidth: 3,
                                                             paddingHeight: 1, paddingWidth: 3, dilationHeight: 1, dilationWidth: 3)),
            NamedConv("groups 2", try Conv2DGeometry(batch: 2, inputChannels: 4, inputHeight: 7, inputWidth: 7,
                                                    outputChannels: 6, kernelHeight: 3, kernelWidth: 3,
                                                    paddingHeight: 1, paddingWidth: 1, groups: 2)),
            NamedConv("depthwise", try Conv2DGeometry(batch: 1, inputChannels: 5, inputHeight: 8, inputWidth: 6,
                                                     outputChannels: 5, kernelHeight: 3, kernelWidth: 3,
                                                     strideHeight: 2, strideWidth: 2, paddingHeight: 1, paddingWidth: 1,
                                                     groups: 5)),
            NamedConv("depthwise 3x3 wide, multiplier 2", try Conv2DGeometry(batch: 2, inputChannels: 3, inputHeight: 9, inputWidth: 30,
                                                                            outputChannels: 6, kernelHeight: 3, kernelWidth: 3,
                                                                            paddingHeight: 1, paddingWidth: 1, groups: 3)),
            NamedConv("depthwise 5x5 dilation 2", try Conv2DGeometry(batch: 1, inputChannels: 4, inputHeight: 13, inputWidth: 12,
                                                                    outputChannels: 4, kernelHeight: 5, kernelWidth: 5,
                                                                    paddingHeight: 4, paddingWidth: 3,
                                                                    dilationHeight: 2, dilationWidth: 2, groups: 4)),
        ]
    }

    /// The named real layers of the benchmark suite, with batch scaled down (1 or 2 images).
    public static func realLayers() throws -> [NamedConv] {
        [
            NamedConv("LeNet-5 C1", try Conv2DGeometry(batch: 2, inputChannels: 1, inputSize: 32, outputChannels: 6, kernelSize: 5)),
            NamedConv("LeNet-5 C3", try Conv2DGeometry(batch: 2, inputChannels: 6, inputSize: 14, outputChannels: 16, kernelSize: 5)),
            NamedConv("AlexNet conv1 11x11/4", try Conv2DGeometry(batch: 1, inputChannels: 3, inputSize: 227, outputChannels: 8,
                                                                  kernelSize: 11, stride: 4)),
            NamedConv("AlexNet conv2 5x5 pad 2", try Conv2DGeometry(batch: 1, inputChannels: 24, inputSize: 27, outputChannels: 16,
                                                                    kernelSize: 5, padding: 2)),
            NamedConv("3x3 pad 1 (ResNet-like)", try Conv2DGeometry(batch: 1, inputChannels: 32, inputSize: 28, outputChannels: 16,
                                                                    kernelSize: 3, padding: 1)),
            // Two 32×32 images: 128 tiles of 4×4, the fewest F(4×4) takes in automatic.
            NamedConv("3x3 64 channels (Winograd F(4x4) in automatic)", try Conv2DGeometry(batch: 2, inputChannels: 64, inputSize: 32,
                                                                                          outputChannels: 64, kernelSize: 3,
                                                                                          padding: 1)),
            NamedConv("1x1 (ResNet bottleneck)", try Conv2DGeometry(batch: 2, inputChannels: 64, inputSize: 14, outputChannels: 32,
                                                                    kernelSize: 1)),
            NamedConv("strided 3x3", try Conv2DGeometry(batch: 1, inputChannels: 32, inputSize: 28, outputChannels: 24,
                                                        kernelSize: 3, stride: 2, padding: 1)),
            NamedConv("MobileNet depthwise 3x3", try Conv2DGeometry(batch: 1, inputChannels: 32, inputSize: 28, outputChannels: 32,
                                                                    kernelSize: 3, padding: 1, groups: 32)),
            // Batch 1: direct splits the image's 48 output channels (3 blocks of 16) over the workers.
            NamedConv("7x7 stem, batch 1 (channel split)", try Conv2DGeometry(batch: 1, inputChannels: 3, inputHeight: 19, inputWidth: 21,
                                                                              outputChannels: 48, kernelHeight: 7, kernelWidth: 7,
                                                                              paddingHeight: 3, paddingWidth: 3)),
        ]
    }

    /// Edge cases followed by the real layers.
    public static func all() throws -> [NamedConv] { try edgeCases() + realLayers() }
}
