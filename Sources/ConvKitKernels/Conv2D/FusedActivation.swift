/// An element-wise function applied to a convolution's output while it is still in cache
/// (a fused epilogue), instead of in a separate pass over memory.
public enum FusedActivation: String, Sendable, Hashable, CaseIterable {
    /// `y = z`
    case identity
    /// `y = max(z, 0)`; NaN stays NaN.
    case relu

    /// `to[i] = f(from[i] + bias)` for `i < count` (`from` may equal `to`).
    @inline(__always)
    func apply(from: UnsafePointer<Float>, to: UnsafeMutablePointer<Float>, count: Int, bias: Float) {
        switch self {
        case .identity:
            if bias == 0 {
                if UnsafePointer(to) != from { to.update(from: from, count: count) }
            } else {
                for i in 0..<count { to[i] = from[i] + bias }
            }
        case .relu:
            // `z > 0 ? z : 0` would turn NaN into 0; `z < 0 ? 0 : z` keeps NaN.
            for i in 0..<count {
                let z = from[i] + bias
                to[i] = z < 0 ? 0 : z
            }
        }
    }
}
