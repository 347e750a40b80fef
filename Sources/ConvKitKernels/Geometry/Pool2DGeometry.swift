/// The validated sizes of one 2-D pooling (max or average), and every size derived from them.
///
/// Layouts (row-major, NCHW); pooling acts on each `[n, c]` plane independently:
///
///     input        [batch, channels, inputHeight, inputWidth]
///     output       [batch, channels, outputHeight, outputWidth]
///     indices      [batch, channels, outputHeight, outputWidth]   (max pooling only, Int32)
///
/// Output size per axis (window `K`, stride `S`, padding `P`, input `H`; floor mode, as in
/// PyTorch's default `ceil_mode = false`):
///
///     outputHeight = (H + 2·P − K) / S + 1        (integer division)
///
/// Window `(i, j)` covers input rows `i·S − P ..< i·S − P + K` and columns likewise; positions
/// outside the image are padding. Because `P < K` is required, every window holds at least one
/// real input element (so max pooling always has a real winner).
///
/// The initialiser checks everything once and throws ``ShapeError``; kernels then only assert.
public struct Pool2DGeometry: Hashable, Sendable, CustomStringConvertible {
    public let batch: Int
    public let channels: Int
    public let inputHeight: Int
    public let inputWidth: Int
    public let windowHeight: Int
    public let windowWidth: Int
    public let strideHeight: Int
    public let strideWidth: Int
    public let paddingHeight: Int
    public let paddingWidth: Int

    // Derived sizes.
    public let outputHeight: Int
    public let outputWidth: Int

    /// Creates and validates a pooling geometry.
    ///
    /// - Throws: ``ShapeError`` when a size, window or stride is < 1 or a padding is negative
    ///   (`.nonPositive`), a padding is not smaller than its window (`.invalidValue`), the window
    ///   is larger than the padded input (`.kernelTooLarge`), or an element count overflows `Int`,
    ///   or an input plane has more elements than an `Int32` index can address (`.overflow`).
    public init(
        batch: Int, channels: Int, inputHeight: Int, inputWidth: Int,
        windowHeight: Int, windowWidth: Int,
        strideHeight: Int, strideWidth: Int,
        paddingHeight: Int = 0, paddingWidth: Int = 0
    ) throws(ShapeError) {
        try CheckedSize.positive(batch, "batch")
        try CheckedSize.positive(channels, "channels")
        try CheckedSize.positive(inputHeight, "inputHeight")
        try CheckedSize.positive(inputWidth, "inputWidth")
        try CheckedSize.positive(windowHeight, "windowHeight")
        try CheckedSize.positive(windowWidth, "windowWidth")
        try CheckedSize.positive(strideHeight, "strideHeight")
        try CheckedSize.positive(strideWidth, "strideWidth")
        try CheckedSize.nonNegative(paddingHeight, "paddingHeight")
        try CheckedSize.nonNegative(paddingWidth, "paddingWidth")
        if paddingHeight >= windowHeight {
            throw ShapeError(.invalidValue,
                "paddingHeight must be < windowHeight (\(windowHeight)) so that every window sees the input, got \(paddingHeight)")
        }
        if paddingWidth >= windowWidth {
            throw ShapeError(.invalidValue,
                "paddingWidth must be < windowWidth (\(windowWidth)) so that every window sees the input, got \(paddingWidth)")
        }
        // paddings < windows here, so 2·P fits whenever the window is a valid Int.
        let paddedHeight = try CheckedSize.product([2, paddingHeight], "2 x paddingHeight")
        let paddedWidth = try CheckedSize.product([2, paddingWidth], "2 x paddingWidth")
        let (ph, o1) = inputHeight.addingReportingOverflow(paddedHeight)
        let (pw, o2) = inputWidth.addingReportingOverflow(paddedWidth)
        if o1 || o2 { throw ShapeError(.overflow, "padded input size overflows Int") }
        if windowHeight > ph {
            throw ShapeError(.kernelTooLarge,
                "windowHeight \(windowHeight) must be <= padded inputHeight \(ph) (= \(inputHeight) + 2 x \(paddingHeight))")
        }
        if windowWidth > pw {
            throw ShapeError(.kernelTooLarge,
                "windowWidth \(windowWidth) must be <= padded inputWidth \(pw) (= \(inputWidth) + 2 x \(paddingWidth))")
        }
        let oh = (ph - windowHeight) / strideHeight + 1
        let ow = (pw - windowWidth) / strideWidth + 1

        _ = try CheckedSize.elements([batch, channels, inputHeight, inputWidth], "input element count")
        _ = try CheckedSize.elements([batch, channels, oh, ow], "output element count")
        let plane = try CheckedSize.product([inputHeight, inputWidth], "input plane (inputHeight x inputWidth)")
        if plane > Int(Int32.max) {
            throw ShapeError(.overflow,
                "input plane inputHeight x inputWidth = \(plane) must be <= \(Int32.max) (max-pooling indices are Int32)")
        }

        self.batch = batch
        self.channels = channels
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.windowHeight = windowHeight
        self.windowWidth = windowWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.paddingHeight = paddingHeight
        self.paddingWidth = paddingWidth
        self.outputHeight = oh
        self.outputWidth = ow
    }

    /// Square window, stride and padding (e.g. `window: 3, stride: 2` for AlexNet's pooling).
    public init(batch: Int, channels: Int, inputSize: Int, window: Int, stride: Int, padding: Int = 0) throws(ShapeError) {
        try self.init(batch: batch, channels: channels, inputHeight: inputSize, inputWidth: inputSize,
                      windowHeight: window, windowWidth: window, strideHeight: stride, strideWidth: stride,
                      paddingHeight: padding, paddingWidth: padding)
    }

    /// The same geometry with another batch size (validated again).
    public func withBatch(_ newBatch: Int) throws(ShapeError) -> Pool2DGeometry {
        try Pool2DGeometry(batch: newBatch, channels: channels, inputHeight: inputHeight, inputWidth: inputWidth,
                           windowHeight: windowHeight, windowWidth: windowWidth,
                           strideHeight: strideHeight, strideWidth: strideWidth,
                           paddingHeight: paddingHeight, paddingWidth: paddingWidth)
    }

    // MARK: Derived sizes

    /// Number of `[n, c]` planes: `batch · channels`.
    public var planes: Int { batch * channels }
    /// `inputHeight · inputWidth`.
    public var inputPlane: Int { inputHeight * inputWidth }
    /// `outputHeight · outputWidth`.
    public var outputPlane: Int { outputHeight * outputWidth }
    /// `windowHeight · windowWidth`.
    public var windowPlane: Int { windowHeight * windowWidth }
    /// Elements of `input` (and of `inputGradient`).
    public var inputCount: Int { batch * channels * inputPlane }
    /// Elements of `output`, `outputGradient` and `indices`.
    public var outputCount: Int { batch * channels * outputPlane }

    public var description: String {
        "N=\(batch) C=\(channels) \(inputHeight)x\(inputWidth) -> \(outputHeight)x\(outputWidth)"
            + " window \(windowHeight)x\(windowWidth) stride \(strideHeight)x\(strideWidth) pad \(paddingHeight)x\(paddingWidth)"
    }
}
