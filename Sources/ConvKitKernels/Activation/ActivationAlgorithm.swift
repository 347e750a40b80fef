/// How an activation (or loss) kernel is computed; every algorithm is tested against ``naive``.
public enum ActivationAlgorithm: String, CaseIterable, Sendable, Hashable {
    /// One element at a time with libm (`expf`, `tanhf`) on the caller's thread (the context is
    /// ignored). The reference.
    case naive
    /// `SIMD16<Float>` main loop (``VectorMath`` for exp/tanh/sigmoid), the tail of fewer than 16
    /// elements padded into one more vector (so every element goes through the same arithmetic,
    /// whatever the chunking), and `parallelFor` over large contiguous chunks. ReLU forward at
    /// `context.simdLevel >= .avx512` runs an AVX-512 C kernel instead (`ck_activation.h`), with
    /// non-temporal stores for out-of-place outputs of 16 MiB or more (same bits).
    case simd
}

/// An element-wise map on 16 lanes (specialised per operation: no closure per element).
protocol ElementwiseOperation: Sendable {
    func callAsFunction(_ x: SIMD16<Float>) -> SIMD16<Float>
}

/// An element-wise map of two operands (backward passes: saved value and output gradient).
protocol ElementwiseBinaryOperation: Sendable {
    func callAsFunction(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float>
}

/// `output[i] = op(input[i])` over `count` elements, SIMD16 + padded tail, chunked over threads.
/// `output` may be `input` (same base address): each vector is read before it is written.
@inline(__always)
func simdMap<Op: ElementwiseOperation>(
    _ op: Op, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, count: Int, context: ComputeContext
) {
    let x = SharedBuffer(readOnly: UnsafeBufferPointer(start: input, count: count))
    let y = SharedBuffer(UnsafeMutableBufferPointer(start: output, count: count))
    parallelFor(count, grain: 16, context: context) { range in
        var i = range.lowerBound
        let end = range.upperBound
        while i + 16 <= end {
            store16(op(load16(x.base + i)), y.base + i)
            i += 16
        }
        if i < end {
            storePartial16(op(loadPartial16(x.base + i, count: end - i)), y.base + i, count: end - i)
        }
    }
}

/// `output[i] = op(a[i], b[i])` over `count` elements; `output` may be `a` or `b`.
@inline(__always)
func simdMap<Op: ElementwiseBinaryOperation>(
    _ op: Op, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
    count: Int, context: ComputeContext
) {
    let sa = SharedBuffer(readOnly: UnsafeBufferPointer(start: a, count: count))
    let sb = SharedBuffer(readOnly: UnsafeBufferPointer(start: b, count: count))
    let y = SharedBuffer(UnsafeMutableBufferPointer(start: output, count: count))
    parallelFor(count, grain: 16, context: context) { range in
        var i = range.lowerBound
        let end = range.upperBound
        while i + 16 <= end {
            store16(op(load16(sa.base + i), load16(sb.base + i)), y.base + i)
            i += 16
        }
        if i < end {
            let n = end - i
            storePartial16(op(loadPartial16(sa.base + i, count: n), loadPartial16(sb.base + i, count: n)), y.base + i, count: n)
        }
    }
}

/// Checks the buffers of an element-wise kernel and returns their base addresses
/// (`nil` for empty buffers: nothing to do).
@inline(__always)
func elementwiseBuffers(
    _ input: UnsafeBufferPointer<Float>, _ output: UnsafeMutableBufferPointer<Float>, _ what: String
) -> (UnsafePointer<Float>, UnsafeMutablePointer<Float>)? {
    require(output.count == input.count, "\(what): output holds \(output.count) floats, input \(input.count)")
    guard let x = input.baseAddress, let y = output.baseAddress else { return nil }
    return (x, y)
}

@inline(__always)
func elementwiseBuffers(
    _ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>, _ output: UnsafeMutableBufferPointer<Float>,
    _ what: String
) -> (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>)? {
    require(b.count == a.count && output.count == a.count,
                 "\(what): buffers hold \(a.count), \(b.count) and \(output.count) floats; they must be equal")
    guard let pa = a.baseAddress, let pb = b.baseAddress, let y = output.baseAddress else { return nil }
    return (pa, pb, y)
}
