/// Reflection padding of `[N, C, H, W]` images (PyTorch's `nn.ReflectionPad2d`): the image
/// mirrored at its edges without repeating them (`x[−k] = x[k]`), so every pad must be smaller
/// than the axis it extends.
///
///     y: [N, C, top + H + bottom, left + W + right]      dx = the adjoint (border gradients folded back)
public struct ReflectionPad2D: Layer {
    let core: Pad2DCore
    public var pads: Pad2DKernel.Pads { core.pads }

    /// `(left, right, top, bottom)`, PyTorch's order.
    ///
    /// - Throws: ``ShapeError`` `.nonPositive` for a negative pad (each input must also be larger
    ///   than its pads: `.invalidValue` at the call).
    public init(_ padding: (left: Int, right: Int, top: Int, bottom: Int), algorithm: ResamplingAlgorithm = .simd) throws(ShapeError) {
        core = try Pad2DCore(name: "ReflectionPad2D", mode: .reflection, padding, algorithm)
    }

    /// The same pad on all four sides.
    public init(_ padding: Int, algorithm: ResamplingAlgorithm = .simd) throws(ShapeError) {
        try self.init((padding, padding, padding, padding), algorithm: algorithm)
    }

    public typealias Cache = Shape
    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Shape) {
        try core.forward(input, context: context)
    }
    public func backward(_ outputGradient: Tensor, cache: Shape, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        (try core.backward(outputGradient, inputShape: cache, context: context), [])
    }
}

/// Replication padding of `[N, C, H, W]` images (PyTorch's `nn.ReplicationPad2d`): the edge
/// rows and columns repeated (`x[−k] = x[0]`). Any non-negative pads.
public struct ReplicationPad2D: Layer {
    let core: Pad2DCore
    public var pads: Pad2DKernel.Pads { core.pads }

    /// `(left, right, top, bottom)`, PyTorch's order.
    ///
    /// - Throws: ``ShapeError`` `.nonPositive` for a negative pad.
    public init(_ padding: (left: Int, right: Int, top: Int, bottom: Int), algorithm: ResamplingAlgorithm = .simd) throws(ShapeError) {
        core = try Pad2DCore(name: "ReplicationPad2D", mode: .replication, padding, algorithm)
    }

    public init(_ padding: Int, algorithm: ResamplingAlgorithm = .simd) throws(ShapeError) {
        try self.init((padding, padding, padding, padding), algorithm: algorithm)
    }

    public typealias Cache = Shape
    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Shape) {
        try core.forward(input, context: context)
    }
    public func backward(_ outputGradient: Tensor, cache: Shape, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        (try core.backward(outputGradient, inputShape: cache, context: context), [])
    }
}

/// Zero padding of `[N, C, H, W]` images (PyTorch's `nn.ZeroPad2d` with non-negative pads; its
/// negative pads, which crop, are not supported).
public struct ZeroPad2D: Layer {
    let core: Pad2DCore
    public var pads: Pad2DKernel.Pads { core.pads }

    /// `(left, right, top, bottom)`, PyTorch's order.
    ///
    /// - Throws: ``ShapeError`` `.nonPositive` for a negative pad.
    public init(_ padding: (left: Int, right: Int, top: Int, bottom: Int), algorithm: ResamplingAlgorithm = .simd) throws(ShapeError) {
        core = try Pad2DCore(name: "ZeroPad2D", mode: .zero, padding, algorithm)
    }

    public init(_ padding: Int, algorithm: ResamplingAlgorithm = .simd) throws(ShapeError) {
        try self.init((padding, padding, padding, padding), algorithm: algorithm)
    }

    public typealias Cache = Shape
    public func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Shape) {
        try core.forward(input, context: context)
    }
    public func backward(_ outputGradient: Tensor, cache: Shape, context: ComputeContext)
        throws(ShapeError) -> (inputGradient: Tensor, parameterGradients: [Tensor]) {
        (try core.backward(outputGradient, inputShape: cache, context: context), [])
    }
}

/// Validation and kernel calls shared by the three padding layers (arithmetic in ``Pad2DKernel``).
struct Pad2DCore: Sendable {
    let name: String
    let mode: Pad2DKernel.Mode
    let pads: Pad2DKernel.Pads
    let algorithm: ResamplingAlgorithm

    init(name: String, mode: Pad2DKernel.Mode, _ p: (left: Int, right: Int, top: Int, bottom: Int),
         _ algorithm: ResamplingAlgorithm) throws(ShapeError) {
        if p.left < 0 || p.right < 0 || p.top < 0 || p.bottom < 0 {
            throw ShapeError(.nonPositive, "\(name) pads must be >= 0, got (left \(p.left), right \(p.right), top \(p.top), bottom \(p.bottom))")
        }
        self.name = name
        self.mode = mode
        self.pads = Pad2DKernel.Pads(left: p.left, right: p.right, top: p.top, bottom: p.bottom)
        self.algorithm = algorithm
    }

    func outputShape(_ s: Shape) throws(ShapeError) -> Shape {
        try ShapeCheck.rank(s, 4, "\(name) input", layout: "[batch, channels, height, width]")
        if mode == .reflection && (pads.left >= s[3] || pads.right >= s[3] || pads.top >= s[2] || pads.bottom >= s[2]) {
            throw ShapeError(.invalidValue,
                "\(name) pads (left \(pads.left), right \(pads.right), top \(pads.top), bottom \(pads.bottom)) must be smaller than the input size \(s[2]) x \(s[3]) (input shape \(s))")
        }
        let oh = try CheckedSize.sum(try CheckedSize.sum(s[2], pads.top, "\(name) output height"), pads.bottom, "\(name) output height")
        let ow = try CheckedSize.sum(try CheckedSize.sum(s[3], pads.left, "\(name) output width"), pads.right, "\(name) output width")
        let shape = try Shape([s[0], s[1], oh, ow])
        try ShapeCheck.fitsInMemory([shape.count], "\(name) output \(shape)")
        return shape
    }

    func forward(_ input: Tensor, context: ComputeContext) throws(ShapeError) -> (output: Tensor, cache: Shape) {
        let shape = try outputShape(input.shape), s = input.shape
        if s.count == 0 && shape.count > 0 {
            throw ShapeError(.nonPositive, "\(name) input of shape \(s) is empty")
        }
        var y = scratch(shape.count)
        if shape.count > 0 {
            input.withUnsafeBufferPointer { x in
                y.withUnsafeMutableBufferPointer { yp in
                    Pad2DKernel.forward(algorithm: algorithm, mode: mode, planes: s[0] * s[1], inputHeight: s[2], inputWidth: s[3],
                                        pads: pads, input: x, output: yp, context: context)
                }
            }
        }
        return (Tensor(uncheckedShape: shape, scalars: y), s)
    }

    func backward(_ outputGradient: Tensor, inputShape s: Shape, context: ComputeContext) throws(ShapeError) -> Tensor {
        try ShapeCheck.equal(outputGradient.shape, try outputShape(s), "\(name) output gradient")
        var dx = scratch(s.count)
        if s.count > 0 {
            outputGradient.withUnsafeBufferPointer { dy in
                dx.withUnsafeMutableBufferPointer { d in
                    Pad2DKernel.backward(algorithm: algorithm, mode: mode, planes: s[0] * s[1], inputHeight: s[2], inputWidth: s[3],
                                         pads: pads, outputGradient: dy, inputGradient: d, context: context)
                }
            }
        }
        return Tensor(uncheckedShape: s, scalars: dx)
    }
}
