/// Concatenation along one axis of row-major buffers, and its adjoint (the split).
///
/// Every buffer is viewed as `[outer, inner_k]`: for NCHW tensors joined along channels,
/// `outer = N` and `inner_k = C_k·H·W`; for `[N, F_k]` features, `inner_k = F_k`. The output
/// row is the inputs' rows one after the other:
///
///     output[o, offset_k + e] = input_k[o, e],    offset_k = Σ_{m<k} inner_m,   e < inner_k
///
/// A pure copy (`memcpy` per row piece), split over the context's threads by rows of `outer`;
/// each element is written by one thread, so the result does not depend on the thread count.
public enum ConcatKernel {
    /// **Overwrites** `output` (`outer · Σ inner_k` floats). `inputs[k]` holds `outer · inner_k`
    /// floats (`inner_k = inputs[k].count / outer`, ≥ 0).
    public static func concatenate(
        _ inputs: [UnsafeBufferPointer<Float>], outer: Int, output: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        let inner = check(inputs.map(\.count), outer: outer, total: output.count)
        let sources = inputs.map { SharedBuffer(readOnly: $0) }, y = SharedBuffer(output)
        let width = inner.reduce(0, +)
        parallelFor(outer, elementsPerIndex: max(1, width), context: context) { range in
            for o in range {
                var offset = 0
                for k in sources.indices {
                    if inner[k] > 0 { (y.base + o * width + offset).update(from: sources[k].base + o * inner[k], count: inner[k]) }
                    offset += inner[k]
                }
            }
        }
    }

    /// The adjoint: **overwrites** every `outputs[k]` (`outer · inner_k` floats) with its piece of
    /// each row of `input`.
    public static func split(
        _ input: UnsafeBufferPointer<Float>, outer: Int, into outputs: [UnsafeMutableBufferPointer<Float>], context: ComputeContext
    ) {
        let inner = check(outputs.map(\.count), outer: outer, total: input.count)
        let targets = outputs.map { SharedBuffer($0) }, x = SharedBuffer(readOnly: input)
        let width = inner.reduce(0, +)
        parallelFor(outer, elementsPerIndex: max(1, width), context: context) { range in
            for o in range {
                var offset = 0
                for k in targets.indices {
                    if inner[k] > 0 { (targets[k].base + o * inner[k]).update(from: x.base + o * width + offset, count: inner[k]) }
                    offset += inner[k]
                }
            }
        }
    }

    private static func check(_ counts: [Int], outer: Int, total: Int) -> [Int] {
        require(outer >= 1 && !counts.isEmpty, "concatenation of \(counts.count) buffers with outer \(outer)")
        let inner = counts.map { $0 / outer }
        require(zip(counts, inner).allSatisfy { $0 == $1 * outer } && total == outer * inner.reduce(0, +),
                "concatenation: parts of \(counts) floats and a whole of \(total) for outer \(outer)")
        return inner
    }
}
