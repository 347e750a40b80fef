/// A deterministic parallel sum: `Σ_{i < count} term(i)` in `Double`, where `count` is split
/// into at most 64 fixed blocks that depend only on `count` (never on the thread count), each
/// block summed in order, then the block sums added in order. So a loss is bit-identical for
/// `.serial` and any `ComputeContext`. The 64 partial sums live on the stack (no heap allocation).
@inline(__always)
func deterministicSum(
    count: Int, elementsPerTerm: Int, context: ComputeContext, _ blockSum: @Sendable (Range<Int>) -> Double
) -> Double {
    if count <= 0 { return 0 }
    let blocks = min(count, 64)
    return withUnsafeTemporaryAllocation(of: Double.self, capacity: 64) { partial -> Double in
        let shared = SharedBuffer(partial)
        parallelFor(blocks, elementsPerIndex: max(1, count / blocks) * elementsPerTerm, context: context) { range in
            for b in range {
                shared[b] = blockSum((b * count / blocks)..<((b + 1) * count / blocks))
            }
        }
        var total = 0.0
        for b in 0..<blocks { total += partial[b] }
        return total
    }
}
