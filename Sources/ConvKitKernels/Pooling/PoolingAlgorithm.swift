/// How a pooling kernel is computed. Both algorithms give the same result (bit for bit for the
/// forward passes and max-pooling backward; up to summation order for average-pooling backward)
/// and are tested against ``naive`` over one shape table.
public enum PoolingAlgorithm: String, CaseIterable, Sendable, Hashable {
    /// The textbook loops on the caller's thread (the context is ignored). Slow; the reference.
    case naive
    /// Vectorised kernels with `parallelFor` over the `[n, c]` planes; the vector code depends
    /// on `context.simdLevel`:
    ///
    /// - `.avx512` (max pooling forward and inference, average pooling forward): the AVX-512 C
    ///   kernels of `ConvKitCKernels` (`ck_pool.h`). 16 output columns per `zmm`, in column
    ///   blocks walking down the plane; stride 2 de-interleaved with `vpermt2ps` from two masked
    ///   loads (masked loads and stores for tails, so nothing outside the buffers is touched).
    ///   Max pooling is separable: per input row the first maximum of each window's columns
    ///   (`vmaxps` plus an equality search for its index), then per output row the first of the
    ///   window's rows that is strictly larger; the last row of a window is reused by the next
    ///   output row (3×3 stride 2 reads each input row once). Planes holding a NaN are redone
    ///   with the exact rule tap by tap. The next plane is prefetched while one is computed.
    /// - `.avx2` (max pooling forward and inference): the AVX2 C kernel, the same scheme with
    ///   8 lanes per `ymm` (`vmaskmovps` loads/stores, `vblendvps` selects; the general column
    ///   loop only). Average pooling at `.avx2` runs the portable code.
    /// - `.portable`, and the backward passes: explicit `SIMD8` Swift vectors (SSE2)
    ///   over the output columns whose windows lie inside the image, 16 columns per block as two
    ///   independent halves (8 when only 8..15 are interior; contiguous loads for stride 1, two
    ///   loads and a de-interleaving shuffle for stride 2, gathered loads otherwise).
    ///
    /// Border columns (windows reaching into the padding) use the scalar rule in both. Results
    /// are bit-identical at every level.
    case simd
}

/// Window bounds of one output row or column, shared by every pooling kernel.
///
/// For output position `o` the window starts at input position `o·S − P`; the valid taps are
/// `lower ..< upper` (window offsets whose input position lies in `0 ..< size`).
@usableFromInline
struct PoolWindow {
    /// Input position of window offset 0 (may be negative: padding).
    let start: Int
    /// First valid window offset.
    let lower: Int
    /// One past the last valid window offset.
    let upper: Int

    @inline(__always)
    init(output o: Int, stride: Int, padding: Int, window: Int, size: Int) {
        start = o * stride - padding
        lower = max(0, -start)
        upper = min(window, size - start)
    }

    /// Number of valid taps (>= 1 for a validated geometry).
    var count: Int { upper - lower }
}

/// The output columns whose whole window lies inside the image: `lower ..< upper`
/// (empty when there is none). Vector code handles these; border columns go scalar.
@inline(__always)
func interiorColumns(_ g: Pool2DGeometry) -> Range<Int> {
    let S = g.strideWidth, P = g.paddingWidth
    let lower = min(g.outputWidth, P == 0 ? 0 : (P - 1) / S + 1)  // first o with o·S − P >= 0 (⌈P/S⌉, no overflow)
    let last = g.inputWidth + P - g.windowWidth                  // o·S <= W + P − K
    let upper = last < 0 ? 0 : min(g.outputWidth, last / S + 1)
    return lower < upper ? lower..<upper : lower..<lower
}

/// Loads 8 floats at `p[0], p[S], …, p[7·S]`. One type per stride so that generic
/// specialisation gives each pooling loop straight-line loads (no branch on the stride inside).
protocol StridedLoad {
    static func load8(_ p: UnsafePointer<Float>, stride: Int) -> SIMD8<Float>
}

/// Stride 1: one contiguous load.
enum UnitStrideLoad: StridedLoad {
    @inline(__always) static func load8(_ p: UnsafePointer<Float>, stride: Int) -> SIMD8<Float> {
        ConvKitKernels.load8(p)
    }
}

/// Stride 2: two loads (`p[0...7]`, `p[7...14]`) and a shuffle taking the even lanes of the
/// first and the odd lanes of the second, so no element past `p[14]` is touched.
enum DoubleStrideLoad: StridedLoad {
    @inline(__always) static func load8(_ p: UnsafePointer<Float>, stride: Int) -> SIMD8<Float> {
        let a = ConvKitKernels.load8(p), b = ConvKitKernels.load8(p + 7)
        return SIMD8(a[0], a[2], a[4], a[6], b[1], b[3], b[5], b[7])
    }
}

/// Any other stride: 8 scalar loads (a gather).
enum GatherLoad: StridedLoad {
    @inline(__always) static func load8(_ p: UnsafePointer<Float>, stride: Int) -> SIMD8<Float> {
        SIMD8(p[0], p[stride], p[2 * stride], p[3 * stride],
              p[4 * stride], p[5 * stride], p[6 * stride], p[7 * stride])
    }
}
