/// Softmax cross-entropy on logits `[batch, classes]` with integer labels, fused with its
/// gradient (the standard last layer of a classifier).
///
///     m_n    = max_c x[n,c]
///     lse_n  = m_n + log Σ_c e^(x[n,c] − m_n)                  (stable log-sum-exp)
///     loss   = (1/N) Σ_n (lse_n − x[n, label_n])                (mean over the batch)
///     dx[n,c] = (softmax(x_n)[c] − [c == label_n]) / N         (softmax = e^(x − m) / Σ e^(x − m))
///
/// Finite for logits of ±1e4 (and any finite logits): nothing is exponentiated above 0.
/// NaN in a row makes the loss and that row's gradient NaN.
public enum SoftmaxCrossEntropyKernel {
    /// Returns the mean loss and, when `logitsGradient` is given, **overwrites** it with
    /// `dLoss/dLogits` (same `[batch, classes]` layout).
    ///
    /// - Parameters:
    ///   - logits: `[batch, classes]`, row-major.
    ///   - labels: `[batch]` class indices; each must be in `0 ..< classes` (`precondition`:
    ///     the layer API validates labels and throws).
    ///   - logitsGradient: `[batch, classes]` or `nil` (loss only). May be `logits` itself.
    ///   - context: `.simd` splits the rows over threads; the loss is reduced in fixed blocks,
    ///     so it is bit-identical for every thread count.
    public static func lossAndGradient(
        algorithm: ActivationAlgorithm, batch: Int, classes: Int,
        logits: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Int32>,
        logitsGradient: UnsafeMutableBufferPointer<Float>?, context: ComputeContext
    ) -> Float {
        require(batch >= 1 && classes >= 1, "cross-entropy needs batch >= 1 and classes >= 1, got \(batch) and \(classes)")
        require(logits.count == batch * classes, "logits hold \(logits.count) floats, expected \(batch * classes)")
        require(labels.count == batch, "labels hold \(labels.count) values, expected \(batch)")
        require(logitsGradient == nil || logitsGradient!.count == batch * classes,
                     "logitsGradient must hold \(batch * classes) floats")
        for n in 0..<batch {
            require(labels[n] >= 0 && Int(labels[n]) < classes, "label \(labels[n]) of row \(n) outside 0..<\(classes)")
        }
        guard let x = logits.baseAddress, let t = labels.baseAddress else { return .nan }
        let dx = logitsGradient?.baseAddress
        switch algorithm {
        case .naive: return CrossEntropyNaive.run(batch: batch, classes: classes, logits: x, labels: t, gradient: dx)
        case .simd: return CrossEntropySIMD.run(batch: batch, classes: classes, logits: x, labels: t, gradient: dx, context: context)
        }
    }
}

/// The reference: one row at a time, libm `expf`/`logf`, the loss summed in `Double`.
enum CrossEntropyNaive {
    static func run(
        batch: Int, classes: Int, logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>,
        gradient: UnsafeMutablePointer<Float>?
    ) -> Float {
        let scale = 1 / Float(batch)
        var total = 0.0
        for n in 0..<batch {
            let x = logits + n * classes
            let label = Int(labels[n])
            var m = -Float.infinity
            for c in 0..<classes { m = max(m, x[c]) }
            var sum: Float = 0
            for c in 0..<classes { sum += ScalarMath.exp(x[c] - m) }
            total += Double((m + ScalarMath.log(sum)) - x[label])
            if let g = gradient.map({ $0 + n * classes }) {
                for c in 0..<classes {
                    let p = ScalarMath.exp(x[c] - m) / sum
                    g[c] = (p - (c == label ? 1 : 0)) * scale
                }
            }
        }
        return Float(total / Double(batch))
    }
}

/// Rows vectorised along the classes with ``VectorMath/exp(_:)``; rows split over threads in
/// fixed blocks (see `deterministicSum`).
enum CrossEntropySIMD {
    static func run(
        batch: Int, classes: Int, logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>,
        gradient: UnsafeMutablePointer<Float>?, context: ComputeContext
    ) -> Float {
        let x = SharedBuffer(readOnly: UnsafeBufferPointer(start: logits, count: batch * classes))
        let t = SharedBuffer(readOnly: UnsafeBufferPointer(start: labels, count: batch))
        let g = gradient.map { SharedBuffer(UnsafeMutableBufferPointer(start: $0, count: batch * classes)) }
        let scale = 1 / Float(batch)
        let total = deterministicSum(count: batch, elementsPerTerm: classes, context: context) { rows in
            var sum = 0.0
            for n in rows {
                sum += Double(row(x.base + n * classes, Int(t[n]), classes, g.map { $0.base + n * classes }, scale))
            }
            return sum
        }
        return Float(total / Double(batch))
    }

    /// One row: returns `lse − x[label]`, writes the scaled gradient when asked.
    @inline(__always)
    static func row(
        _ x: UnsafePointer<Float>, _ label: Int, _ classes: Int, _ g: UnsafeMutablePointer<Float>?, _ scale: Float
    ) -> Float {
        var m16 = SIMD16<Float>(repeating: -.infinity)
        var c = 0
        while c < classes {
            let v = SoftmaxSIMD.load(x + c, min(16, classes - c), fill: -.infinity)
            m16.replace(with: v, where: v .> m16)
            c += 16
        }
        var m = -Float.infinity
        for lane in 0..<16 where m16[lane] > m { m = m16[lane] }
        let mv = SIMD16<Float>(repeating: m)
        var s16 = SIMD16<Float>(repeating: 0)
        c = 0
        while c < classes {
            let width = min(16, classes - c)
            let e = VectorMath.exp(SoftmaxSIMD.load(x + c, width, fill: -.infinity) - mv)
            if let g { SoftmaxSIMD.store(e, g + c, width) }       // e kept for the gradient pass
            s16 += e
            c += 16
        }
        let sum = SoftmaxSIMD.laneSum(s16)
        let loss = (m + ScalarMath.log(sum)) - x[label]
        if let g {
            // p = e / sum; dx = (p − onehot) · scale, the naive order of operations.
            let pLabel = g[label] / sum
            let sumV = SIMD16<Float>(repeating: sum), scaleV = SIMD16<Float>(repeating: scale)
            c = 0
            while c < classes {
                let width = min(16, classes - c)
                SoftmaxSIMD.store(SoftmaxSIMD.load(g + c, width, fill: 0) / sumV * scaleV, g + c, width)
                c += 16
            }
            g[label] = (pLabel - 1) * scale
        }
        return loss
    }
}
