/// 2-D padding of `[planes, H, W]` buffers to `[planes, top + H + bottom, left + W + right]`
/// (PyTorch's `nn.ZeroPad2d`, `nn.ReflectionPad2d`, `nn.ReplicationPad2d`; `planes = batch · channels`).
///
/// Output position `(i, j)` reads input row `r(i − top)` and column `r(j − left)`, where for a
/// position `k` along an axis of `n` elements
///
///     zero:         k if 0 ≤ k < n, else the value 0
///     reflection:   −k if k < 0,  2(n − 1) − k if k ≥ n,  else k     (the edge is not repeated;
///                   needs every pad < n, so that one reflection lands inside)
///     replication:  min(max(k, 0), n − 1)                            (the edge is repeated)
///
/// Backward is the adjoint: `dx[r(i), r(j)] += dy[i, j]` over the outputs in row-major order (the
/// zero padding's border gradients are dropped). Pads are ≥ 0 (`precondition`; the layer validates
/// and throws). Forward **overwrites** the output; backward **overwrites** the input gradient.
public enum Pad2DKernel {
    /// The padding rule.
    public enum Mode: String, CaseIterable, Sendable, Hashable {
        case zero, reflection, replication
    }

    /// The pads of the four sides.
    public struct Pads: Sendable, Hashable {
        public let left: Int, right: Int, top: Int, bottom: Int
        public init(left: Int, right: Int, top: Int, bottom: Int) {
            self.left = left; self.right = right; self.top = top; self.bottom = bottom
        }
    }

    /// The source of position `k` (already shifted by the leading pad) along an axis of `size`
    /// elements, or `nil` for a zero.
    @inline(__always)
    public static func source(_ k: Int, size: Int, mode: Mode) -> Int? {
        switch mode {
        case .zero: return k >= 0 && k < size ? k : nil
        case .reflection: return k < 0 ? -k : (k >= size ? 2 * (size - 1) - k : k)
        case .replication: return k < 0 ? 0 : (k >= size ? size - 1 : k)
        }
    }

    /// **Overwrites** `output`.
    public static func forward(
        algorithm: ResamplingAlgorithm, mode: Mode, planes: Int, inputHeight: Int, inputWidth: Int, pads: Pads,
        input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        let (oh, ow) = check(mode, planes, inputHeight, inputWidth, pads, input.count, output.count)
        let x = SharedBuffer(readOnly: input), y = SharedBuffer(output)
        let h = inputHeight, w = inputWidth
        switch algorithm {
        case .naive:
            for p in 0..<planes {
                for i in 0..<oh {
                    for j in 0..<ow {
                        var v: Float = 0
                        if let r = source(i - pads.top, size: h, mode: mode), let c = source(j - pads.left, size: w, mode: mode) {
                            v = x[(p * h + r) * w + c]
                        }
                        y[(p * oh + i) * ow + j] = v
                    }
                }
            }
        case .simd:
            parallelFor(planes, elementsPerIndex: oh * ow, context: context) { range in
                for p in range {
                    for i in 0..<oh {
                        let out = y.base + (p * oh + i) * ow
                        guard let r = source(i - pads.top, size: h, mode: mode) else {
                            out.initialize(repeating: 0, count: ow)
                            continue
                        }
                        let row = x.base + (p * h + r) * w
                        for j in 0..<pads.left { out[j] = source(j - pads.left, size: w, mode: mode).map { row[$0] } ?? 0 }
                        (out + pads.left).update(from: row, count: w)
                        for j in (pads.left + w)..<ow { out[j] = source(j - pads.left, size: w, mode: mode).map { row[$0] } ?? 0 }
                    }
                }
            }
        }
    }

    /// **Overwrites** `inputGradient`.
    public static func backward(
        algorithm: ResamplingAlgorithm, mode: Mode, planes: Int, inputHeight: Int, inputWidth: Int, pads: Pads,
        outputGradient: UnsafeBufferPointer<Float>, inputGradient: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        let (oh, ow) = check(mode, planes, inputHeight, inputWidth, pads, inputGradient.count, outputGradient.count)
        let dy = SharedBuffer(readOnly: outputGradient), dx = SharedBuffer(inputGradient)
        let h = inputHeight, w = inputWidth
        switch algorithm {
        case .naive:
            for p in 0..<planes {
                (dx.base + p * h * w).initialize(repeating: 0, count: h * w)
                for i in 0..<oh {
                    for j in 0..<ow {
                        if let r = source(i - pads.top, size: h, mode: mode), let c = source(j - pads.left, size: w, mode: mode) {
                            dx[(p * h + r) * w + c] += dy[(p * oh + i) * ow + j]
                        }
                    }
                }
            }
        case .simd:
            parallelFor(planes, elementsPerIndex: oh * ow, context: context) { range in
                for p in range {
                    (dx.base + p * h * w).initialize(repeating: 0, count: h * w)
                    for i in 0..<oh {
                        guard let r = source(i - pads.top, size: h, mode: mode) else { continue }
                        let row = dx.base + (p * h + r) * w, g = dy.base + (p * oh + i) * ow
                        for j in 0..<pads.left { if let c = source(j - pads.left, size: w, mode: mode) { row[c] += g[j] } }
                        let middle = g + pads.left
                        for c in 0..<w { row[c] += middle[c] }
                        for j in (pads.left + w)..<ow { if let c = source(j - pads.left, size: w, mode: mode) { row[c] += g[j] } }
                    }
                }
            }
        }
    }

    private static func check(_ mode: Mode, _ planes: Int, _ h: Int, _ w: Int, _ pads: Pads, _ inCount: Int, _ outCount: Int) -> (Int, Int) {
        require(planes >= 1 && h >= 1 && w >= 1 && pads.left >= 0 && pads.right >= 0 && pads.top >= 0 && pads.bottom >= 0,
                "padding sizes: planes \(planes), input \(h)x\(w), pads \(pads)")
        require(mode != .reflection || (pads.left < w && pads.right < w && pads.top < h && pads.bottom < h),
                "reflection pads \(pads) must be smaller than the input \(h)x\(w)")
        let oh = h + pads.top + pads.bottom, ow = w + pads.left + pads.right
        require(inCount >= planes * h * w && outCount >= planes * oh * ow,
                "padding buffers: \(inCount) inputs and \(outCount) outputs for \(planes) planes of \(h)x\(w) -> \(oh)x\(ow)")
        return (oh, ow)
    }
}
