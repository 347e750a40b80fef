import ConvKitCKernels

/// The transforms of Winograd's minimal filtering algorithm F(4×4, 3×3) (Lavin & Gray, 2016;
/// interpolation points 0, ±1, ±2 and ∞).
///
/// A 4×4 output tile `Y` of a 3×3 correlation of a 6×6 input tile `d` with a filter `g` is
///
///     Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
///
///     Bᵀ = [ 4  0 −5  0  1  0 ]     G = [  1/4     0     0  ]     Aᵀ = [ 1  1  1  1  1  0 ]
///          [ 0 −4 −4  1  1  0 ]         [ −1/6  −1/6  −1/6  ]          [ 0  1 −1  2 −2  0 ]
///          [ 0  4 −4 −1  1  0 ]         [ −1/6   1/6  −1/6  ]          [ 0  1  1  4  4  0 ]
///          [ 0 −2 −1  2  1  0 ]         [ 1/24  1/12   1/6  ]          [ 0  1 −1  8 −8  1 ]
///          [ 0  2 −1 −2  1  0 ]         [ 1/24 −1/12   1/6  ]
///          [ 0  4  0 −5  0  1 ]         [   0     0     1   ]
///
/// so 36 multiplications replace 144 (4× fewer, against 2.25× for ``Winograd2x2``); summed over
/// input channels, the products become 36 independent GEMMs (one per position ξ = 6·row + column
/// of the transformed 6×6 tile). The adjoint maps (`A·dY·Aᵀ`, `Gᵀ·dU·G`) give the filter gradient.
/// Transformed tensors are position-major, `X[ξ][row][column]`, `positionStride` floats apart.
///
/// Tiles of a plane are numbered `ty·TW + tx` with `TH = ⌈OH/4⌉`, `TW = ⌈OW/4⌉`; tile `(ty, tx)`
/// reads input rows `4ty − P ..< 4ty − P + 6` and columns `4tx − P ..< 4tx − P + 6` (zero outside).
///
/// Error: unlike F(2×2)'s (1 and ½, exact), these coefficients reach 8 (`Aᵀ`), 5 (`Bᵀ`) and 1/6,
/// 1/24 (`G`, inexact in binary). Per axis, the absolute coefficients that multiply one product
/// `d·g` add up to 16× direct summation's at worst (the last output row: `Aᵀ`'s `1, 1, 8, 8, 1`),
/// 256× in 2-D (F(2×2): 2.7× per axis, 7.1× in 2-D), so rounding errors grow accordingly.
///
/// These are the portable paths; the AVX-512 and AVX2 C kernels (`ck_wino4_*`, ck_winograd4.h) do
/// the same operations with fused multiply-adds.
enum Winograd4x4 {
    /// Tiles per image along an axis: `⌈outputSize / 4⌉`.
    @inline(__always) static func tiles(_ outputSize: Int) -> Int { (outputSize + 3) / 4 }

    // MARK: One axis (`x[i·xs]` for i in 0..<n in, `y[i·ys]` out)

    /// `Bᵀ·d` (6 → 6).
    @inline(__always)
    static func input1D(_ d: UnsafePointer<Float>, _ ds: Int, _ t: UnsafeMutablePointer<Float>, _ ts: Int) {
        let d0 = d[0], d1 = d[ds], d2 = d[2 &* ds], d3 = d[3 &* ds], d4 = d[4 &* ds], d5 = d[5 &* ds]
        let a = d4 - 4 * d2, b = d3 - 4 * d1, c = d4 - d2, e = d3 - d1
        t[0] = 4 * d0 + (d4 - 5 * d2)
        t[ts] = a + b
        t[2 &* ts] = a - b
        t[3 &* ts] = 2 * e + c
        t[4 &* ts] = c - 2 * e
        t[5 &* ts] = 4 * d1 + (d5 - 5 * d3)
    }

    /// `Aᵀ·m` (6 → 4).
    @inline(__always)
    static func output1D(_ m: UnsafePointer<Float>, _ ms: Int, _ y: UnsafeMutablePointer<Float>, _ ys: Int) {
        let m0 = m[0], m1 = m[ms], m2 = m[2 &* ms], m3 = m[3 &* ms], m4 = m[4 &* ms], m5 = m[5 &* ms]
        let s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4
        y[0] = (m0 + s12) + s34
        y[ys] = 2 * d34 + d12
        y[2 &* ys] = 4 * s34 + s12
        y[3 &* ys] = (8 * d34 + d12) + m5
    }

    /// `A·g` (4 → 6), the adjoint of ``output1D(_:_:_:_:)``.
    @inline(__always)
    static func outputGradient1D(_ g: UnsafePointer<Float>, _ gs: Int, _ e: UnsafeMutablePointer<Float>, _ es: Int) {
        let g0 = g[0], g1 = g[gs], g2 = g[2 &* gs], g3 = g[3 &* gs]
        let p = g0 + g2, q = g1 + g3, r = 4 * g2 + g0, s = 8 * g3 + (g1 + g1)
        e[0] = g0
        e[es] = p + q
        e[2 &* es] = p - q
        e[3 &* es] = r + s
        e[4 &* es] = r - s
        e[5 &* es] = g3
    }

    /// `G·(a, b, c)` (3 → 6).
    @inline(__always)
    static func filter1D(_ a: Float, _ b: Float, _ c: Float, _ u: UnsafeMutablePointer<Float>, _ us: Int) {
        let ac = a + c, q = 0.25 * a + c
        u[0] = 0.25 * a
        u[us] = (ac + b) * (-1 / 6)
        u[2 &* us] = (ac - b) * (-1 / 6)
        u[3 &* us] = (0.5 * b + q) * (1 / 6)
        u[4 &* us] = (q - 0.5 * b) * (1 / 6)
        u[5 &* us] = c
    }

    /// `Gᵀ·d` (6 → 3), the adjoint of ``filter1D(_:_:_:_:_:)``.
    @inline(__always)
    static func filterGradient1D(_ d: UnsafePointer<Float>, _ ds: Int, _ w: UnsafeMutablePointer<Float>, _ ws: Int) {
        let d0 = d[0], d1 = d[ds], d2 = d[2 &* ds], d3 = d[3 &* ds], d4 = d[4 &* ds], d5 = d[5 &* ds]
        let s12 = d1 + d2, s34 = d3 + d4
        w[0] = 0.25 * d0 + (s34 * (1 / 24) - s12 * (1 / 6))
        w[ws] = (d2 - d1) * (1 / 6) + (d3 - d4) * (1 / 12)
        w[2 &* ws] = (s34 - s12) * (1 / 6) + d5
    }

    // MARK: Filter (G g Gᵀ) and its adjoint (Gᵀ dU G)

    /// `U[ξ][f] = (G · filter[f] · Gᵀ)[ξ]` for the `count` 3×3 filters of `filter` (`[count, 3, 3]`);
    /// **overwrites** `U` (`36 · count` floats). Parallel over filters; AVX-512 or AVX2
    /// (`ck_wino4_filter_avx512`/`_avx2`) when `context.simdLevel` allows.
    static func transformFilters(_ filter: UnsafePointer<Float>, count: Int,
                                 into U: UnsafeMutablePointer<Float>, context: ComputeContext) {
        let src = SharedBuffer(readOnly: UnsafeBufferPointer(start: filter, count: count * 9))
        let dst = SharedBuffer(UnsafeMutableBufferPointer(start: U, count: 36 * count))
        let level = context.simdLevel
        parallelFor(count, grain: 16, elementsPerIndex: 144, context: context) { range in
            if level >= .avx512 {
                ck_wino4_filter_avx512(src.base, range.lowerBound, range.upperBound, count, dst.base)
                return
            }
            if level >= .avx2 {
                ck_wino4_filter_avx2(src.base, range.lowerBound, range.upperBound, count, dst.base)
                return
            }
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 18) { t in
                let t = t.baseAddress!     // t[c·6 + r]: G · column c of the filter
                for f in range {
                    let g = src.base + f * 9
                    for c in 0..<3 { filter1D(g[c], g[3 + c], g[6 + c], t + 6 * c, 1) }
                    for r in 0..<6 { filter1D(t[r], t[6 + r], t[12 + r], dst.base + 6 * r * count + f, count) }
                }
            }
        }
    }

    /// `filterGradient[f] (+)= Gᵀ · dU[·][f] · G` (3×3 from 6×6) for `count` filters, where `dU` is
    /// `[36][count]`; overwrites unless `accumulate`.
    static func transformFilterGradients(_ dU: UnsafePointer<Float>, count: Int,
                                         into filterGradient: UnsafeMutablePointer<Float>, accumulate: Bool,
                                         context: ComputeContext) {
        let src = SharedBuffer(readOnly: UnsafeBufferPointer(start: dU, count: 36 * count))
        let dst = SharedBuffer(UnsafeMutableBufferPointer(start: filterGradient, count: 9 * count))
        parallelFor(count, elementsPerIndex: 144, context: context) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 30) { scratch in
                let t = scratch.baseAddress!     // t[i·6 + c] = (Gᵀ · column c)[i]
                let w = t + 18
                for f in range {
                    let u = src.base + f
                    for c in 0..<6 { filterGradient1D(u + c * count, 6 * count, t + c, 6) }
                    for i in 0..<3 {
                        filterGradient1D(t + 6 * i, 1, w + 3 * i, 1)
                    }
                    let out = dst.base + f * 9
                    for k in 0..<9 { out[k] = accumulate ? out[k] + w[k] : w[k] }
                }
            }
        }
    }

    // MARK: Tiles of a plane

    /// Transforms the tile rows `rows` of one input plane `[H, W]`: writes
    /// `out[ξ · positionStride + (ty − rows.lowerBound)·TW + tx]`.
    static func transformInputPlane(
        _ plane: UnsafePointer<Float>, height H: Int, width W: Int, padding P: Int,
        rows: Range<Int>, tilesWide TW: Int, out: UnsafeMutablePointer<Float>, positionStride s: Int
    ) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 72) { scratch in
            let d = scratch.baseAddress!, t = d + 36      // d[r·6 + c]: the tile; t[r·6 + c]: Bᵀ along its rows
            for ty in rows {
                let o = out + (ty - rows.lowerBound) * TW
                for tx in 0..<TW {
                    let x0 = 4 * tx - P, y0 = 4 * ty - P
                    for r in 0..<6 {
                        let y = y0 + r
                        for c in 0..<6 {
                            let x = x0 + c
                            d[6 * r + c] = (y >= 0 && y < H && x >= 0 && x < W) ? plane[y * W + x] : 0
                        }
                        input1D(d + 6 * r, 1, t + 6 * r, 1)
                    }
                    for c in 0..<6 { input1D(t + c, 6, o + tx + c * s, 6 * s) }
                }
            }
        }
    }

    /// Inverse transform of the tile rows `rows` of one output plane: reads
    /// `m[ξ · positionStride + (ty − rows.lowerBound)·TW + tx]`, **overwrites** output rows
    /// `4·rows.lowerBound ..< min(4·rows.upperBound, OH)` of `plane` (`[OH, OW]`) with
    /// `activation(value + bias)` (ReLU as `z < 0 ? 0 : z`, keeping NaN); the parts of tiles past
    /// `OH` or `OW` are dropped.
    static func transformOutputPlane(
        _ m: UnsafePointer<Float>, positionStride s: Int, rows: Range<Int>, tilesWide TW: Int,
        plane: UnsafeMutablePointer<Float>, height OH: Int, width OW: Int,
        bias: Float, activation: FusedActivation
    ) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 28) { scratch in
            let u = scratch.baseAddress!, y = u + 24      // u[i·6 + c] = Aᵀ along column c; y[j]: one output row
            let relu = activation == .relu
            for ty in rows {
                let mt = m + (ty - rows.lowerBound) * TW
                for tx in 0..<TW {
                    for c in 0..<6 { output1D(mt + tx + c * s, 6 * s, u + c, 6) }
                    for i in 0..<4 where 4 * ty + i < OH {
                        output1D(u + 6 * i, 1, y, 1)
                        let row = plane + (4 * ty + i) * OW
                        for j in 0..<4 where 4 * tx + j < OW {
                            let z = y[j] + bias
                            row[4 * tx + j] = relu && z < 0 ? 0 : z
                        }
                    }
                }
            }
        }
    }

    /// Adjoint of the output transform: `dm = A · dY_tile · Aᵀ` for the tile rows `rows` of one
    /// output-gradient plane (`[OH, OW]`; positions outside it count as 0); **overwrites**
    /// `out[ξ · positionStride + (ty − rows.lowerBound)·TW + tx]`.
    static func transformOutputGradientPlane(
        _ plane: UnsafePointer<Float>, height OH: Int, width OW: Int, rows: Range<Int>, tilesWide TW: Int,
        out: UnsafeMutablePointer<Float>, positionStride s: Int
    ) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 28) { scratch in
            let g = scratch.baseAddress!, h = g + 4      // g[j]: one gradient row; h[i·6 + c] = A along row i
            for ty in rows {
                let o = out + (ty - rows.lowerBound) * TW
                for tx in 0..<TW {
                    for i in 0..<4 {
                        let y = 4 * ty + i
                        for j in 0..<4 {
                            let x = 4 * tx + j
                            g[j] = (y < OH && x < OW) ? plane[y * OW + x] : 0
                        }
                        outputGradient1D(g, 1, h + 6 * i, 1)
                    }
                    for c in 0..<6 { outputGradient1D(h + c, 6, o + tx + c * s, 6 * s) }
                }
            }
        }
    }
}
