/// The validated sizes of one adaptive 2-D pooling (PyTorch's `AdaptiveAvgPool2d`): the output
/// size is given and each output element pools a bin of the input whose bounds follow from it.
///
///     input   [batch, channels, inputHeight, inputWidth]
///     output  [batch, channels, outputHeight, outputWidth]
///
/// Bins (PyTorch's rule, per axis; `H` input size, `OH` output size, `i` in `0 ..< OH`):
///
///     start(i) = ⌊i · H / OH⌋        end(i) = ⌈(i + 1) · H / OH⌉        (rows start ..< end)
///
/// Every bin holds at least one row; bins may overlap (when `OH` does not divide `H`) and rows
/// repeat when `OH > H`. Output 1×1 is global pooling (one bin: the whole plane).
///
/// The initialiser checks everything once and throws ``ShapeError``; kernels then only assert.
public struct AdaptivePool2DGeometry: Hashable, Sendable, CustomStringConvertible {
    public let batch: Int
    public let channels: Int
    public let inputHeight: Int
    public let inputWidth: Int
    public let outputHeight: Int
    public let outputWidth: Int

    /// - Throws: ``ShapeError`` `.nonPositive` when a size is < 1, `.overflow` when an element
    ///   count or a bin bound `OH · H` (`OW · W`) overflows `Int`.
    public init(batch: Int, channels: Int, inputHeight: Int, inputWidth: Int,
                outputHeight: Int, outputWidth: Int) throws(ShapeError) {
        try CheckedSize.positive(batch, "batch")
        try CheckedSize.positive(channels, "channels")
        try CheckedSize.positive(inputHeight, "inputHeight")
        try CheckedSize.positive(inputWidth, "inputWidth")
        try CheckedSize.positive(outputHeight, "outputHeight")
        try CheckedSize.positive(outputWidth, "outputWidth")
        _ = try CheckedSize.elements([batch, channels, inputHeight, inputWidth], "input element count")
        _ = try CheckedSize.elements([batch, channels, outputHeight, outputWidth], "output element count")
        // (i + 1)·H + OH − 1 <= (OH + 1)·H: the largest intermediate of the bin bounds.
        _ = try CheckedSize.product([outputHeight + 1, inputHeight], "adaptive pooling bin bound (outputHeight + 1) x inputHeight")
        _ = try CheckedSize.product([outputWidth + 1, inputWidth], "adaptive pooling bin bound (outputWidth + 1) x inputWidth")
        self.batch = batch
        self.channels = channels
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.outputHeight = outputHeight
        self.outputWidth = outputWidth
    }

    /// Number of `[n, c]` planes: `batch · channels`.
    public var planes: Int { batch * channels }
    /// `inputHeight · inputWidth`.
    public var inputPlane: Int { inputHeight * inputWidth }
    /// `outputHeight · outputWidth`.
    public var outputPlane: Int { outputHeight * outputWidth }
    /// Elements of `input` (and of `inputGradient`).
    public var inputCount: Int { planes * inputPlane }
    /// Elements of `output` (and of `outputGradient`).
    public var outputCount: Int { planes * outputPlane }
    /// Output 1×1: one bin per plane (global pooling).
    public var isGlobal: Bool { outputHeight == 1 && outputWidth == 1 }

    /// Rows `start ..< end` of output row `i` (bin rule above).
    @inlinable public func rows(_ i: Int) -> Range<Int> {
        Self.bin(i, input: inputHeight, output: outputHeight)
    }

    /// Columns `start ..< end` of output column `j`.
    @inlinable public func columns(_ j: Int) -> Range<Int> {
        Self.bin(j, input: inputWidth, output: outputWidth)
    }

    /// `⌊i·n/m⌋ ..< ⌈(i+1)·n/m⌉`.
    @inlinable public static func bin(_ i: Int, input n: Int, output m: Int) -> Range<Int> {
        (i * n / m) ..< (((i + 1) * n + m - 1) / m)
    }

    public var description: String {
        "adaptive pool \(batch)x\(channels)x\(inputHeight)x\(inputWidth) -> \(outputHeight)x\(outputWidth)"
    }
}
