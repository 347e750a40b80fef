/// Concatenation along axis 1 (channels of `[N, C, H, W]`, features of `[N, F]`, any rank ≥ 2):
/// PyTorch's `torch.cat(inputs, dim=1)`, the merge of a U-Net's skip connection.
///
///     y[n, offset_k + c, …] = x_k[n, c, …],   offset_k = Σ_{m<k} C_m          y: [N, Σ C_k, …]
///     ∂L/∂x_k = the slice of ∂L/∂y at channels offset_k ..< offset_k + C_k
///
/// Inputs must agree in rank and every axis but 1. Arithmetic (copies) in ``ConcatKernel``.
public struct Concat: MergeLayer {
    public init() {}

    /// One or more (one input is copied through).
    public var acceptedInputCounts: ClosedRange<Int> { 1...Int.max }

    /// The input shapes.
    public struct Cache: Sendable {
        public let inputShapes: [Shape]
    }

    /// - Throws: ``ShapeError`` `.invalidValue` without inputs, `.mismatch` naming the first input
    ///   whose rank or whose size along an axis other than 1 differs from input 0's, or an input
    ///   of rank < 2.
    public func forward(_ inputs: [Tensor], context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Cache) {
        guard let first = inputs.first else { throw ShapeError(.invalidValue, "Concat needs at least 1 input, got 0") }
        if first.shape.rank < 2 {
            throw ShapeError(.mismatch, "Concat input 0 must have rank >= 2 ([batch, channels, …]), got shape \(first.shape)")
        }
        var channels = 0
        for (k, x) in inputs.enumerated() {
            var sameElsewhere = x.shape.rank == first.shape.rank
            if sameElsewhere {
                for axis in 0..<first.shape.rank where axis != 1 && x.shape[axis] != first.shape[axis] { sameElsewhere = false }
            }
            if !sameElsewhere {
                throw ShapeError(.mismatch,
                    "Concat input \(k) has shape \(x.shape), expected \(first.shape) in every axis but 1 (input 0)")
            }
            channels = try CheckedSize.sum(channels, x.shape[1], "Concat channels")
        }
        var dims = first.shape.dimensions
        dims[1] = channels
        let shape = try Shape(dims)
        var y = scratch(shape.count)
        if first.shape[0] > 0 && shape.count > 0 {
            withBuffers(inputs) { sources in
                y.withUnsafeMutableBufferPointer { ConcatKernel.concatenate(sources, outer: first.shape[0], output: $0, context: context) }
            }
        }
        return (Tensor(uncheckedShape: shape, scalars: y), Cache(inputShapes: inputs.map(\.shape)))
    }

    public func backward(_ outputGradient: Tensor, cache: Cache, context: ComputeContext) throws(ShapeError) -> [Tensor] {
        guard let first = cache.inputShapes.first else { throw ShapeError(.invalidValue, "Concat cache holds no inputs") }
        var dims = first.dimensions
        dims[1] = cache.inputShapes.reduce(0) { $0 + $1[1] }
        try ShapeCheck.equal(outputGradient.shape, try Shape(dims), "Concat output gradient")
        var pieces = cache.inputShapes.map { scratch($0.count) }
        if first[0] > 0 && outputGradient.count > 0 {
            outputGradient.withUnsafeBufferPointer { dy in
                withMutableBuffers(&pieces, 0, []) { targets in
                    ConcatKernel.split(dy, outer: first[0], into: targets, context: context)
                }
            }
        }
        return zip(cache.inputShapes, pieces).map { Tensor(uncheckedShape: $0, scalars: $1) }
    }
}

/// `body` with the storage of every tensor (nested `withUnsafeBufferPointer` calls).
func withBuffers<R>(_ tensors: [Tensor], _ body: ([UnsafeBufferPointer<Float>]) -> R) -> R {
    func step(_ k: Int, _ acc: [UnsafeBufferPointer<Float>]) -> R {
        if k == tensors.count { return body(acc) }
        return tensors[k].withUnsafeBufferPointer { step(k + 1, acc + [$0]) }
    }
    return step(0, [])
}

/// `body` with mutable storage of every array from `k` on (nested `withUnsafeMutableBufferPointer`).
func withMutableBuffers<R>(_ arrays: inout [Scratch], _ k: Int, _ acc: [UnsafeMutableBufferPointer<Float>],
                           _ body: ([UnsafeMutableBufferPointer<Float>]) -> R) -> R {
    if k == arrays.count { return body(acc) }
    var current = arrays[k]
    arrays[k] = Scratch(count: 0)
    defer { arrays[k] = current }
    return current.withUnsafeMutableBufferPointer { withMutableBuffers(&arrays, k + 1, acc + [$0], body) }
}
