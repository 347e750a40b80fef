/// Element-wise sums of equally sized buffers (residual additions, gradient accumulation).
public enum ElementwiseKernel {
    /// `output[i] = a[i] + b[i]` for `i < output.count` (**overwrites** `output`).
    public static func add(
        _ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>,
        output: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        require(a.count >= output.count && b.count >= output.count, "add: inputs shorter than output")
        let x = SharedBuffer(readOnly: a), y = SharedBuffer(readOnly: b), z = SharedBuffer(output)
        parallelFor(output.count, grain: 4096, context: context) { range in
            for i in range { z[i] = x[i] + y[i] }
        }
    }

    /// `accumulator[i] += value[i]` for `i < accumulator.count` (**accumulates**).
    public static func accumulate(
        _ value: UnsafeBufferPointer<Float>, into accumulator: UnsafeMutableBufferPointer<Float>,
        context: ComputeContext
    ) {
        require(value.count >= accumulator.count, "accumulate: value shorter than accumulator")
        let x = SharedBuffer(readOnly: value), z = SharedBuffer(accumulator)
        parallelFor(accumulator.count, grain: 4096, context: context) { range in
            for i in range { z[i] += x[i] }
        }
    }
}
