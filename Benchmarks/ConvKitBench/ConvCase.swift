import _ConvKitTestSupport

/// One convolution layer of the suite: every direction, every algorithm, every thread count.
///
/// Per direction: the naive reference runs on the first `naiveBatch` image(s) (giving the
/// reference values, the error magnitudes and the naive timing, scaled to the full batch);
/// then each fast algorithm, per thread count, is checked against it and timed on the full
/// batch, beside the bare GEMMs it issues (its BLAS ceiling).
struct ConvCase {
    let spec: LayerSuite.ConvSpec

    /// `NxCxHxW kKxRxS s p [d] [g]`; stride, padding and dilation as `h,w` when the axes differ.
    var shape: String {
        func axes(_ h: Int, _ w: Int) -> String { h == w ? "\(h)" : "\(h),\(w)" }
        return "\(spec.batch)x\(spec.inputChannels)x\(spec.inputHeight)x\(spec.inputWidth) "
            + "k\(spec.outputChannels)x\(spec.kernelHeight)x\(spec.kernelWidth) s\(axes(spec.strideHeight, spec.strideWidth))"
            + " p\(axes(spec.paddingHeight, spec.paddingWidth))"
            + (spec.dilationHeight != 1 || spec.dilationWidth != 1 ? " d\(axes(spec.dilationHeight, spec.dilationWidth))" : "")
            + (spec.groups > 1 ? " g\(spec.groups)" : "")
    }

    func run(_ runner: Runner) throws {
        let g = try spec.geometry()
        let naiveGeometry = try g.withBatch(min(runner.naiveBatch, g.batch))
        let data = ConvData(g, seed: UInt64(spec.name.utf8.reduce(5381) { ($0 &* 33) &+ UInt64($1) }))
        for direction in Conv2DDirection.allCases {
            let reference = ConvReference(g: naiveGeometry, direction: direction, data: data)
            let naiveTiming = runner.timeNaive { reference.runNaive() }
                .scaled(by: Double(g.batch) / Double(naiveGeometry.batch))
            runner.record(row(g, direction, "naive", threads: 1, timedBatch: naiveGeometry.batch, timing: naiveTiming,
                              naive: naiveTiming, ceiling: nil, workspace: 0, check: nil))
            for threads in runner.threads {
                let context = ComputeContext(threads: threads)
                // Algorithms that do not apply to this shape and direction (they would run im2col) are
                // skipped, and `automatic` too: it runs one of the others (marked `chosen_by_automatic`).
                for algorithm in Conv2DAlgorithm.allCases
                where algorithm != .naive && algorithm != .automatic
                    && algorithm.effective(for: g, direction: direction) == algorithm {
                    let workspace = FloatBuffer(count: Conv2DKernel.workspaceCount(g, algorithm: algorithm, direction: direction))
                    let check = reference.verify(algorithm: algorithm, full: g, data: data,
                                                 workspace: workspace, context: context)
                    if !check.passed {
                        runner.fail("\(spec.name) \(direction.rawValue) \(algorithm.rawValue) \(threads)T: \(check.message ?? "mismatch")")
                    }
                    let kernel = {
                        data.run(g, direction: direction, algorithm: algorithm, workspace: workspace, context: context)
                    }
                    let timing: Timing, ceiling: Timing?
                    if let plan = GemmPlan.conv(g, direction, algorithm, workspaceCount: workspace.count) {
                        let gemm = GemmBench(plan)
                        (timing, ceiling) = runner.timePair(kernel, baseline: { gemm.run(context) })
                    } else {
                        (timing, ceiling) = (runner.time(kernel), nil)
                    }
                    var result = row(g, direction, algorithm.rawValue, threads: threads, timedBatch: g.batch,
                                     timing: timing, naive: naiveTiming, ceiling: ceiling,
                                     workspace: workspace.count * MemoryLayout<Float>.stride, check: check)
                    if result.chosenByAutomatic == true { result.coldMs = runner.timeCold(kernel)?.medianMilliseconds }
                    runner.record(result)
                }
            }
        }
    }

    private func row(_ g: Conv2DGeometry, _ direction: Conv2DDirection, _ algorithm: String, threads: Int, timedBatch: Int,
                     timing: Timing, naive: Timing, ceiling: Timing?, workspace: Int, check: Check?) -> ResultRow {
        let flops = g.flops
        return ResultRow(
            name: spec.name, op: "conv2d", direction: direction.rawValue, algorithm: algorithm,
            threads: threads, batch: spec.batch, timedBatch: timedBatch, shape: shape,
            flops: flops, bytes: nil,
            medianMs: timing.medianMilliseconds, minMs: timing.minimumMilliseconds,
            gflops: flops / timing.median / 1e9, gbps: nil,
            speedupVsNaive: naive.median / timing.median,
            fractionOfBLAS: ceiling.map { $0.median / timing.median },
            blasCeilingMs: ceiling?.medianMilliseconds,
            blasCeilingGflops: ceiling.map { flops / $0.median / 1e9 },
            fractionOfCopy: nil, copyMs: nil, workspaceBytes: workspace,
            callsPerSample: timing.callsPerSample, samples: timing.samples,
            verified: check?.passed, worstErrorRatio: check?.worstRatio,
            chosenByAutomatic: check == nil ? nil
                : Conv2DAlgorithm.automatic.effective(for: g, direction: direction,
                                                     context: ComputeContext(threads: threads)).rawValue == algorithm)
    }
}

/// The tensors of one convolution at the full batch (random, fixed seed) and its outputs.
final class ConvData {
    let x: FloatBuffer, w: FloatBuffer, b: FloatBuffer, dy: FloatBuffer
    let y: FloatBuffer, dx: FloatBuffer, dw: FloatBuffer, db: FloatBuffer

    init(_ g: Conv2DGeometry, seed: UInt64) {
        x = FloatBuffer(random: g.inputCount, seed: seed)
        w = FloatBuffer(random: g.filterCount, seed: seed &+ 1)
        b = FloatBuffer(random: g.outputChannels, seed: seed &+ 2)
        dy = FloatBuffer(random: g.outputCount, seed: seed &+ 3)
        y = FloatBuffer(count: g.outputCount)
        dx = FloatBuffer(count: g.inputCount)
        dw = FloatBuffer(count: g.filterCount)
        db = FloatBuffer(count: g.outputChannels)
    }

    /// One kernel call of `direction` with the full-batch tensors (what is timed).
    func run(_ g: Conv2DGeometry, direction: Conv2DDirection, algorithm: Conv2DAlgorithm,
             outputGradient: FloatBuffer? = nil, workspace: FloatBuffer, context: ComputeContext) {
        switch direction {
        case .forward:
            Conv2DKernel.forward(g, algorithm: algorithm, input: x.read, filter: w.read, bias: b.read,
                                 output: y.mutable, workspace: workspace.mutable, context: context)
        case .backwardData:
            Conv2DKernel.backwardData(g, algorithm: algorithm, outputGradient: dy.read, filter: w.read,
                                      inputGradient: dx.mutable, workspace: workspace.mutable, context: context)
        case .backwardFilter:
            Conv2DKernel.backwardFilter(g, algorithm: algorithm, input: x.read,
                                        outputGradient: (outputGradient ?? dy).read,
                                        filterGradient: dw.mutable, biasGradient: db.mutable, accumulate: false,
                                        workspace: workspace.mutable, context: context)
        }
    }
}

/// The naive reference of one direction on the first images of the suite's tensors, with the
/// per-element error magnitudes Σ|a·b| (the naive kernel run on absolute values).
final class ConvReference {
    let g: Conv2DGeometry
    let direction: Conv2DDirection
    let data: ConvData
    /// Outputs of the naive kernel on the reduced batch (reused by the timed naive calls).
    private let out: FloatBuffer, outBias: FloatBuffer
    private(set) var expected: [Float] = [], expectedBias: [Float] = []
    private(set) var magnitude: [Float] = [], magnitudeBias: [Float] = []

    init(g: Conv2DGeometry, direction: Conv2DDirection, data: ConvData) {
        self.g = g
        self.direction = direction
        self.data = data
        switch direction {
        case .forward: out = FloatBuffer(count: g.outputCount)
        case .backwardData: out = FloatBuffer(count: g.inputCount)
        case .backwardFilter: out = FloatBuffer(count: g.filterCount)
        }
        outBias = FloatBuffer(count: g.outputChannels)
        // Magnitudes first (absolute values in, same kernel), then the reference values, so the
        // last naive call leaves the real operands hot for the timing that follows.
        let ax = FloatBuffer(absoluteValuesOf: data.x), aw = FloatBuffer(absoluteValuesOf: data.w)
        let ab = FloatBuffer(absoluteValuesOf: data.b), ady = FloatBuffer(absoluteValuesOf: data.dy)
        runNaive(x: ax, w: aw, b: ab, dy: ady)
        magnitude = Array(out.pointer)
        magnitudeBias = Array(outBias.pointer)
        runNaive()
        expected = Array(out.pointer)
        expectedBias = Array(outBias.pointer)
    }

    /// The naive kernel on the reduced batch (the first images of the full-batch tensors).
    func runNaive() { runNaive(x: data.x, w: data.w, b: data.b, dy: data.dy) }

    private func runNaive(x: FloatBuffer, w: FloatBuffer, b: FloatBuffer, dy: FloatBuffer) {
        let none = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
        switch direction {
        case .forward:
            Conv2DKernel.forward(g, algorithm: .naive, input: x.read, filter: w.read, bias: b.read,
                                 output: out.mutable, workspace: none, context: .serial)
        case .backwardData:
            Conv2DKernel.backwardData(g, algorithm: .naive, outputGradient: dy.read, filter: w.read,
                                      inputGradient: out.mutable, workspace: none, context: .serial)
        case .backwardFilter:
            Conv2DKernel.backwardFilter(g, algorithm: .naive, input: x.read, outputGradient: dy.read,
                                        filterGradient: out.mutable, biasGradient: outBias.mutable,
                                        accumulate: false, workspace: none, context: .serial)
        }
    }

    /// Runs `algorithm` on the full batch (outputs poisoned with NaN first) and compares the part
    /// that depends only on the reference's images. For backwardFilter, whose result sums over the
    /// batch, the output gradient of the other images is zeroed for this call.
    func verify(algorithm: Conv2DAlgorithm, full: Conv2DGeometry, data: ConvData,
                workspace: FloatBuffer, context: ComputeContext) -> Check {
        // Winograd's transforms add a multiple of the direct-summation error: 8x the bound for
        // F(2x2), 256x for F(4x4), as in Conv2D+ReferenceTests (`winogradFactor`).
        let factor = winogradFactor(algorithm.effective(for: full))
        switch direction {
        case .forward:
            data.y.fill(.nan)
            data.run(full, direction: .forward, algorithm: algorithm, workspace: workspace, context: context)
            return Verify.fullyWritten("output", data.y.read)
                .and(Verify.compare("output", actual: data.y.read, expected: expected, magnitude: magnitude,
                                    terms: g.columnRows + 1, factor: factor))
        case .backwardData:
            data.dx.fill(.nan)
            data.run(full, direction: .backwardData, algorithm: algorithm, workspace: workspace, context: context)
            return Verify.fullyWritten("inputGradient", data.dx.read)
                .and(Verify.compare("inputGradient", actual: data.dx.read, expected: expected, magnitude: magnitude,
                                    terms: g.outputChannelsPerGroup * g.kernelPlane, factor: factor))
        case .backwardFilter:
            let partial = FloatBuffer(count: full.outputCount)
            if let source = data.dy.pointer.baseAddress, let target = partial.pointer.baseAddress {
                target.update(from: source, count: g.outputCount)
            }
            data.dw.fill(.nan)
            data.db.fill(.nan)
            data.run(full, direction: .backwardFilter, algorithm: algorithm, outputGradient: partial,
                     workspace: workspace, context: context)
            let terms = full.batch * full.outputPlane
            return Verify.compare("filterGradient", actual: data.dw.read, expected: expected, magnitude: magnitude,
                                  terms: terms, factor: factor)
                .and(Verify.compare("biasGradient", actual: data.db.read, expected: expectedBias,
                                    magnitude: magnitudeBias, terms: terms, factor: factor))
        }
    }
}
