/// Jacobians of a layer (or ``Sequential`` / ``Graph``) at one input, in numerator layout:
///
///     J[i, j] = ∂y_i / ∂x_j        shape [outputCount, inputCount]  (N outputs × M inputs)
///
/// where `x` and `y` are the input and output flattened in row-major order. Parameters are held
/// fixed. Meant for tests and small examples: the cost is N backward passes or 2·M forward passes.
public enum Jacobian {
    /// Row `i` is the input gradient of a backward pass whose output gradient is the one-hot
    /// vector `eᵢ` (row i of J = eᵢᵀ·J = (Jᵀ·eᵢ)ᵀ).
    public static func fromBackward<L: Layer>(of layer: L, at input: Tensor, context: ComputeContext = .serial)
        throws(ShapeError) -> Tensor {
        let (output, cache) = try layer.forward(input, context: context)
        let rows = output.count, columns = input.count
        var values = [Float](repeating: 0, count: rows * columns)
        var probe = Tensor.zeros(output.shape)
        for i in 0..<rows {
            probe[flat: i] = 1
            let (dx, _) = try layer.backward(probe, cache: cache, context: context)
            probe[flat: i] = 0
            for j in 0..<columns { values[i * columns + j] = dx[flat: j] }
        }
        return try Tensor(shape: Shape([rows, columns]), scalars: values)
    }

    /// Central differences: column `j` is `(f(x + h·eⱼ) − f(x − h·eⱼ)) / (2h)`, the difference
    /// taken in `Double` over the step actually represented in `Float` (so the only errors are
    /// the truncation O(h²·f''') and the rounding of `f` itself, ~ε·|f|/h).
    public static func numerical<L: Layer>(of layer: L, at input: Tensor, step: Float = 1e-2,
                                           context: ComputeContext = .serial) throws(ShapeError) -> Tensor {
        let output = try layer(input, context: context)
        let rows = output.count, columns = input.count
        var values = [Float](repeating: 0, count: rows * columns)
        var x = input
        for j in 0..<columns {
            let original = x[flat: j]
            x[flat: j] = original + step
            let plus = try layer(x, context: context)
            let upper = x[flat: j]
            x[flat: j] = original - step
            let minus = try layer(x, context: context)
            let lower = x[flat: j]
            x[flat: j] = original
            let width = Double(upper) - Double(lower)
            for i in 0..<rows {
                values[i * columns + j] = Float((Double(plus[flat: i]) - Double(minus[flat: i])) / width)
            }
        }
        return try Tensor(shape: Shape([rows, columns]), scalars: values)
    }
}
