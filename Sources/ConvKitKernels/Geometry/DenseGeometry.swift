/// The validated sizes of one fully connected (dense) layer.
///
///     input   [batch, inputFeatures]
///     weight  [outputFeatures, inputFeatures]     (PyTorch's nn.Linear layout)
///     bias    [outputFeatures]
///     output  [batch, outputFeatures]
///
///     y = x · Wᵀ + b
public struct DenseGeometry: Hashable, Sendable, CustomStringConvertible {
    public let batch: Int
    public let inputFeatures: Int
    public let outputFeatures: Int

    /// - Throws: ``ShapeError`` `.nonPositive` for a size < 1, `.overflow` when an element count
    ///   overflows `Int` or a GEMM dimension overflows OpenBLAS's `Int32`.
    public init(batch: Int, inputFeatures: Int, outputFeatures: Int) throws(ShapeError) {
        try CheckedSize.positive(batch, "batch")
        try CheckedSize.positive(inputFeatures, "inputFeatures")
        try CheckedSize.positive(outputFeatures, "outputFeatures")
        _ = try CheckedSize.elements([batch, inputFeatures], "input element count")
        _ = try CheckedSize.elements([batch, outputFeatures], "output element count")
        _ = try CheckedSize.elements([outputFeatures, inputFeatures], "weight element count")
        try CheckedSize.gemmDimension(batch, "GEMM M (batch)")
        try CheckedSize.gemmDimension(inputFeatures, "GEMM K (inputFeatures)")
        try CheckedSize.gemmDimension(outputFeatures, "GEMM N (outputFeatures)")
        self.batch = batch
        self.inputFeatures = inputFeatures
        self.outputFeatures = outputFeatures
    }

    public var inputCount: Int { batch * inputFeatures }
    public var outputCount: Int { batch * outputFeatures }
    public var weightCount: Int { outputFeatures * inputFeatures }
    /// `2 · batch · inputFeatures · outputFeatures` (each direction).
    public var flops: Double { 2 * Double(batch) * Double(inputFeatures) * Double(outputFeatures) }

    public func withBatch(_ newBatch: Int) throws(ShapeError) -> DenseGeometry {
        try DenseGeometry(batch: newBatch, inputFeatures: inputFeatures, outputFeatures: outputFeatures)
    }

    public var description: String { "N=\(batch) \(inputFeatures) -> \(outputFeatures)" }
}
