/// Parameter updates of the first-order optimisers, in place, element by element
/// (PyTorch's `torch.optim.SGD` and `torch.optim.Adam` update rules, single tensor, serial).
public enum OptimizerKernel {
    /// SGD with momentum and L2 weight decay (dampening 0, no Nesterov):
    ///
    ///     g = gradient + weightDecay · parameter
    ///     velocity  = momentum · velocity + g          (velocity starts at 0)
    ///     parameter = parameter − learningRate · velocity
    ///
    /// **Updates** `parameter` and `velocity` in place. With `momentum == 0` `velocity` holds `g`.
    public static func sgd(
        parameter: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>,
        velocity: UnsafeMutableBufferPointer<Float>,
        learningRate: Float, momentum: Float, weightDecay: Float
    ) {
        require(gradient.count == parameter.count && velocity.count == parameter.count, "sgd: sizes differ")
        for i in 0..<parameter.count {
            let g = gradient[i] + weightDecay * parameter[i]
            let v = momentum * velocity[i] + g
            velocity[i] = v
            parameter[i] -= learningRate * v
        }
    }

    /// Adam (Kingma & Ba), bias-corrected, with L2 weight decay added to the gradient:
    ///
    ///     g = gradient + weightDecay · parameter
    ///     m = β1 · m + (1 − β1) · g
    ///     v = β2 · v + (1 − β2) · g²
    ///     parameter −= learningRate · (m / (1 − β1^t)) / (√(v / (1 − β2^t)) + ε)
    ///
    /// `step` is t (1 for the first update). **Updates** `parameter`, `m`, `v` in place.
    public static func adam(
        parameter: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>,
        firstMoment m: UnsafeMutableBufferPointer<Float>, secondMoment v: UnsafeMutableBufferPointer<Float>,
        step: Int, learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    ) {
        require(gradient.count == parameter.count && m.count == parameter.count && v.count == parameter.count,
                     "adam: sizes differ")
        require(step >= 1, "adam: step starts at 1")
        // Bias corrections in Double: β^t underflows gracefully and 1 − β^t is exact enough.
        let correction1 = Float(1 - pow(Double(beta1), Double(step)))
        let correction2 = Float(1 - pow(Double(beta2), Double(step)))
        let stepSize = learningRate / correction1
        let rootCorrection2 = correction2.squareRoot()
        for i in 0..<parameter.count {
            let g = gradient[i] + weightDecay * parameter[i]
            let mi = beta1 * m[i] + (1 - beta1) * g
            let vi = beta2 * v[i] + (1 - beta2) * g * g
            m[i] = mi
            v[i] = vi
            parameter[i] -= stepSize * mi / (vi.squareRoot() / rootCorrection2 + epsilon)
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
