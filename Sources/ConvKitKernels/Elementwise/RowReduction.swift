/// Sums over one contiguous row in four 8-lane partial sums, for the per-channel reductions of
/// bias gradients and batch norm. A scalar `Float` sum is one dependent add per element (3–4
/// cycles each, which the compiler may not reorder): it cost as much as a pointwise layer's GEMM.
/// The order of the additions depends only on `count`, so results do not depend on how channels
/// are split over threads.
@usableFromInline
enum RowReduction {
    typealias V = SIMD8<Float>

    @inline(__always) static func load(_ p: UnsafePointer<Float>, _ offset: Int = 0) -> V {
        UnsafeRawPointer(p + offset).loadUnaligned(as: V.self)
    }

    /// Σ row[i].
    @inline(__always)
    static func sum(_ row: UnsafePointer<Float>, _ count: Int) -> Float {
        var a = V(), b = V(), c = V(), d = V()
        var i = 0
        while i + 32 <= count {
            a += load(row, i); b += load(row, i + 8); c += load(row, i + 16); d += load(row, i + 24)
            i += 32
        }
        while i + 8 <= count { a += load(row, i); i += 8 }
        var total = ((a + b) + (c + d)).sum()
        while i < count { total += row[i]; i += 1 }
        return total
    }

    /// Σ (row[i] − centre)².
    @inline(__always)
    static func squaredDeviations(_ row: UnsafePointer<Float>, _ count: Int, from centre: Float) -> Float {
        let m = V(repeating: centre)
        var a = V(), b = V()
        var i = 0
        while i + 16 <= count {
            let x = load(row, i) - m, y = load(row, i + 8) - m
            a += x * x; b += y * y
            i += 16
        }
        while i + 8 <= count { let x = load(row, i) - m; a += x * x; i += 8 }
        var total = (a + b).sum()
        while i < count { let x = row[i] - centre; total += x * x; i += 1 }
        return total
    }

    /// (Σ x[i], Σ x[i]·y[i]).
    @inline(__always)
    static func sumAndDot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ count: Int) -> (sum: Float, dot: Float) {
        var s0 = V(), s1 = V(), d0 = V(), d1 = V()
        var i = 0
        while i + 16 <= count {
            let x0 = load(x, i), x1 = load(x, i + 8)
            s0 += x0; s1 += x1
            d0 += x0 * load(y, i); d1 += x1 * load(y, i + 8)
            i += 16
        }
        var sum = (s0 + s1).sum(), dot = (d0 + d1).sum()
        while i < count { sum += x[i]; dot += x[i] * y[i]; i += 1 }
        return (sum, dot)
    }
}
