/// Instance normalisation of `[N, C, H, W]` images (PyTorch's `nn.InstanceNorm2d` with its
/// defaults `track_running_stats=False`): each `[n, c]` plane is normalised by its own mean and
/// **biased** variance over its `m = H·W` values, in training and evaluation alike.
///
///     x̂[n,c,·] = (x[n,c,·] − μ_nc) / √(v_nc + ε),   y = γ_c · x̂ + β_c      (γ, β only when affine)
///     dx[n,c,·] = γ_c σ̂_nc (dy − mean(dy) − x̂ · mean(dy · x̂))               (means over the plane)
///     dγ_c = Σ_n Σ dy · x̂,   dβ_c = Σ_n Σ dy
///
/// The arithmetic is ``BatchNormKernel``'s on the input viewed as one batch of `N·C` channels
/// (a plane's statistics are a batch norm channel's with batch 1), with `γ, β` repeated per
/// image; the per-plane `dγ, dβ` are then added over the images in order. A plane needs more
/// than one value (`H·W ≥ 2`, PyTorch: "Expected more than 1 spatial element when training").
/// Parameters `weight` `[C]` (ones) and `bias` `[C]` (zeros) when affine (PyTorch's default is
/// not affine); no buffers.
public struct InstanceNorm2D: Layer {
    public let channels: Int
    public let epsilon: Float
    public let isAffine: Bool
    /// `γ` `[C]` when affine, empty (`[0]`) otherwise.
    public var weight: Tensor
    /// `β` `[C]` when affine, empty (`[0]`) otherwise.
    public var bias: Tensor

    /// - Parameters:
    ///   - channels: `C` (PyTorch's `num_features`); inputs must have it.
    ///   - epsilon: `ε` (PyTorch's default 1e-5).
    ///   - affine: learn `weight` and `bias` (PyTorch's default `False`).
    /// - Throws: ``ShapeError`` `.nonPositive` for `channels < 1`, `.invalidValue` for an `epsilon`
    ///   that is not finite and positive.
    public init(channels: Int, epsilon: Float = 1e-5, affine: Bool = false) throws(ShapeError) {
        if channels < 1 { throw ShapeError(.nonPositive, "InstanceNorm2D needs channels >= 1, got \(channels)") }
        if !(epsilon.isFinite && epsilon > 0) {
            throw ShapeError(.invalidValue, "InstanceNorm2D epsilon must be finite and > 0, got \(epsilon)")
        }
        self.channels = channels
        self.epsilon = epsilon
        self.isAffine = affine
        let vector = try Shape([channels]), empty = Shape(uncheckedDimensions: [0], count: 0)
        weight = affine ? Tensor(shape: vector, repeating: 1) : Tensor.zeros(empty)
        bias = affine ? Tensor.zeros(vector) : Tensor.zeros(empty)
    }

    public var parameterNames: [String] { isAffine ? ["weight", "bias"] : [] }
    public var parameters: [Tensor] { isAffine ? [weight, bias] : [] }
    public mutating func updateParameters(_ body: (Int, inout Tensor) -> Void) {
        guard isAffine else { return }
        body(0, &weight)
        body(1, &bias)
    }

    /// `x̂`, `1/√(v + ε)` per `[n, c]` plane, and the batch size.
    public struct Cache: Sendable {
        public let normalized: Tensor
        public let inverseStandardDeviation: [Float]
        let batch: Int
    }

    func validateParameters() throws(ShapeError) {
        let shape = isAffine ? Shape(uncheckedDimensions: [channels], count: channels) : Shape(uncheckedDimensions: [0], count: 0)
        try ShapeCheck.equal(weight.shape, shape, "InstanceNorm2D weight")
        try ShapeCheck.equal(bias.shape, shape, "InstanceNorm2D bias")
    }

    /// `γ` (or `β`) repeated for each of `batch` images: one value per `[n, c]` plane.
    func perPlane(_ values: Tensor, batch: Int) -> [Float] {
        var out = [Float](); out.reserveCapacity(batch * channels)
        for _ in 0..<batch { out.append(contentsOf: values.scalars) }
        return out
    }

    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Cache) {
        try validateParameters()
        try ShapeCheck.rank(input.shape, 4, "InstanceNorm2D input", layout: "[batch, channels, height, width]")
        try ShapeCheck.axis(input.shape, 1, channels, "InstanceNorm2D input", "channels")
        let batch = input.shape[0], plane = input.shape[2] * input.shape[3], planes = batch * channels
        if plane < 2 {
            throw ShapeError(.invalidValue, "InstanceNorm2D expected more than 1 spatial element per plane, got input shape \(input.shape)")
        }
        var mean = scratch(planes), variance = scratch(planes), inverse = scratch(planes)
        var normalized = scratch(input.count), output = scratch(input.count)
        let gamma = isAffine ? perPlane(weight, batch: batch) : [], beta = isAffine ? perPlane(bias, batch: batch) : []
        input.withUnsafeBufferPointer { x in
            mean.withUnsafeMutableBufferPointer { mu in
                variance.withUnsafeMutableBufferPointer { v in
                    BatchNormKernel.statistics(input: x, batch: 1, channels: planes, plane: plane, mean: mu, variance: v, context: context)
                }
            }
        }
        variance.withUnsafeBufferPointer { v in
            inverse.withUnsafeMutableBufferPointer { s in
                BatchNormKernel.inverseStandardDeviation(variance: v, epsilon: epsilon, output: s)
            }
        }
        input.withUnsafeBufferPointer { x in
            mean.withUnsafeBufferPointer { mu in
                inverse.withUnsafeBufferPointer { s in
                    gamma.withUnsafeBufferPointer { w in
                        beta.withUnsafeBufferPointer { b in
                            normalized.withUnsafeMutableBufferPointer { h in
                                output.withUnsafeMutableBufferPointer { y in
                                    BatchNormKernel.forward(input: x, batch: 1, channels: planes, plane: plane, mean: mu,
                                                            inverseStandardDeviation: s, weight: isAffine ? w : nil,
                                                            bias: isAffine ? b : nil, normalized: h, output: y, context: context)
                                }
                            }
                        }
                    }
                }
            }
        }
        return (Tensor(uncheckedShape: input.shape, scalars: output),
                Cache(normalized: Tensor(uncheckedShape: input.shape, scalars: normalized), inverseStandardDeviation: inverse.array, batch: batch))
    }

    /// Returns `(dL/dx, [dL/dweight, dL/dbias])` (no parameter gradients when not affine).
    public func backward(_ outputGradient: Tensor, cache: Cache, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        try ShapeCheck.equal(outputGradient.shape, cache.normalized.shape, "InstanceNorm2D output gradient")
        try validateParameters()
        let batch = cache.batch, planes = batch * channels
        if cache.normalized.shape.rank != 4 || cache.normalized.shape[1] != channels || cache.inverseStandardDeviation.count != planes {
            throw ShapeError(.mismatch, "InstanceNorm2D cache of shape \(cache.normalized.shape) does not fit a layer of \(channels) channels")
        }
        let plane = cache.normalized.count / planes
        let gamma = isAffine ? perPlane(weight, batch: batch) : []
        var dx = scratch(cache.normalized.count), dw = scratch(isAffine ? planes : 0), db = scratch(isAffine ? planes : 0)
        cache.normalized.withUnsafeBufferPointer { h in
            outputGradient.withUnsafeBufferPointer { dy in
                cache.inverseStandardDeviation.withUnsafeBufferPointer { s in
                    gamma.withUnsafeBufferPointer { w in
                        dx.withUnsafeMutableBufferPointer { dxp in
                            dw.withUnsafeMutableBufferPointer { dwp in
                                db.withUnsafeMutableBufferPointer { dbp in
                                    BatchNormKernel.backward(batchStatistics: true, normalized: h, outputGradient: dy, batch: 1,
                                                             channels: planes, plane: plane, inverseStandardDeviation: s,
                                                             weight: isAffine ? w : nil, inputGradient: dxp,
                                                             weightGradient: isAffine ? dwp : nil,
                                                             biasGradient: isAffine ? dbp : nil, context: context)
                                }
                            }
                        }
                    }
                }
            }
        }
        var gradients: [Tensor] = []
        if isAffine {
            // Σ over the images of the per-plane sums: a [batch, channels, 1] reduction.
            var sumW = scratch(channels), sumB = scratch(channels)
            dw.withUnsafeBufferPointer { g in
                sumW.withUnsafeMutableBufferPointer { BiasKernel.reducePerChannel(g, into: $0, batch: batch, channels: channels, plane: 1, accumulate: false, context: .serial) }
            }
            db.withUnsafeBufferPointer { g in
                sumB.withUnsafeMutableBufferPointer { BiasKernel.reducePerChannel(g, into: $0, batch: batch, channels: channels, plane: 1, accumulate: false, context: .serial) }
            }
            gradients = [Tensor(uncheckedShape: weight.shape, scalars: sumW), Tensor(uncheckedShape: bias.shape, scalars: sumB)]
        }
        return (Tensor(uncheckedShape: outputGradient.shape, scalars: dx), gradients)
    }
}
