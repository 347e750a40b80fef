/// The validated sizes of one 2-D convolution, and every size derived from them.
///
/// Layouts (row-major, NCHW / OIHW):
///
///     input        [batch, inputChannels, inputHeight, inputWidth]
///     filter       [outputChannels, inputChannels / groups, kernelHeight, kernelWidth]
///     bias         [outputChannels]
///     output       [batch, outputChannels, outputHeight, outputWidth]
///
/// Output size (per axis, with dilation `D`, padding `P`, stride `S`, kernel `K`, input `H`):
///
///     outputHeight = (H + 2·P − D·(K − 1) − 1) / S + 1        (integer division)
///
/// The convolution is the cross-correlation of deep-learning frameworks (the kernel is not
/// flipped); with groups `G`, output channel `o` sees input channels of its group only:
///
///     y[n,o,i,j] = b[o] + Σ_{c<C/G} Σ_u Σ_v x[n, g·C/G + c, i·S − P + u·D, j·S − P + v·D] · w[o,c,u,v]
///     where g = o / (O/G), and x outside the image is 0.
///
/// The initialiser checks everything once and throws ``ShapeError``; kernels then only assert.
public struct Conv2DGeometry: Hashable, Sendable, CustomStringConvertible {
    public let batch: Int
    public let inputChannels: Int
    public let inputHeight: Int
    public let inputWidth: Int
    public let outputChannels: Int
    public let kernelHeight: Int
    public let kernelWidth: Int
    public let strideHeight: Int
    public let strideWidth: Int
    public let paddingHeight: Int
    public let paddingWidth: Int
    public let dilationHeight: Int
    public let dilationWidth: Int
    /// Channel groups: `1` is an ordinary convolution, `inputChannels` a depthwise one.
    public let groups: Int

    // Derived sizes.
    public let outputHeight: Int
    public let outputWidth: Int

    /// Creates and validates a convolution geometry.
    ///
    /// - Throws: ``ShapeError`` when a size is zero or negative (`.nonPositive`), the dilated
    ///   kernel is larger than the padded input (`.kernelTooLarge`), channels are not divisible by `groups` (`.invalidValue`), or an
    ///   element count or GEMM dimension overflows `Int` / OpenBLAS's `Int32` (`.overflow`).
    public init(
        batch: Int, inputChannels: Int, inputHeight: Int, inputWidth: Int,
        outputChannels: Int, kernelHeight: Int, kernelWidth: Int,
        strideHeight: Int = 1, strideWidth: Int = 1,
        paddingHeight: Int = 0, paddingWidth: Int = 0,
        dilationHeight: Int = 1, dilationWidth: Int = 1,
        groups: Int = 1
    ) throws(ShapeError) {
        try CheckedSize.positive(batch, "batch")
        try CheckedSize.positive(inputChannels, "inputChannels")
        try CheckedSize.positive(inputHeight, "inputHeight")
        try CheckedSize.positive(inputWidth, "inputWidth")
        try CheckedSize.positive(outputChannels, "outputChannels")
        try CheckedSize.positive(kernelHeight, "kernelHeight")
        try CheckedSize.positive(kernelWidth, "kernelWidth")
        try CheckedSize.positive(strideHeight, "strideHeight")
        try CheckedSize.positive(strideWidth, "strideWidth")
        try CheckedSize.nonNegative(paddingHeight, "paddingHeight")
        try CheckedSize.nonNegative(paddingWidth, "paddingWidth")
        try CheckedSize.positive(dilationHeight, "dilationHeight")
        try CheckedSize.positive(dilationWidth, "dilationWidth")
        try CheckedSize.positive(groups, "groups")
        if inputChannels % groups != 0 {
            throw ShapeError(.invalidValue, "inputChannels (\(inputChannels)) must be divisible by groups (\(groups))")
        }
        if outputChannels % groups != 0 {
            throw ShapeError(.invalidValue, "outputChannels (\(outputChannels)) must be divisible by groups (\(groups))")
        }

        // Sizes that feed the output formula; each step checked for overflow.
        let paddedHeight = try CheckedSize.product([2, paddingHeight], "2 x paddingHeight")
        let paddedWidth = try CheckedSize.product([2, paddingWidth], "2 x paddingWidth")
        let (ph, o1) = inputHeight.addingReportingOverflow(paddedHeight)
        let (pw, o2) = inputWidth.addingReportingOverflow(paddedWidth)
        if o1 || o2 { throw ShapeError(.overflow, "padded input size overflows Int") }
        let extentHeight = try CheckedSize.sum(
            try CheckedSize.product([dilationHeight, kernelHeight - 1], "dilated kernelHeight"), 1, "dilated kernelHeight extent")
        let extentWidth = try CheckedSize.sum(
            try CheckedSize.product([dilationWidth, kernelWidth - 1], "dilated kernelWidth"), 1, "dilated kernelWidth extent")
        if extentHeight > ph {
            throw ShapeError(.kernelTooLarge,
                "kernelHeight \(kernelHeight) (dilated extent \(extentHeight)) must be <= padded inputHeight \(ph) (= \(inputHeight) + 2 x \(paddingHeight))")
        }
        if extentWidth > pw {
            throw ShapeError(.kernelTooLarge,
                "kernelWidth \(kernelWidth) (dilated extent \(extentWidth)) must be <= padded inputWidth \(pw) (= \(inputWidth) + 2 x \(paddingWidth))")
        }
        // Both are >= 1 because the kernel fits in the padded input (checked above).
        let oh = (ph - extentHeight) / strideHeight + 1
        let ow = (pw - extentWidth) / strideWidth + 1

        // Byte sizes of every buffer must fit in Int.
        _ = try CheckedSize.elements([batch, inputChannels, inputHeight, inputWidth], "input element count")
        _ = try CheckedSize.elements([batch, outputChannels, oh, ow], "output element count")
        _ = try CheckedSize.elements([outputChannels, inputChannels / groups, kernelHeight, kernelWidth], "filter element count")
        // GEMM dimensions must fit OpenBLAS's Int32 (per image and per group):
        // M = outputChannels/groups, N = outputHeight·outputWidth, K = (inputChannels/groups)·kernelHeight·kernelWidth.
        let gemmN = try CheckedSize.product([oh, ow], "GEMM N (outputHeight x outputWidth)")
        let gemmK = try CheckedSize.product([inputChannels / groups, kernelHeight, kernelWidth],
                                            "GEMM K (inputChannels/groups x kernelHeight x kernelWidth)")
        _ = try CheckedSize.elements([gemmK, gemmN], "im2col workspace element count")
        try CheckedSize.gemmDimension(gemmN, "GEMM N (outputHeight x outputWidth)")
        try CheckedSize.gemmDimension(gemmK, "GEMM K (inputChannels/groups x kernelHeight x kernelWidth)")
        try CheckedSize.gemmDimension(outputChannels, "GEMM M (outputChannels)")
        try CheckedSize.gemmDimension(try CheckedSize.product([inputHeight, inputWidth], "input plane"), "input plane (H x W)")

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
        self.outputHeight = oh
        self.outputWidth = ow
    }

    /// Square kernel, stride and padding.
    public init(batch: Int, inputChannels: Int, inputSize: Int, outputChannels: Int,
                kernelSize: Int, stride: Int = 1, padding: Int = 0, groups: Int = 1) throws(ShapeError) {
        try self.init(batch: batch, inputChannels: inputChannels, inputHeight: inputSize, inputWidth: inputSize,
                      outputChannels: outputChannels, kernelHeight: kernelSize, kernelWidth: kernelSize,
                      strideHeight: stride, strideWidth: stride, paddingHeight: padding, paddingWidth: padding,
                      groups: groups)
    }

    /// The same geometry with another batch size (validated again).
    public func withBatch(_ newBatch: Int) throws(ShapeError) -> Conv2DGeometry {
        try Conv2DGeometry(batch: newBatch, inputChannels: inputChannels, inputHeight: inputHeight, inputWidth: inputWidth,
                           outputChannels: outputChannels, kernelHeight: kernelHeight, kernelWidth: kernelWidth,
                           strideHeight: strideHeight, strideWidth: strideWidth,
                           paddingHeight: paddingHeight, paddingWidth: paddingWidth,
                           dilationHeight: dilationHeight, dilationWidth: dilationWidth, groups: groups)
    }

    // MARK: Derived sizes

    public var inputChannelsPerGroup: Int { inputChannels / groups }
    public var outputChannelsPerGroup: Int { outputChannels / groups }
    /// `inputHeight · inputWidth`.
    public var inputPlane: Int { inputHeight * inputWidth }
    /// `outputHeight · outputWidth`.
    public var outputPlane: Int { outputHeight * outputWidth }
    /// `kernelHeight · kernelWidth`.
    public var kernelPlane: Int { kernelHeight * kernelWidth }

    /// Elements of `input`: `batch · inputChannels · inputHeight · inputWidth`.
    public var inputCount: Int { batch * inputChannels * inputPlane }
    /// Elements of `output`: `batch · outputChannels · outputHeight · outputWidth`.
    public var outputCount: Int { batch * outputChannels * outputPlane }
    /// Elements of `filter`: `outputChannels · (inputChannels/groups) · kernelHeight · kernelWidth`.
    public var filterCount: Int { outputChannels * inputChannelsPerGroup * kernelPlane }

    /// Rows of one group's im2col matrix (= the GEMM's reduction length K):
    /// `(inputChannels/groups) · kernelHeight · kernelWidth`.
    public var columnRows: Int { inputChannelsPerGroup * kernelPlane }
    /// Columns of the im2col matrix of one image (= GEMM N): `outputHeight · outputWidth`.
    public var columnCols: Int { outputPlane }

    /// Terms summed per output element in the forward pass (for error bounds).
    public var forwardReductionLength: Int { columnRows }

    /// Multiply-adds × 2 of one direction: `2 · N · O · OH · OW · (C/G) · KH · KW`.
    /// The same count holds for forward, backwardData and backwardFilter.
    public var flops: Double {
        2 * Double(batch) * Double(outputChannels) * Double(outputPlane) * Double(columnRows)
    }

    /// `true` for a convolution that is a plain matrix product on the input: 1×1 kernel,
    /// stride 1, no padding, no dilation (im2col is the identity and is skipped).
    public var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideHeight == 1 && strideWidth == 1
            && paddingHeight == 0 && paddingWidth == 0
    }

    public var description: String {
        var s = "N=\(batch) C=\(inputChannels) \(inputHeight)x\(inputWidth) -> O=\(outputChannels) \(outputHeight)x\(outputWidth)"
        s += " kernel \(kernelHeight)x\(kernelWidth) stride \(strideHeight)x\(strideWidth) pad \(paddingHeight)x\(paddingWidth)"
        if dilationHeight != 1 || dilationWidth != 1 { s += " dilation \(dilationHeight)x\(dilationWidth)" }
        if groups != 1 { s += " groups \(groups)" }
        return s
    }
}
