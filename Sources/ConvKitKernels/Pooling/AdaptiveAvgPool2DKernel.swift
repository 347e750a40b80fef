/// Adaptive average pooling (``AdaptivePool2DGeometry``): each output element is the mean of
/// its bin.
///
///     y[n,c,i,j] = (1 / |R_i|·|C_j|) Σ_{h ∈ R_i} Σ_{w ∈ C_j} x[n,c,h,w]
///     dx[n,c,h,w] = Σ over the bins (i, j) holding (h, w) of dy[n,c,i,j] / (|R_i|·|C_j|)
///
/// `R_i = rows(i)`, `C_j = columns(j)`. Every `[n, c]` plane is independent.
///
/// - ``PoolingAlgorithm/naive``: the formulas above as loops on the caller's thread (the
///   reference; sums in `Float` in row-major order of the bin).
/// - ``PoolingAlgorithm/simd``: `parallelFor` over the planes; output 1×1 (global average
///   pooling) sums each plane with `RowReduction.sum` (four `SIMD8` accumulators) and fills each plane's gradient
///   with one value; other sizes sum each bin's rows with `SIMD8` vectors of columns.
///
/// Results equal the naive ones up to the summation order.
public enum AdaptiveAvgPool2DKernel {
    /// **Overwrites** `output` (`g.outputCount` values) from `input` (`g.inputCount`).
    public static func forward(
        _ g: AdaptivePool2DGeometry, algorithm: PoolingAlgorithm,
        input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        require(input.count >= g.inputCount, "input holds \(input.count) floats, expected \(g.inputCount)")
        require(output.count >= g.outputCount, "output holds \(output.count) floats, expected \(g.outputCount)")
        switch algorithm {
        case .naive:
            for p in 0..<g.planes { forwardPlane(g, input.baseAddress! + p * g.inputPlane, output.baseAddress! + p * g.outputPlane) }
        case .simd:
            let x = SharedBuffer(readOnly: input), y = SharedBuffer(output)
            parallelFor(g.planes, elementsPerIndex: g.inputPlane, context: context) { range in
                for p in range {
                    let xp = UnsafePointer(x.base + p * g.inputPlane), yp = y.base + p * g.outputPlane
                    if g.isGlobal {
                        yp[0] = RowReduction.sum(xp, g.inputPlane) / Float(g.inputPlane)
                    } else {
                        forwardPlaneVectorised(g, xp, yp)
                    }
                }
            }
        }
    }

    /// **Overwrites** `inputGradient` (`g.inputCount` values) from `outputGradient` (`g.outputCount`).
    public static func backward(
        _ g: AdaptivePool2DGeometry, algorithm: PoolingAlgorithm,
        outputGradient: UnsafeBufferPointer<Float>, inputGradient: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        require(outputGradient.count >= g.outputCount, "outputGradient holds \(outputGradient.count) floats, expected \(g.outputCount)")
        require(inputGradient.count >= g.inputCount, "inputGradient holds \(inputGradient.count) floats, expected \(g.inputCount)")
        switch algorithm {
        case .naive:
            for p in 0..<g.planes {
                backwardPlane(g, outputGradient.baseAddress! + p * g.outputPlane, inputGradient.baseAddress! + p * g.inputPlane)
            }
        case .simd:
            let dy = SharedBuffer(readOnly: outputGradient), dx = SharedBuffer(inputGradient)
            parallelFor(g.planes, elementsPerIndex: g.inputPlane, context: context) { range in
                for p in range {
                    let dyp = UnsafePointer(dy.base + p * g.outputPlane), dxp = dx.base + p * g.inputPlane
                    if g.isGlobal {
                        dxp.update(repeating: dyp[0] / Float(g.inputPlane), count: g.inputPlane)
                    } else {
                        backwardPlane(g, dyp, dxp)
                    }
                }
            }
        }
    }

    // MARK: Plane kernels

    /// The textbook loops over one plane.
    static func forwardPlane(_ g: AdaptivePool2DGeometry, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        for i in 0..<g.outputHeight {
            let rows = g.rows(i)
            for j in 0..<g.outputWidth {
                let columns = g.columns(j)
                var s: Float = 0
                for h in rows { for w in columns { s += x[h * g.inputWidth + w] } }
                y[i * g.outputWidth + j] = s / Float(rows.count * columns.count)
            }
        }
    }

    /// Bins summed a row at a time, eight columns per vector.
    static func forwardPlaneVectorised(_ g: AdaptivePool2DGeometry, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        for i in 0..<g.outputHeight {
            let rows = g.rows(i)
            for j in 0..<g.outputWidth {
                let columns = g.columns(j)
                var s: Float = 0
                for h in rows { s += RowReduction.sum(x + h * g.inputWidth + columns.lowerBound, columns.count) }
                y[i * g.outputWidth + j] = s / Float(rows.count * columns.count)
            }
        }
    }

    /// Zeroes the plane's gradient, then adds each output gradient divided by its bin's area to
    /// the bin.
    static func backwardPlane(_ g: AdaptivePool2DGeometry, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>) {
        dx.update(repeating: 0, count: g.inputPlane)
        for i in 0..<g.outputHeight {
            let rows = g.rows(i)
            for j in 0..<g.outputWidth {
                let columns = g.columns(j)
                let share = dy[i * g.outputWidth + j] / Float(rows.count * columns.count)
                for h in rows { for w in columns { dx[h * g.inputWidth + w] += share } }
            }
        }
    }
}
