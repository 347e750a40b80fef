/// How a dense layer is computed.
public enum DenseAlgorithm: String, CaseIterable, Sendable, Hashable {
    /// The textbook triple loop; the reference.
    case naive
    /// One `cblas_sgemm` per direction.
    case gemm
}

/// Fully connected layer kernels on raw row-major buffers.
///
///     input   x  [batch, inputFeatures]
///     weight  W  [outputFeatures, inputFeatures]
///     bias    b  [outputFeatures]
///     output  y  [batch, outputFeatures]
///
///     forward:          y  = x · Wᵀ + b                        (overwrites y)
///     backwardData:     dx = dy · W                            (overwrites dx)
///     backwardWeights:  dW (+)= dyᵀ · x,  db (+)= Σ_n dy[n,:]   (overwrites, or accumulates when asked)
public enum DenseKernel {
    /// `output = input · weightᵀ + bias` (**overwrites** `output`).
    public static func forward(
        _ g: DenseGeometry, algorithm: DenseAlgorithm,
        input: UnsafeBufferPointer<Float>, weight: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?,
        output: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        require(input.count >= g.inputCount, "input holds \(input.count) floats, expected \(g.inputCount)")
        require(weight.count >= g.weightCount, "weight holds \(weight.count) floats, expected \(g.weightCount)")
        require(bias == nil || bias!.count >= g.outputFeatures, "bias shorter than outputFeatures")
        require(output.count >= g.outputCount, "output holds \(output.count) floats, expected \(g.outputCount)")
        let N = g.batch, I = g.inputFeatures, O = g.outputFeatures
        switch algorithm {
        case .naive:
            for n in 0..<N {
                for o in 0..<O {
                    var sum: Float = bias.map { $0[o] } ?? 0
                    for i in 0..<I { sum += input[n * I + i] * weight[o * I + i] }
                    output[n * O + o] = sum
                }
            }
        case .gemm:
            guard let x = input.baseAddress, let w = weight.baseAddress, let y = output.baseAddress else { return }
            BLAS.withThreads(for: context.blasSerial) {
            if let bias, let b = bias.baseAddress {
                // Start from the bias rows and accumulate the product (beta = 1): one pass fewer.
                for n in 0..<N { (y + n * O).update(from: b, count: O) }
                BLAS.sgemm(transB: true, m: N, n: O, k: I, a: x, lda: I, b: w, ldb: I, beta: 1, c: y, ldc: O, context: context)
            } else {
                BLAS.sgemm(transB: true, m: N, n: O, k: I, a: x, lda: I, b: w, ldb: I, beta: 0, c: y, ldc: O, context: context)
            }
            }
        }
    }

    /// `inputGradient = outputGradient · weight` (**overwrites** `inputGradient`).
    ///
    /// - Parameters:
    ///   - outputGradient: `[batch, outputFeatures]`.
    ///   - weight: `[outputFeatures, inputFeatures]`.
    ///   - inputGradient: `[batch, inputFeatures]`.
    public static func backwardData(
        _ g: DenseGeometry, algorithm: DenseAlgorithm,
        outputGradient: UnsafeBufferPointer<Float>, weight: UnsafeBufferPointer<Float>,
        inputGradient: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        require(outputGradient.count >= g.outputCount, "outputGradient holds \(outputGradient.count) floats, expected \(g.outputCount)")
        require(weight.count >= g.weightCount, "weight holds \(weight.count) floats, expected \(g.weightCount)")
        require(inputGradient.count >= g.inputCount, "inputGradient holds \(inputGradient.count) floats, expected \(g.inputCount)")
        let N = g.batch, I = g.inputFeatures, O = g.outputFeatures
        switch algorithm {
        case .naive:
            for n in 0..<N {
                for i in 0..<I {
                    var sum: Float = 0
                    for o in 0..<O { sum += outputGradient[n * O + o] * weight[o * I + i] }
                    inputGradient[n * I + i] = sum
                }
            }
        case .gemm:
            guard let dy = outputGradient.baseAddress, let w = weight.baseAddress, let dx = inputGradient.baseAddress else { return }
            BLAS.withThreads(for: context.blasSerial) {
                BLAS.sgemm(m: N, n: I, k: O, a: dy, lda: O, b: w, ldb: I, beta: 0, c: dx, ldc: I, context: context)
            }
        }
    }

    /// `weightGradient (+)= outputGradientᵀ · input` and `biasGradient (+)= Σ_n outputGradient[n,:]`.
    ///
    /// - Parameters:
    ///   - input: `[batch, inputFeatures]`.
    ///   - outputGradient: `[batch, outputFeatures]`.
    ///   - weightGradient: `[outputFeatures, inputFeatures]`.
    ///   - biasGradient: `[outputFeatures]` or `nil`.
    ///   - accumulate: `false` **overwrites** the gradients, `true` **adds** to them.
    public static func backwardWeights(
        _ g: DenseGeometry, algorithm: DenseAlgorithm,
        input: UnsafeBufferPointer<Float>, outputGradient: UnsafeBufferPointer<Float>,
        weightGradient: UnsafeMutableBufferPointer<Float>, biasGradient: UnsafeMutableBufferPointer<Float>?,
        accumulate: Bool = false, context: ComputeContext
    ) {
        require(input.count >= g.inputCount, "input holds \(input.count) floats, expected \(g.inputCount)")
        require(outputGradient.count >= g.outputCount, "outputGradient holds \(outputGradient.count) floats, expected \(g.outputCount)")
        require(weightGradient.count >= g.weightCount, "weightGradient holds \(weightGradient.count) floats, expected \(g.weightCount)")
        require(biasGradient == nil || biasGradient!.count >= g.outputFeatures, "biasGradient shorter than outputFeatures")
        let N = g.batch, I = g.inputFeatures, O = g.outputFeatures
        switch algorithm {
        case .naive:
            for o in 0..<O {
                for i in 0..<I {
                    var sum: Float = 0
                    for n in 0..<N { sum += outputGradient[n * O + o] * input[n * I + i] }
                    weightGradient[o * I + i] = accumulate ? weightGradient[o * I + i] + sum : sum
                }
            }
        case .gemm:
            guard let x = input.baseAddress, let dy = outputGradient.baseAddress, let dw = weightGradient.baseAddress else { return }
            BLAS.withThreads(for: context.blasSerial) {
                BLAS.sgemm(transA: true, m: O, n: I, k: N, a: dy, lda: O, b: x, ldb: I,
                           beta: accumulate ? 1 : 0, c: dw, ldc: I, context: context)
            }
        }
        if let biasGradient {
            // Column sums of dy, in batch order (same order for both algorithms).
            for o in 0..<O {
                var sum: Float = 0
                for n in 0..<N { sum += outputGradient[n * O + o] }
                biasGradient[o] = accumulate ? biasGradient[o] + sum : sum
            }
        }
    }
}
