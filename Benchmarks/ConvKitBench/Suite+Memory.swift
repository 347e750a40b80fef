import _ConvKitTestSupport

/// The memory-bound rows: max pooling and ReLU, forward and backward, naive vs SIMD.
///
/// Bytes counted per call (read + written): max pooling forward reads the input and writes the
/// output and its `Int32` argmax indices; inference (no indices) reads the input and writes the
/// output; backward reads the output gradient and the indices and writes (and first zeroes) the
/// input gradient. ReLU forward reads x and writes y; backward reads
/// x and dy and writes dx.
extension Suite {
    static func memoryEntries(quick: Bool) -> [SuiteEntry] {
        let pools = quick ? LayerSuite.quickMaxPool : LayerSuite.maxPool
        let relus = quick ? LayerSuite.quickRelu : LayerSuite.relu
        return pools.map { spec in
            .memory(PeerSpec(name: spec.name, op: "maxpool2d", N: spec.batch, C: spec.channels, H: spec.inputSize,
                             W: spec.inputSize, R: spec.windowSize, S: spec.windowSize, stride: spec.stride, pad: spec.padding),
                    make: { MaxPoolRows(spec).makeCase() })
        } + relus.map { spec in
            .memory(PeerSpec(name: spec.name, op: "relu", count: spec.count), make: { ReLURows(spec).makeCase() })
        }
    }
}

/// The pooling rows: `naive`; `simd` at the detected vector level (the AVX-512 C kernels on an
/// AVX-512 machine); and, when that level is above portable, `simd-portable` (the Swift `SIMD`
/// code, SSE2) so both paths are measured in one run.
let poolingVariants: [(label: String, algorithm: PoolingAlgorithm, level: SIMDLevel)] =
    [("naive", .naive, .detected), ("simd", .simd, .detected)]
    + (SIMDLevel.detected > .portable ? [("simd-portable", .simd, .portable)] : [])

/// Tensors and variants of one max-pooling layer.
final class MaxPoolRows {
    let spec: LayerSuite.PoolSpec
    let g: Pool2DGeometry?
    let x: FloatBuffer, y: FloatBuffer, dy: FloatBuffer, dx: FloatBuffer
    let indices: UnsafeMutableBufferPointer<Int32>
    let referenceY: FloatBuffer, referenceDx: FloatBuffer, magnitudeDx: FloatBuffer
    let referenceIndices: UnsafeMutableBufferPointer<Int32>

    init(_ spec: LayerSuite.PoolSpec) {
        self.spec = spec
        g = try? Pool2DGeometry(batch: spec.batch, channels: spec.channels, inputSize: spec.inputSize,
                                window: spec.windowSize, stride: spec.stride, padding: spec.padding)
        x = FloatBuffer(random: spec.inputCount, seed: 11)
        dy = FloatBuffer(random: spec.outputCount, seed: 12)
        y = FloatBuffer(count: spec.outputCount)
        dx = FloatBuffer(count: spec.inputCount)
        indices = .allocate(capacity: spec.outputCount)
        indices.initialize(repeating: 0)
        referenceIndices = .allocate(capacity: spec.outputCount)
        referenceIndices.initialize(repeating: 0)
        referenceY = FloatBuffer(count: spec.outputCount)
        referenceDx = FloatBuffer(count: spec.inputCount)
        magnitudeDx = FloatBuffer(count: spec.inputCount)
    }

    deinit {
        indices.deallocate()
        referenceIndices.deallocate()
    }

    func makeCase() -> MemoryCase {
        let inBytes = Double(spec.inputCount) * 4, outBytes = Double(spec.outputCount) * 4
        var variants: [MemoryVariant] = []
        if let g {
            // Reference: naive forward (values and indices), naive backward on dy and on |dy|.
            MaxPool2DKernel.forward(g, algorithm: .naive, input: x.read, output: referenceY.mutable,
                                    indices: referenceIndices, context: .serial)
            MaxPool2DKernel.backward(g, algorithm: .naive, outputGradient: dy.read, indices: UnsafeBufferPointer(referenceIndices),
                                     inputGradient: referenceDx.mutable, context: .serial)
            let absDy = FloatBuffer(absoluteValuesOf: dy)
            MaxPool2DKernel.backward(g, algorithm: .naive, outputGradient: absDy.read, indices: UnsafeBufferPointer(referenceIndices),
                                     inputGradient: magnitudeDx.mutable, context: .serial)
            let expectedY = Array(referenceY.pointer), expectedDx = Array(referenceDx.pointer)
            let zeros = [Float](repeating: 0, count: spec.outputCount), magnitude = Array(magnitudeDx.pointer)
            for (label, algorithm, level) in poolingVariants {
                let isReference = algorithm == .naive
                variants.append(MemoryVariant(
                    direction: "forward", algorithm: label, threaded: !isReference,
                    run: { [self] context in
                        MaxPool2DKernel.forward(g, algorithm: algorithm, input: x.read, output: y.mutable,
                                                indices: indices, context: context.with(simdLevel: level))
                    },
                    verify: isReference ? nil : { [self] context in
                        y.fill(.nan)
                        indices.update(repeating: -1)
                        MaxPool2DKernel.forward(g, algorithm: algorithm, input: x.read, output: y.mutable,
                                                indices: indices, context: context.with(simdLevel: level))
                        // Max is exact: values and indices must match bit for bit.
                        var check = Verify.compare("output", actual: y.read, expected: expectedY, magnitude: zeros, terms: 1)
                        if let i = (0..<spec.outputCount).first(where: { indices[$0] != referenceIndices[$0] }) {
                            check = check.and(Check(passed: false, worstRatio: .infinity,
                                                    message: "indices[\(i)] = \(indices[i]), expected \(referenceIndices[i])"))
                        }
                        return check
                    }))
                variants.append(MemoryVariant(
                    direction: "inference", algorithm: label, threaded: !isReference,
                    run: { [self] context in
                        MaxPool2DKernel.inference(g, algorithm: algorithm, input: x.read, output: y.mutable,
                                                  context: context.with(simdLevel: level))
                    },
                    verify: isReference ? nil : { [self] context in
                        y.fill(.nan)
                        MaxPool2DKernel.inference(g, algorithm: algorithm, input: x.read, output: y.mutable,
                                                  context: context.with(simdLevel: level))
                        return Verify.compare("output", actual: y.read, expected: expectedY, magnitude: zeros, terms: 1)
                    }))
                // Backward has no C kernel: one `simd` row (the level does not matter).
                if level != .detected { continue }
                variants.append(MemoryVariant(
                    direction: "backward", algorithm: label, threaded: !isReference,
                    run: { [self] context in
                        MaxPool2DKernel.backward(g, algorithm: algorithm, outputGradient: dy.read,
                                                 indices: UnsafeBufferPointer(referenceIndices),
                                                 inputGradient: dx.mutable, context: context)
                    },
                    verify: isReference ? nil : { [self] context in
                        dx.fill(.nan)
                        MaxPool2DKernel.backward(g, algorithm: algorithm, outputGradient: dy.read,
                                                 indices: UnsafeBufferPointer(referenceIndices),
                                                 inputGradient: dx.mutable, context: context)
                        return Verify.compare("inputGradient", actual: dx.read, expected: expectedDx, magnitude: magnitude,
                                              terms: g.windowPlane)
                    }))
            }
        }
        return MemoryCase(
            name: spec.name, op: "maxpool2d",
            shape: "\(spec.batch)x\(spec.channels)x\(spec.inputSize)x\(spec.inputSize) \(spec.windowSize)x\(spec.windowSize) s\(spec.stride)",
            batch: spec.batch,
            bytes: ["forward": inBytes + 2 * outBytes, "inference": inBytes + outBytes, "backward": 2 * outBytes + inBytes],
            variants: variants)
    }
}

/// Tensors and variants of one ReLU row.
final class ReLURows {
    let spec: LayerSuite.ElementwiseSpec
    let x: FloatBuffer, dy: FloatBuffer, y: FloatBuffer, dx: FloatBuffer

    init(_ spec: LayerSuite.ElementwiseSpec) {
        self.spec = spec
        x = FloatBuffer(random: spec.count, seed: 21)
        dy = FloatBuffer(random: spec.count, seed: 22)
        y = FloatBuffer(count: spec.count)
        dx = FloatBuffer(count: spec.count)
    }

    func makeCase() -> MemoryCase {
        let n = spec.count
        // Reference values: ReLU is exact, so every algorithm must match bit for bit.
        let expectedY = (0..<n).map { max(x.pointer[$0], 0) }
        let expectedDx = (0..<n).map { x.pointer[$0] > 0 ? dy.pointer[$0] : 0 }
        let zeros = [Float](repeating: 0, count: n)
        var variants: [MemoryVariant] = []
        for algorithm in ActivationAlgorithm.allCases {
            let isReference = algorithm == .naive
            variants.append(MemoryVariant(
                direction: "forward", algorithm: algorithm.rawValue, threaded: !isReference,
                run: { [self] context in ReLUKernel.forward(algorithm: algorithm, input: x.read, output: y.mutable, context: context) },
                verify: isReference ? nil : { [self] context in
                    y.fill(.nan)
                    ReLUKernel.forward(algorithm: algorithm, input: x.read, output: y.mutable, context: context)
                    return Verify.compare("output", actual: y.read, expected: expectedY, magnitude: zeros, terms: 1)
                }))
            variants.append(MemoryVariant(
                direction: "backward", algorithm: algorithm.rawValue, threaded: !isReference,
                run: { [self] context in
                    ReLUKernel.backward(algorithm: algorithm, input: x.read, outputGradient: dy.read,
                                        inputGradient: dx.mutable, context: context)
                },
                verify: isReference ? nil : { [self] context in
                    dx.fill(.nan)
                    ReLUKernel.backward(algorithm: algorithm, input: x.read, outputGradient: dy.read,
                                        inputGradient: dx.mutable, context: context)
                    return Verify.compare("inputGradient", actual: dx.read, expected: expectedDx, magnitude: zeros, terms: 1)
                }))
        }
        return MemoryCase(name: spec.name, op: "relu", shape: "\(n) floats", batch: 1,
                          bytes: ["forward": 8 * Double(n), "backward": 12 * Double(n)], variants: variants)
    }
}
