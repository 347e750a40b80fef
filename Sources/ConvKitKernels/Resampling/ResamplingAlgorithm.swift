/// How a resampling kernel (``UpsampleKernel``, ``Pad2DKernel``) is computed. Both algorithms do
/// the same arithmetic per element in the same order, so their results are bit-identical, and
/// every test compares ``simd`` with ``naive``.
public enum ResamplingAlgorithm: String, CaseIterable, Sendable, Hashable {
    /// One output element at a time with its source index and weights computed on the spot, on
    /// the caller's thread (the context is ignored). The reference.
    case naive
    /// Source indices and weights computed once per call into tables, contiguous runs copied or
    /// added in loops the compiler vectorises, and ``parallelFor(_:grain:elementsPerIndex:context:_:)``
    /// over the `[n, c]` planes (each plane written by one thread: no thread-count dependence).
    case simd
}
