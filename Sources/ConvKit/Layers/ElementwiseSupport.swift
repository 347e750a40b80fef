/// `kernel(x, y)` into a fresh tensor of the input's shape (the forward pass of an element-wise layer).
@inline(__always)
func mapElementwise(_ input: Tensor, _ kernel: (UnsafeBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) -> Void) -> Tensor {
    var y = scratch(input.count)
    input.withUnsafeBufferPointer { x in y.withUnsafeMutableBufferPointer { kernel(x, $0) } }
    return Tensor(uncheckedShape: input.shape, scalars: y)
}

/// `kernel(saved, dy, dx)` into a fresh tensor, after checking that `outputGradient` has the
/// shape of `saved` (the backward pass of an element-wise layer whose cache is its input).
@inline(__always)
func backwardElementwise(
    _ outputGradient: Tensor, saved: Tensor, _ what: String,
    _ kernel: (UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) -> Void
) throws(ShapeError) -> Tensor {
    try ShapeCheck.equal(outputGradient.shape, saved.shape, "\(what) output gradient")
    var dx = scratch(saved.count)
    saved.withUnsafeBufferPointer { x in
        outputGradient.withUnsafeBufferPointer { dy in dx.withUnsafeMutableBufferPointer { kernel(x, dy, $0) } }
    }
    return Tensor(uncheckedShape: saved.shape, scalars: dx)
}
