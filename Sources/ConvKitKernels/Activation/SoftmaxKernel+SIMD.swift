/// Vectorised softmax (``ActivationAlgorithm/simd``); see ``SoftmaxKernel`` for the contract.
enum SoftmaxSIMD {
    static func forward(
        batch: Int, channels: Int, plane: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        context: ComputeContext
    ) {
        let count = batch * channels * plane
        let x = SharedBuffer(readOnly: UnsafeBufferPointer(start: input, count: count))
        let y = SharedBuffer(UnsafeMutableBufferPointer(start: output, count: count))
        if plane == 1 {
            parallelFor(batch, elementsPerIndex: channels, context: context) { range in
                for n in range { forwardRow(x.base + n * channels, y.base + n * channels, channels) }
            }
            return
        }
        let blocks = (plane + 15) / 16
        parallelFor(batch * blocks, elementsPerIndex: 16 * channels, context: context) { range in
            for b in range {
                let n = b / blocks, p0 = (b % blocks) * 16
                let offset = n * channels * plane + p0
                forwardColumns(x.base + offset, y.base + offset, channels, plane, width: min(16, plane - p0))
            }
        }
    }

    /// Partial loads pad with `fill`; full loads when `width == 16`.
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ width: Int, fill: Float) -> SIMD16<Float> {
        width == 16 ? load16(p) : loadPartial16(p, count: width, fill: fill)
    }

    @inline(__always)
    static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ width: Int) {
        if width == 16 { store16(v, p) } else { storePartial16(v, p, count: width) }
    }

    /// Fixed-order sum of the 16 lanes.
    @inline(__always)
    static func laneSum(_ v: SIMD16<Float>) -> Float {
        let a = v.lowHalf + v.highHalf
        let b = a.lowHalf + a.highHalf
        return (b[0] + b[1]) + (b[2] + b[3])
    }

    /// One contiguous row of `channels` logits (`plane = 1`). Padding lanes hold −∞ (exp → 0).
    @inline(__always)
    static func forwardRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ channels: Int) {
        var m16 = SIMD16<Float>(repeating: -.infinity)
        var c = 0
        while c < channels {
            let v = load(x + c, min(16, channels - c), fill: -.infinity)
            m16.replace(with: v, where: v .> m16)
            c += 16
        }
        var m = -Float.infinity
        for lane in 0..<16 where m16[lane] > m { m = m16[lane] }
        let mv = SIMD16<Float>(repeating: m)
        var s16 = SIMD16<Float>(repeating: 0)
        c = 0
        while c < channels {
            let width = min(16, channels - c)
            let e = VectorMath.exp(load(x + c, width, fill: -.infinity) - mv)
            store(e, y + c, width)
            s16 += e
            c += 16
        }
        let sum = SIMD16<Float>(repeating: laneSum(s16))
        c = 0
        while c < channels {
            let width = min(16, channels - c)
            store(load(y + c, width, fill: 1) / sum, y + c, width)
            c += 16
        }
    }

    /// 16 (or `width`) neighbouring plane positions of one image; channel `c` at `c · plane`.
    @inline(__always)
    static func forwardColumns(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ channels: Int, _ plane: Int, width: Int
    ) {
        var m = SIMD16<Float>(repeating: -.infinity)
        for c in 0..<channels {
            let v = load(x + c * plane, width, fill: 0)
            m.replace(with: v, where: v .> m)
        }
        var sum = SIMD16<Float>(repeating: 0)
        for c in 0..<channels {
            let e = VectorMath.exp(load(x + c * plane, width, fill: 0) - m)
            store(e, y + c * plane, width)
            sum += e
        }
        for c in 0..<channels {
            store(load(y + c * plane, width, fill: 1) / sum, y + c * plane, width)
        }
    }

    static func backward(
        batch: Int, channels: Int, plane: Int, output: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, context: ComputeContext
    ) {
        let count = batch * channels * plane
        let y = SharedBuffer(readOnly: UnsafeBufferPointer(start: output, count: count))
        let dy = SharedBuffer(readOnly: UnsafeBufferPointer(start: outputGradient, count: count))
        let dx = SharedBuffer(UnsafeMutableBufferPointer(start: inputGradient, count: count))
        if plane == 1 {
            parallelFor(batch, elementsPerIndex: channels, context: context) { range in
                for n in range {
                    let o = n * channels
                    backwardRow(y.base + o, dy.base + o, dx.base + o, channels)
                }
            }
            return
        }
        let blocks = (plane + 15) / 16
        parallelFor(batch * blocks, elementsPerIndex: 16 * channels, context: context) { range in
            for b in range {
                let n = b / blocks, p0 = (b % blocks) * 16
                let o = n * channels * plane + p0
                let width = min(16, plane - p0)
                var dot = SIMD16<Float>(repeating: 0)
                for c in 0..<channels {
                    dot += load(dy.base + o + c * plane, width, fill: 0) * load(y.base + o + c * plane, width, fill: 0)
                }
                for c in 0..<channels {
                    let i = o + c * plane
                    store(load(y.base + i, width, fill: 0) * (load(dy.base + i, width, fill: 0) - dot), dx.base + i, width)
                }
            }
        }
    }

    @inline(__always)
    static func backwardRow(
        _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ channels: Int
    ) {
        var dot16 = SIMD16<Float>(repeating: 0)
        var c = 0
        while c < channels {
            let width = min(16, channels - c)
            dot16 += load(dy + c, width, fill: 0) * load(y + c, width, fill: 0)
            c += 16
        }
        let dot = SIMD16<Float>(repeating: laneSum(dot16))
        c = 0
        while c < channels {
            let width = min(16, channels - c)
            store(load(y + c, width, fill: 0) * (load(dy + c, width, fill: 0) - dot), dx + c, width)
            c += 16
        }
    }
}
