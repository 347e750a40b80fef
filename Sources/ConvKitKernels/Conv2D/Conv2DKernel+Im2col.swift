/// Convolution lowered to matrix products (Caffe's scheme), one image and group at a time.
///
/// Per image `n` and group `g` (shapes row-major; `K = Cg·KH·KW`, `P = OH·OW`):
///
///     forward:         Y[n,g]  [Og × P]  = W[g] [Og × K] · cols(X[n,g]) [K × P]          (+ bias)
///     backwardData:    dcols   [K × P]   = W[g]ᵀ [K × Og] · dY[n,g] [Og × P];  dX[n,g] = col2im(dcols)
///     backwardFilter:  dW[g]   [Og × K] += dY[n,g] [Og × P] · cols(X[n,g])ᵀ [P × K]
///
/// Memory: the workspace holds one column matrix (`K × P` floats), reused across images and
/// groups. Pointwise convolutions (1×1, stride 1, no padding) use `X[n,g]` (`[Cg × H·W]`) as
/// the column matrix directly: no workspace, no copy.
///
/// Threading: the GEMMs run on the caller's thread with `context.threads` OpenBLAS threads;
/// im2col, col2im and the bias loops run in ConvKit's `parallelFor` between GEMMs, never around one.
enum Conv2DIm2col {
    static func forward(
        _ g: Conv2DGeometry,
        input: UnsafeBufferPointer<Float>, filter: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?,
        output: UnsafeMutableBufferPointer<Float>,
        workspace: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        BLAS.prepareThreads(for: context)
        guard let x = input.baseAddress, let w = filter.baseAddress, let y = output.baseAddress else { return }
        let Cg = g.inputChannelsPerGroup, Og = g.outputChannelsPerGroup
        let K = g.columnRows, P = g.columnCols
        for n in 0..<g.batch {
            for group in 0..<g.groups {
                let image = x + (n * g.inputChannels + group * Cg) * g.inputPlane
                let columns: UnsafePointer<Float>
                if g.isPointwise {
                    columns = image
                } else {
                    guard let ws = workspace.baseAddress else { return }
                    Im2col.pack(g, image: image, columns: ws, context: context)
                    columns = UnsafePointer(ws)
                }
                BLAS.sgemm(m: Og, n: P, k: K,
                           a: w + group * Og * K, lda: K,
                           b: columns, ldb: P,
                           beta: 0,
                           c: y + (n * g.outputChannels + group * Og) * P, ldc: P)
            }
        }
        if let bias { BiasKernel.addPerChannel(bias, to: output, batch: g.batch, channels: g.outputChannels,
                                               plane: P, context: context) }
    }

    static func backwardData(
        _ g: Conv2DGeometry,
        outputGradient: UnsafeBufferPointer<Float>, filter: UnsafeBufferPointer<Float>,
        inputGradient: UnsafeMutableBufferPointer<Float>,
        workspace: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        BLAS.prepareThreads(for: context)
        guard let dy = outputGradient.baseAddress, let w = filter.baseAddress, let dx = inputGradient.baseAddress else { return }
        let Cg = g.inputChannelsPerGroup, Og = g.outputChannelsPerGroup
        let K = g.columnRows, P = g.columnCols
        for n in 0..<g.batch {
            for group in 0..<g.groups {
                let imageGradient = dx + (n * g.inputChannels + group * Cg) * g.inputPlane
                let a = w + group * Og * K
                let b = dy + (n * g.outputChannels + group * Og) * P
                if g.isPointwise {
                    // dX[n,g] [Cg × HW] = W[g]ᵀ · dY[n,g], written in place.
                    BLAS.sgemm(transA: true, m: K, n: P, k: Og, a: a, lda: K, b: b, ldb: P, beta: 0,
                               c: imageGradient, ldc: P)
                } else {
                    guard let ws = workspace.baseAddress else { return }
                    BLAS.sgemm(transA: true, m: K, n: P, k: Og, a: a, lda: K, b: b, ldb: P, beta: 0,
                               c: ws, ldc: P)
                    Im2col.unpack(g, columns: ws, image: imageGradient, context: context)
                }
            }
        }
    }

    static func backwardFilter(
        _ g: Conv2DGeometry,
        input: UnsafeBufferPointer<Float>, outputGradient: UnsafeBufferPointer<Float>,
        filterGradient: UnsafeMutableBufferPointer<Float>, biasGradient: UnsafeMutableBufferPointer<Float>?,
        accumulate: Bool,
        workspace: UnsafeMutableBufferPointer<Float>, context: ComputeContext
    ) {
        BLAS.prepareThreads(for: context)
        guard let x = input.baseAddress, let dy = outputGradient.baseAddress, let dw = filterGradient.baseAddress else { return }
        let Cg = g.inputChannelsPerGroup, Og = g.outputChannelsPerGroup
        let K = g.columnRows, P = g.columnCols
        for n in 0..<g.batch {
            for group in 0..<g.groups {
                let image = x + (n * g.inputChannels + group * Cg) * g.inputPlane
                let columns: UnsafePointer<Float>
                if g.isPointwise {
                    columns = image
                } else {
                    guard let ws = workspace.baseAddress else { return }
                    Im2col.pack(g, image: image, columns: ws, context: context)
                    columns = UnsafePointer(ws)
                }
                // beta = 0 on the first image overwrites; afterwards (or when asked) accumulate.
                let beta: Float = (n == 0 && !accumulate) ? 0 : 1
                BLAS.sgemm(transB: true, m: Og, n: K, k: P,
                           a: dy + (n * g.outputChannels + group * Og) * P, lda: P,
                           b: columns, ldb: P,
                           beta: beta,
                           c: dw + group * Og * K, ldc: K)
            }
        }
        if let biasGradient {
            BiasKernel.reducePerChannel(outputGradient, into: biasGradient, batch: g.batch, channels: g.outputChannels,
                                        plane: P, accumulate: accumulate, context: context)
        }
    }
}
