import _ConvKitTestSupport

/// The directions of a dense layer (the kernels have no enum for them).
enum DenseDirection: String, CaseIterable, Sendable {
    case forward, backwardData, backwardWeights
}

/// One dense layer of the suite: every direction, every algorithm, every thread count.
/// Same procedure as ``ConvCase``; the naive reference runs on the first `naiveBatch` rows.
struct DenseCase {
    let spec: LayerSuite.DenseSpec

    var shape: String { "\(spec.batch)x\(spec.inputFeatures) -> \(spec.outputFeatures)" }

    func run(_ runner: Runner) throws {
        let g = try spec.geometry()
        let naiveGeometry = try g.withBatch(min(runner.naiveBatch, g.batch))
        let data = DenseData(g, seed: UInt64(spec.name.utf8.reduce(5381) { ($0 &* 33) &+ UInt64($1) }))
        for direction in DenseDirection.allCases {
            let reference = DenseReference(g: naiveGeometry, direction: direction, data: data)
            let naiveTiming = runner.timeNaive { reference.runNaive() }
                .scaled(by: Double(g.batch) / Double(naiveGeometry.batch))
            runner.record(row(g, direction, "naive", threads: 1, timedBatch: naiveGeometry.batch,
                              timing: naiveTiming, naive: naiveTiming, ceiling: nil, check: nil))
            for threads in runner.threads {
                let context = ComputeContext(threads: threads)
                for algorithm in DenseAlgorithm.allCases where algorithm != .naive {
                    let check = reference.verify(algorithm: algorithm, full: g, context: context)
                    if !check.passed {
                        runner.fail("\(spec.name) \(direction.rawValue) \(algorithm.rawValue) \(threads)T: \(check.message ?? "mismatch")")
                    }
                    let kernel = { data.run(g, direction: direction, algorithm: algorithm, context: context) }
                    let timing: Timing, ceiling: Timing?
                    if algorithm == .gemm {
                        let gemm = GemmBench(.dense(g, direction))
                        (timing, ceiling) = runner.timePair(kernel, baseline: { gemm.run(context) })
                    } else {
                        (timing, ceiling) = (runner.time(kernel), nil)
                    }
                    var result = row(g, direction, algorithm.rawValue, threads: threads, timedBatch: g.batch,
                                     timing: timing, naive: naiveTiming, ceiling: ceiling, check: check)
                    result.coldMs = runner.timeCold(kernel)?.medianMilliseconds
                    runner.record(result)
                }
            }
        }
    }

    private func row(_ g: DenseGeometry, _ direction: DenseDirection, _ algorithm: String, threads: Int,
                     timedBatch: Int, timing: Timing, naive: Timing, ceiling: Timing?, check: Check?) -> ResultRow {
        ResultRow(
            name: spec.name, op: "dense", direction: direction.rawValue, algorithm: algorithm,
            threads: threads, batch: g.batch, timedBatch: timedBatch, shape: shape,
            flops: g.flops, bytes: nil,
            medianMs: timing.medianMilliseconds, minMs: timing.minimumMilliseconds,
            gflops: g.flops / timing.median / 1e9, gbps: nil,
            speedupVsNaive: naive.median / timing.median,
            fractionOfBLAS: ceiling.map { $0.median / timing.median },
            blasCeilingMs: ceiling?.medianMilliseconds,
            blasCeilingGflops: ceiling.map { g.flops / $0.median / 1e9 },
            fractionOfCopy: nil, copyMs: nil, workspaceBytes: 0,
            callsPerSample: timing.callsPerSample, samples: timing.samples,
            verified: check?.passed, worstErrorRatio: check?.worstRatio)
    }
}

/// The tensors of one dense layer at the full batch (random, fixed seed) and its outputs.
final class DenseData {
    let x: FloatBuffer, w: FloatBuffer, b: FloatBuffer, dy: FloatBuffer
    let y: FloatBuffer, dx: FloatBuffer, dw: FloatBuffer, db: FloatBuffer

    init(_ g: DenseGeometry, seed: UInt64) {
        x = FloatBuffer(random: g.inputCount, seed: seed)
        w = FloatBuffer(random: g.weightCount, seed: seed &+ 1)
        b = FloatBuffer(random: g.outputFeatures, seed: seed &+ 2)
        dy = FloatBuffer(random: g.outputCount, seed: seed &+ 3)
        y = FloatBuffer(count: g.outputCount)
        dx = FloatBuffer(count: g.inputCount)
        dw = FloatBuffer(count: g.weightCount)
        db = FloatBuffer(count: g.outputFeatures)
    }

    func run(_ g: DenseGeometry, direction: DenseDirection, algorithm: DenseAlgorithm,
             outputGradient: FloatBuffer? = nil, context: ComputeContext) {
        switch direction {
        case .forward:
            DenseKernel.forward(g, algorithm: algorithm, input: x.read, weight: w.read, bias: b.read,
                                output: y.mutable, context: context)
        case .backwardData:
            DenseKernel.backwardData(g, algorithm: algorithm, outputGradient: dy.read, weight: w.read,
                                     inputGradient: dx.mutable, context: context)
        case .backwardWeights:
            DenseKernel.backwardWeights(g, algorithm: algorithm, input: x.read, outputGradient: (outputGradient ?? dy).read,
                                        weightGradient: dw.mutable, biasGradient: db.mutable, accumulate: false,
                                        context: context)
        }
    }
}

/// The naive dense reference on the first rows, with error magnitudes (naive on |x|, |W|, |b|, |dy|).
final class DenseReference {
    let g: DenseGeometry
    let direction: DenseDirection
    let data: DenseData
    private let out: FloatBuffer, outBias: FloatBuffer
    private(set) var expected: [Float] = [], expectedBias: [Float] = []
    private(set) var magnitude: [Float] = [], magnitudeBias: [Float] = []

    init(g: DenseGeometry, direction: DenseDirection, data: DenseData) {
        self.g = g
        self.direction = direction
        self.data = data
        switch direction {
        case .forward: out = FloatBuffer(count: g.outputCount)
        case .backwardData: out = FloatBuffer(count: g.inputCount)
        case .backwardWeights: out = FloatBuffer(count: g.weightCount)
        }
        outBias = FloatBuffer(count: g.outputFeatures)
        runNaive(x: FloatBuffer(absoluteValuesOf: data.x), w: FloatBuffer(absoluteValuesOf: data.w),
                 b: FloatBuffer(absoluteValuesOf: data.b), dy: FloatBuffer(absoluteValuesOf: data.dy))
        magnitude = Array(out.pointer)
        magnitudeBias = Array(outBias.pointer)
        runNaive()
        expected = Array(out.pointer)
        expectedBias = Array(outBias.pointer)
    }

    func runNaive() { runNaive(x: data.x, w: data.w, b: data.b, dy: data.dy) }

    private func runNaive(x: FloatBuffer, w: FloatBuffer, b: FloatBuffer, dy: FloatBuffer) {
        switch direction {
        case .forward:
            DenseKernel.forward(g, algorithm: .naive, input: x.read, weight: w.read, bias: b.read,
                                output: out.mutable, context: .serial)
        case .backwardData:
            DenseKernel.backwardData(g, algorithm: .naive, outputGradient: dy.read, weight: w.read,
                                     inputGradient: out.mutable, context: .serial)
        case .backwardWeights:
            DenseKernel.backwardWeights(g, algorithm: .naive, input: x.read, outputGradient: dy.read,
                                        weightGradient: out.mutable, biasGradient: outBias.mutable,
                                        accumulate: false, context: .serial)
        }
    }

    /// Full-batch call (outputs poisoned), compared on the reference's rows; backwardWeights zeroes
    /// the output gradient of the other rows for this call (its result sums over the batch).
    func verify(algorithm: DenseAlgorithm, full: DenseGeometry, context: ComputeContext) -> Check {
        switch direction {
        case .forward:
            data.y.fill(.nan)
            data.run(full, direction: .forward, algorithm: algorithm, context: context)
            return Verify.fullyWritten("output", data.y.read)
                .and(Verify.compare("output", actual: data.y.read, expected: expected, magnitude: magnitude,
                                    terms: g.inputFeatures + 1))
        case .backwardData:
            data.dx.fill(.nan)
            data.run(full, direction: .backwardData, algorithm: algorithm, context: context)
            return Verify.fullyWritten("inputGradient", data.dx.read)
                .and(Verify.compare("inputGradient", actual: data.dx.read, expected: expected, magnitude: magnitude,
                                    terms: g.outputFeatures))
        case .backwardWeights:
            let partial = FloatBuffer(count: full.outputCount)
            if let source = data.dy.pointer.baseAddress, let target = partial.pointer.baseAddress {
                target.update(from: source, count: g.outputCount)
            }
            data.dw.fill(.nan)
            data.db.fill(.nan)
            data.run(full, direction: .backwardWeights, algorithm: algorithm, outputGradient: partial, context: context)
            return Verify.compare("weightGradient", actual: data.dw.read, expected: expected, magnitude: magnitude,
                                  terms: full.batch)
                .and(Verify.compare("biasGradient", actual: data.db.read, expected: expectedBias,
                                    magnitude: magnitudeBias, terms: full.batch))
        }
    }
}
