import ConvKitCKernels

/// The transforms of Winograd's minimal filtering algorithm F(2×2, 3×3) (Lavin & Gray, 2016).
///
/// A 2×2 output tile `Y` of a 3×3 correlation of a 4×4 input tile `d` with a filter `g` is
///
///     Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
///
///     Bᵀ = [ 1  0 −1  0 ]     G = [  1    0    0  ]     Aᵀ = [ 1  1  1  0 ]
///          [ 0  1  1  0 ]         [ 1/2  1/2  1/2 ]          [ 0  1 −1 −1 ]
///          [ 0 −1  1  0 ]         [ 1/2 −1/2  1/2 ]
///          [ 0  1  0 −1 ]         [  0    0    1  ]
///
/// so 16 multiplications replace 36; summed over input channels, the element-wise products become
/// 16 independent GEMMs (one per position ξ = 4·row + column of the transformed 4×4 tile). The
/// transposed maps (`A·dY·Aᵀ` for an output gradient, `Gᵀ·dU·G` for a filter gradient) give the
/// filter gradient. Transformed tensors are stored position-major, `X[ξ][row][column]`, with
/// `positionStride` floats between positions.
///
/// Tiles of a plane are numbered `ty·TW + tx` with `TH = ⌈OH/2⌉`, `TW = ⌈OW/2⌉`; tile `(ty, tx)`
/// reads input rows `2ty − P .. 2ty − P + 3` and columns `2tx − P .. 2tx − P + 3` (zero outside).
enum Winograd2x2 {
    /// Tiles per image along an axis: `⌈outputSize / 2⌉`.
    @inline(__always) static func tiles(_ outputSize: Int) -> Int { (outputSize + 1) / 2 }

    // MARK: Filter (G g Gᵀ) and its adjoint (Gᵀ dU G)

    /// `U[ξ][o][c] = (G · filter[o][c] · Gᵀ)[ξ]` for the `O × C` 3×3 filters of `filter`
    /// (`[O, C, 3, 3]`); **overwrites** `U` (`16 · O · C` floats). Parallel over filters; AVX-512
    /// (`ck_wino_filter_avx512`, same operations in the same order) when `context.simdLevel` allows.
    static func transformFilters(_ filter: UnsafePointer<Float>, count: Int,
                                 into U: UnsafeMutablePointer<Float>, context: ComputeContext) {
        let src = SharedBuffer(readOnly: UnsafeBufferPointer(start: filter, count: count * 9))
        let dst = SharedBuffer(UnsafeMutableBufferPointer(start: U, count: 16 * count))
        let vector = context.simdLevel >= .avx512
        parallelFor(count, grain: 16, elementsPerIndex: 64, context: context) { range in
            if vector {
                ck_wino_filter_avx512(src.base, range.lowerBound, range.upperBound, count, dst.base)
                return
            }
            for f in range {
                let g = src.base + f * 9
                let u = dst.base + f
                // Rows of G·g (4×3), then each row times Gᵀ.
                filterRow(g[0], g[1], g[2], u, 0, count)
                filterRow(0.5 * (g[0] + g[3] + g[6]), 0.5 * (g[1] + g[4] + g[7]), 0.5 * (g[2] + g[5] + g[8]), u, 1, count)
                filterRow(0.5 * (g[0] - g[3] + g[6]), 0.5 * (g[1] - g[4] + g[7]), 0.5 * (g[2] - g[5] + g[8]), u, 2, count)
                filterRow(g[6], g[7], g[8], u, 3, count)
            }
        }
    }

    @inline(__always)
    static func filterRow(_ a: Float, _ b: Float, _ c: Float, _ u: UnsafeMutablePointer<Float>, _ r: Int, _ stride: Int) {
        u[(4 * r + 0) * stride] = a
        u[(4 * r + 1) * stride] = 0.5 * (a + b + c)
        u[(4 * r + 2) * stride] = 0.5 * (a - b + c)
        u[(4 * r + 3) * stride] = c
    }

    /// `filterGradient[f] (+)= Gᵀ · dU[·][f] · G` (3×3 from 4×4) for `count` filters; overwrites
    /// unless `accumulate`.
    static func transformFilterGradients(_ dU: UnsafePointer<Float>, count: Int,
                                         into filterGradient: UnsafeMutablePointer<Float>, accumulate: Bool,
                                         context: ComputeContext) {
        let src = SharedBuffer(readOnly: UnsafeBufferPointer(start: dU, count: 16 * count))
        let dst = SharedBuffer(UnsafeMutableBufferPointer(start: filterGradient, count: 9 * count))
        parallelFor(count, elementsPerIndex: 64, context: context) { range in
            for f in range {
                let u = src.base + f
                @inline(__always) func at(_ r: Int, _ k: Int) -> Float { u[(4 * r + k) * count] }
                // t = Gᵀ · dU (3×4)
                var t = (SIMD4<Float>(), SIMD4<Float>(), SIMD4<Float>())
                for k in 0..<4 {
                    let d0 = at(0, k), d1 = at(1, k), d2 = at(2, k), d3 = at(3, k)
                    t.0[k] = d0 + 0.5 * (d1 + d2)
                    t.1[k] = 0.5 * (d1 - d2)
                    t.2[k] = 0.5 * (d1 + d2) + d3
                }
                let w = dst.base + f * 9
                @inline(__always) func emit(_ r: Int, _ row: SIMD4<Float>) {
                    let v0 = row[0] + 0.5 * (row[1] + row[2])
                    let v1 = 0.5 * (row[1] - row[2])
                    let v2 = 0.5 * (row[1] + row[2]) + row[3]
                    if accumulate {
                        w[3 * r] += v0; w[3 * r + 1] += v1; w[3 * r + 2] += v2
                    } else {
                        w[3 * r] = v0; w[3 * r + 1] = v1; w[3 * r + 2] = v2
                    }
                }
                emit(0, t.0)
                emit(1, t.1)
                emit(2, t.2)
            }
        }
    }

    // MARK: Input (Bᵀ d B)

    /// Transforms the tile rows `rows` of one input plane `[H, W]`: writes
    /// `out[ξ · positionStride + (ty − rows.lowerBound)·TW + tx]`.
    /// `zeroRow` holds at least `W` zeros (read for rows outside the image).
    @inline(__always)
    static func transformInputPlane(
        _ plane: UnsafePointer<Float>, height H: Int, width W: Int, padding P: Int,
        rows: Range<Int>, tilesWide TW: Int, zeroRow: UnsafePointer<Float>,
        out: UnsafeMutablePointer<Float>, positionStride: Int
    ) {
        // Tiles whose four columns 2tx − P ... 2tx − P + 3 all lie inside 0..<W.
        let interiorLower = min(TW, (P + 1) / 2)
        let interiorUpper = W - 4 + P >= 0 ? max(interiorLower, min(TW, (W - 4 + P) / 2 + 1)) : interiorLower
        for ty in rows {
            let y0 = 2 * ty - P
            let r0 = (y0 >= 0 && y0 < H) ? plane + y0 * W : zeroRow
            let r1 = (y0 + 1 >= 0 && y0 + 1 < H) ? plane + (y0 + 1) * W : zeroRow
            let r2 = (y0 + 2 >= 0 && y0 + 2 < H) ? plane + (y0 + 2) * W : zeroRow
            let r3 = (y0 + 3 >= 0 && y0 + 3 < H) ? plane + (y0 + 3) * W : zeroRow
            let o = out + (ty - rows.lowerBound) * TW
            for tx in 0..<interiorLower {
                borderInputTile(r0, r1, r2, r3, x0: 2 * tx - P, width: W, out: o + tx, stride: positionStride)
            }
            var tx = interiorLower
            while tx + 8 <= interiorUpper {
                inputTiles8(r0, r1, r2, r3, x: 2 &* tx &- P, out: o + tx, stride: positionStride)
                tx += 8
            }
            while tx < interiorUpper {
                defer { tx += 1 }
                let x = 2 &* tx &- P
                inputTile(r0[x], r0[x + 1], r0[x + 2], r0[x + 3],
                          r1[x], r1[x + 1], r1[x + 2], r1[x + 3],
                          r2[x], r2[x + 1], r2[x + 2], r2[x + 3],
                          r3[x], r3[x + 1], r3[x + 2], r3[x + 3],
                          out: o + tx, stride: positionStride)
            }
            for tx in interiorUpper..<TW {
                borderInputTile(r0, r1, r2, r3, x0: 2 * tx - P, width: W, out: o + tx, stride: positionStride)
            }
        }
    }

    /// Eight horizontally adjacent interior tiles at once (SIMD8 across tiles): columns `x ..< x + 18`
    /// of the four rows are read with two 16-float loads per row and split into even and odd lanes.
    @inline(__always)
    static func inputTiles8(_ r0: UnsafePointer<Float>, _ r1: UnsafePointer<Float>, _ r2: UnsafePointer<Float>,
                            _ r3: UnsafePointer<Float>, x: Int, out: UnsafeMutablePointer<Float>, stride s: Int) {
        // Column transform of one row: (d0 − d2, d1 + d2, d2 − d1, d1 − d3) for 8 tiles.
        @inline(__always) func row(_ r: UnsafePointer<Float>) -> (V8, V8, V8, V8) {
            let a = load16(r + x), b = load16(r + x + 2)
            let d0 = a.evenHalf, d1 = a.oddHalf, d2 = b.evenHalf, d3 = b.oddHalf
            return (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
        }
        let t0 = row(r0), t1 = row(r1), t2 = row(r2), t3 = row(r3)
        store8(t0.0 - t2.0, out + 0 &* s); store8(t0.1 - t2.1, out + 1 &* s)
        store8(t0.2 - t2.2, out + 2 &* s); store8(t0.3 - t2.3, out + 3 &* s)
        store8(t1.0 + t2.0, out + 4 &* s); store8(t1.1 + t2.1, out + 5 &* s)
        store8(t1.2 + t2.2, out + 6 &* s); store8(t1.3 + t2.3, out + 7 &* s)
        store8(t2.0 - t1.0, out + 8 &* s); store8(t2.1 - t1.1, out + 9 &* s)
        store8(t2.2 - t1.2, out + 10 &* s); store8(t2.3 - t1.3, out + 11 &* s)
        store8(t1.0 - t3.0, out + 12 &* s); store8(t1.1 - t3.1, out + 13 &* s)
        store8(t1.2 - t3.2, out + 14 &* s); store8(t1.3 - t3.3, out + 15 &* s)
    }

    typealias V8 = SIMD8<Float>
    @inline(__always) static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }
    @inline(__always) static func load8(_ p: UnsafePointer<Float>) -> V8 {
        UnsafeRawPointer(p).loadUnaligned(as: V8.self)
    }
    @inline(__always) static func store8(_ v: V8, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V8.self)
    }
    /// `(a0, b0, a1, b1, …)`: compiles to unpcklps/unpckhps.
    @inline(__always) static func interleave(_ a: V8, _ b: V8) -> SIMD16<Float> {
        var r = SIMD16<Float>()
        for i in 0..<8 { r[2 &* i] = a[i]; r[2 &* i &+ 1] = b[i] }
        return r
    }
    @inline(__always) static func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
    }

    @inline(__always)
    static func borderInputTile(_ r0: UnsafePointer<Float>, _ r1: UnsafePointer<Float>, _ r2: UnsafePointer<Float>,
                                _ r3: UnsafePointer<Float>, x0: Int, width W: Int,
                                out: UnsafeMutablePointer<Float>, stride: Int) {
        @inline(__always) func ld(_ r: UnsafePointer<Float>, _ k: Int) -> Float {
            let x = x0 + k
            return (x >= 0 && x < W) ? r[x] : 0
        }
        inputTile(ld(r0, 0), ld(r0, 1), ld(r0, 2), ld(r0, 3),
                  ld(r1, 0), ld(r1, 1), ld(r1, 2), ld(r1, 3),
                  ld(r2, 0), ld(r2, 1), ld(r2, 2), ld(r2, 3),
                  ld(r3, 0), ld(r3, 1), ld(r3, 2), ld(r3, 3),
                  out: out, stride: stride)
    }

    /// `Bᵀ d B` of one 4×4 tile given row by row; stores position ξ at `out[ξ · stride]`.
    @inline(__always)
    static func inputTile(_ d00: Float, _ d01: Float, _ d02: Float, _ d03: Float,
                          _ d10: Float, _ d11: Float, _ d12: Float, _ d13: Float,
                          _ d20: Float, _ d21: Float, _ d22: Float, _ d23: Float,
                          _ d30: Float, _ d31: Float, _ d32: Float, _ d33: Float,
                          out: UnsafeMutablePointer<Float>, stride s: Int) {
        // Columns first: t_r = (d_r0 − d_r2, d_r1 + d_r2, d_r2 − d_r1, d_r1 − d_r3) for each row r.
        let t00 = d00 - d02, t01 = d01 + d02, t02 = d02 - d01, t03 = d01 - d03
        let t10 = d10 - d12, t11 = d11 + d12, t12 = d12 - d11, t13 = d11 - d13
        let t20 = d20 - d22, t21 = d21 + d22, t22 = d22 - d21, t23 = d21 - d23
        let t30 = d30 - d32, t31 = d31 + d32, t32 = d32 - d31, t33 = d31 - d33
        // Then rows: V_0 = t_0 − t_2, V_1 = t_1 + t_2, V_2 = t_2 − t_1, V_3 = t_1 − t_3.
        out[0 &* s] = t00 - t20; out[1 &* s] = t01 - t21; out[2 &* s] = t02 - t22; out[3 &* s] = t03 - t23
        out[4 &* s] = t10 + t20; out[5 &* s] = t11 + t21; out[6 &* s] = t12 + t22; out[7 &* s] = t13 + t23
        out[8 &* s] = t20 - t10; out[9 &* s] = t21 - t11; out[10 &* s] = t22 - t12; out[11 &* s] = t23 - t13
        out[12 &* s] = t10 - t30; out[13 &* s] = t11 - t31; out[14 &* s] = t12 - t32; out[15 &* s] = t13 - t33
    }

    // MARK: Output (Aᵀ m A) and its adjoint (A dY Aᵀ)

    /// Inverse transform of the tile rows `rows` of one output plane: reads
    /// `m[ξ · positionStride + (ty − rows.lowerBound)·TW + tx]`, **overwrites** output rows
    /// `2·rows.lowerBound ..< min(2·rows.upperBound, OH)` of `plane` (`[OH, OW]`) with
    /// `activation(value + bias)`; the half tiles past an odd height or width are dropped.
    @inline(__always)
    static func transformOutputPlane(
        _ m: UnsafePointer<Float>, positionStride s: Int, rows: Range<Int>, tilesWide TW: Int,
        plane: UnsafeMutablePointer<Float>, height OH: Int, width OW: Int,
        bias: Float, activation: FusedActivation
    ) {
        let fullTiles = OW / 2
        let relu = activation == .relu
        for ty in rows {
            let row0 = plane + 2 * ty * OW
            let hasRow1 = 2 * ty + 1 < OH
            let row1 = row0 + OW
            let mt = m + (ty - rows.lowerBound) * TW
            var tx = 0
            let biasVector = V8(repeating: bias)
            while tx + 8 <= fullTiles {
                let p = mt + tx
                let m00 = load8(p), m01 = load8(p + 1 &* s), m02 = load8(p + 2 &* s), m03 = load8(p + 3 &* s)
                let m10 = load8(p + 4 &* s), m11 = load8(p + 5 &* s), m12 = load8(p + 6 &* s), m13 = load8(p + 7 &* s)
                let m20 = load8(p + 8 &* s), m21 = load8(p + 9 &* s), m22 = load8(p + 10 &* s), m23 = load8(p + 11 &* s)
                let m30 = load8(p + 12 &* s), m31 = load8(p + 13 &* s), m32 = load8(p + 14 &* s), m33 = load8(p + 15 &* s)
                let u00 = m00 + m10 + m20, u01 = m01 + m11 + m21, u02 = m02 + m12 + m22, u03 = m03 + m13 + m23
                let u10 = m10 - m20 - m30, u11 = m11 - m21 - m31, u12 = m12 - m22 - m32, u13 = m13 - m23 - m33
                var y00 = u00 + u01 + u02 + biasVector, y01 = u01 - u02 - u03 + biasVector
                var y10 = u10 + u11 + u12 + biasVector, y11 = u11 - u12 - u13 + biasVector
                if relu {
                    // `replacing(where: y < 0)` keeps NaN (NaN < 0 is false).
                    y00.replace(with: 0, where: y00 .< 0); y01.replace(with: 0, where: y01 .< 0)
                    y10.replace(with: 0, where: y10 .< 0); y11.replace(with: 0, where: y11 .< 0)
                }
                store16(interleave(y00, y01), row0 + 2 &* tx)
                if hasRow1 { store16(interleave(y10, y11), row1 + 2 &* tx) }
                tx += 8
            }
            while tx < TW {
                defer { tx += 1 }
                let p = mt + tx
                let m00 = p[0 &* s], m01 = p[1 &* s], m02 = p[2 &* s], m03 = p[3 &* s]
                let m10 = p[4 &* s], m11 = p[5 &* s], m12 = p[6 &* s], m13 = p[7 &* s]
                let m20 = p[8 &* s], m21 = p[9 &* s], m22 = p[10 &* s], m23 = p[11 &* s]
                let m30 = p[12 &* s], m31 = p[13 &* s], m32 = p[14 &* s], m33 = p[15 &* s]
                // Rows: u0 = m0 + m1 + m2, u1 = m1 − m2 − m3 (per column).
                let u00 = m00 + m10 + m20, u01 = m01 + m11 + m21, u02 = m02 + m12 + m22, u03 = m03 + m13 + m23
                let u10 = m10 - m20 - m30, u11 = m11 - m21 - m31, u12 = m12 - m22 - m32, u13 = m13 - m23 - m33
                // Columns.
                var y00 = u00 + u01 + u02 + bias, y01 = u01 - u02 - u03 + bias
                var y10 = u10 + u11 + u12 + bias, y11 = u11 - u12 - u13 + bias
                if relu {
                    y00 = y00 < 0 ? 0 : y00; y01 = y01 < 0 ? 0 : y01
                    y10 = y10 < 0 ? 0 : y10; y11 = y11 < 0 ? 0 : y11
                }
                let x = 2 &* tx
                let full = tx < fullTiles
                row0[x] = y00
                if full { row0[x + 1] = y01 }
                if hasRow1 {
                    row1[x] = y10
                    if full { row1[x + 1] = y11 }
                }
            }
        }
    }

    /// Adjoint of the output transform: `dm = A · dY_tile · Aᵀ` for the tile rows `rows` of one
    /// output-gradient plane (`[OH, OW]`; positions outside it count as 0); **overwrites**
    /// `out[ξ · positionStride + (ty − rows.lowerBound)·TW + tx]`.
    @inline(__always)
    static func transformOutputGradientPlane(
        _ plane: UnsafePointer<Float>, height OH: Int, width OW: Int, rows: Range<Int>, tilesWide TW: Int,
        zeroRow: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, positionStride s: Int
    ) {
        let fullTiles = OW / 2
        for ty in rows {
            let row0 = plane + 2 * ty * OW
            let row1 = 2 * ty + 1 < OH ? row0 + OW : zeroRow
            let o = out + (ty - rows.lowerBound) * TW
            var tx = 0
            while tx + 8 <= fullTiles {
                let top = load16(row0 + 2 &* tx), bottom = load16(row1 + 2 &* tx)
                let g00 = top.evenHalf, g01 = top.oddHalf, g10 = bottom.evenHalf, g11 = bottom.oddHalf
                let a0 = g00, a1 = g01, b0 = g00 + g10, b1 = g01 + g11
                let c0 = g00 - g10, c1 = g01 - g11, d0 = -g10, d1 = -g11
                let p = o + tx
                store8(a0, p); store8(a0 + a1, p + 1 &* s); store8(a0 - a1, p + 2 &* s); store8(-a1, p + 3 &* s)
                store8(b0, p + 4 &* s); store8(b0 + b1, p + 5 &* s); store8(b0 - b1, p + 6 &* s); store8(-b1, p + 7 &* s)
                store8(c0, p + 8 &* s); store8(c0 + c1, p + 9 &* s); store8(c0 - c1, p + 10 &* s); store8(-c1, p + 11 &* s)
                store8(d0, p + 12 &* s); store8(d0 + d1, p + 13 &* s); store8(d0 - d1, p + 14 &* s); store8(-d1, p + 15 &* s)
                tx += 8
            }
            while tx < TW {
                defer { tx += 1 }
                let x = 2 &* tx
                let g00 = row0[x], g10 = row1[x]
                let g01 = tx < fullTiles ? row0[x + 1] : 0
                let g11 = tx < fullTiles ? row1[x + 1] : 0
                // A·dY (4×2): rows (g0, g0 + g1, g0 − g1, −g1) per column, then ·Aᵀ per row.
                let a0 = g00, a1 = g01                     // row 0 of A·dY: dY row 0
                let b0 = g00 + g10, b1 = g01 + g11         // row 1: dY0 + dY1
                let c0 = g00 - g10, c1 = g01 - g11         // row 2: dY0 − dY1
                let d0 = -g10, d1 = -g11                   // row 3: −dY1
                let p = o + tx
                p[0 &* s] = a0; p[1 &* s] = a0 + a1; p[2 &* s] = a0 - a1; p[3 &* s] = -a1
                p[4 &* s] = b0; p[5 &* s] = b0 + b1; p[6 &* s] = b0 - b1; p[7 &* s] = -b1
                p[8 &* s] = c0; p[9 &* s] = c0 + c1; p[10 &* s] = c0 - c1; p[11 &* s] = -c1
                p[12 &* s] = d0; p[13 &* s] = d0 + d1; p[14 &* s] = d0 - d1; p[15 &* s] = -d1
            }
        }
    }
}
