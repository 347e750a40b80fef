/// How weights are drawn. Every initialiser takes an explicit generator; same generator state,
/// same weights.
///
/// `fanIn` is the number of inputs of one output unit (`inputFeatures`, or
/// `inputChannels/groups · kernelHeight · kernelWidth`); `fanOut` likewise for outputs
/// (`outputFeatures`, or `outputChannels · kernelHeight · kernelWidth`).
public enum Initializer: Sendable, Hashable {
    /// He (Kaiming) normal: N(0, 2 / fanIn). For ReLU networks.
    case heNormal
    /// He (Kaiming) normal over the outputs: N(0, 2 / fanOut), PyTorch's
    /// `kaiming_normal_(mode="fan_out", nonlinearity="relu")` (torchvision's ResNet and VGG convolutions).
    case heNormalFanOut
    /// N(0, standardDeviation²) whatever the fans (torchvision's VGG classifier: `normal_(0, 0.01)`).
    case normal(standardDeviation: Float)
    /// He uniform: U(−√(6 / fanIn), √(6 / fanIn)).
    case heUniform
    /// Glorot (Xavier) uniform: U(−√(6 / (fanIn + fanOut)), +…).
    case glorotUniform
    /// Glorot (Xavier) normal: N(0, 2 / (fanIn + fanOut)).
    case glorotNormal
    /// A (semi-)orthogonal matrix times `gain`: QR of a Gaussian matrix through LAPACK
    /// (`BLAS.orthonormalizeColumns`), the weight viewed as `[shape[0], fanIn]`. Rows are
    /// orthonormal when `shape[0] <= fanIn`, columns otherwise.
    case orthogonal(gain: Float)
    /// PyTorch's default for `nn.Conv2d` / `nn.Linear`: U(−1/√fanIn, 1/√fanIn)
    /// (`kaiming_uniform_(a=√5)`); biases drawn the same way.
    case pyTorchDefault
    /// All zeros (e.g. for a model whose weights will be loaded from a checkpoint).
    case zeros

    /// A weight tensor of `shape` whose first axis is the output units.
    ///
    /// - Throws: ``ShapeError`` `.nonPositive` when `fanIn` or `fanOut` is < 1, `.invalidValue`
    ///   when the QR factorisation fails.
    public func weight(shape: Shape, fanIn: Int, fanOut: Int,
                       using generator: inout some RandomNumberGenerator) throws(ShapeError) -> Tensor {
        if fanIn < 1 || fanOut < 1 {
            throw ShapeError(.nonPositive, "initialiser needs fanIn, fanOut >= 1, got \(fanIn), \(fanOut)")
        }
        let fi = Float(fanIn), fo = Float(fanOut)
        switch self {
        case .heNormal:
            return Tensor(shape: shape, normalMean: 0, standardDeviation: (2 / fi).squareRoot(), using: &generator)
        case .heNormalFanOut:
            return Tensor(shape: shape, normalMean: 0, standardDeviation: (2 / fo).squareRoot(), using: &generator)
        case .normal(let standardDeviation):
            if !(standardDeviation.isFinite && standardDeviation >= 0) {
                throw ShapeError(.invalidValue, "normal initialiser needs a finite standard deviation >= 0, got \(standardDeviation)")
            }
            return Tensor(shape: shape, normalMean: 0, standardDeviation: standardDeviation, using: &generator)
        case .heUniform:
            let bound = (6 / fi).squareRoot()
            return Tensor(shape: shape, uniformIn: -bound...bound, using: &generator)
        case .glorotUniform:
            let bound = (6 / (fi + fo)).squareRoot()
            return Tensor(shape: shape, uniformIn: -bound...bound, using: &generator)
        case .glorotNormal:
            return Tensor(shape: shape, normalMean: 0, standardDeviation: (2 / (fi + fo)).squareRoot(), using: &generator)
        case .pyTorchDefault:
            let bound = 1 / fi.squareRoot()
            return Tensor(shape: shape, uniformIn: -bound...bound, using: &generator)
        case .zeros:
            return Tensor.zeros(shape)
        case .orthogonal(let gain):
            return try Self.orthogonal(shape: shape, gain: gain, using: &generator)
        }
    }

    /// A bias of `count` elements: zeros, except ``pyTorchDefault`` (U(−1/√fanIn, 1/√fanIn)).
    public func bias(count: Int, fanIn: Int, using generator: inout some RandomNumberGenerator) -> Tensor {
        let shape = Shape(uncheckedDimensions: [count], count: count)
        if case .pyTorchDefault = self, fanIn >= 1 {
            let bound = 1 / Float(fanIn).squareRoot()
            return Tensor(shape: shape, uniformIn: -bound...bound, using: &generator)
        }
        return Tensor.zeros(shape)
    }

    private static func orthogonal(shape: Shape, gain: Float,
                                   using generator: inout some RandomNumberGenerator) throws(ShapeError) -> Tensor {
        guard shape.rank >= 1, shape[0] >= 1, shape.count >= 1 else {
            throw ShapeError(.nonPositive, "orthogonal initialiser needs a non-empty shape, got \(shape)")
        }
        let rows = shape[0], columns = shape.count / rows
        // LAPACK wants a tall column-major matrix: tall = max(rows, columns), wide = min.
        let tall = max(rows, columns), wide = min(rows, columns)
        var gaussian = Tensor(shape: [tall * wide], normalMean: 0, standardDeviation: 1, using: &generator).scalars
        let info = gaussian.withUnsafeMutableBufferPointer { a in
            BLAS.orthonormalizeColumns(a, rows: tall, columns: wide)
        }
        if info != 0 {
            throw ShapeError(.invalidValue, "orthogonal initialiser: LAPACK QR failed with info \(info) for \(shape)")
        }
        // Q is column-major tall×wide. When rows < columns the weight (row-major rows×columns)
        // is Qᵀ, whose row-major storage is Q's column-major storage; otherwise transpose.
        var values = [Float](repeating: 0, count: rows * columns)
        if rows < columns {
            for i in values.indices { values[i] = gain * gaussian[i] }
        } else {
            for r in 0..<rows { for c in 0..<columns { values[r * columns + c] = gain * gaussian[c * rows + r] } }
        }
        return Tensor(uncheckedShape: shape, scalars: values)
    }
}
