extension Tensor {
    /// The samples `indices` (along axis 0) stacked in that order: `[indices.count, d1, d2, …]`.
    /// Data movement only.
    ///
    /// - Throws: ``ShapeError`` `.mismatch` for a rank-0 tensor, `.invalidValue` for an index
    ///   outside `0 ..< shape[0]`.
    public func samples(_ indices: some Collection<Int>) throws(ShapeError) -> Tensor {
        if shape.rank < 1 { throw ShapeError(.mismatch, "samples(_:) needs a tensor of rank >= 1, got shape \(shape)") }
        let n = shape[0], stride = n == 0 ? 0 : count / n
        for i in indices where i < 0 || i >= n {
            throw ShapeError(.invalidValue, "sample index \(i) is outside 0..<\(n)")
        }
        var values = [Float](repeating: 0, count: indices.count * stride)
        scalars.withUnsafeBufferPointer { src in
            values.withUnsafeMutableBufferPointer { dst in
                for (k, i) in indices.enumerated() {
                    guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                    (d + k * stride).update(from: s + i * stride, count: stride)
                }
            }
        }
        var dims = shape.dimensions
        dims[0] = indices.count
        return Tensor(uncheckedShape: Shape(uncheckedDimensions: dims, count: values.count), scalars: values)
    }
}
