import ConvKit
import Foundation
import Testing
import _ConvKitTestSupport

/// The layer contract's state and mode: hierarchical keys (torchvision's `state_dict` layout),
/// buffers updated by training passes, saved and loaded with the parameters.
@Suite struct LayerStateTests {
    /// torchvision's `BasicBlock` layout: conv1, bn1, relu, conv2, bn2, downsample (a Sequential
    /// of a 1×1 convolution and a batch norm), then the residual sum and a ReLU.
    static func basicBlock(_ input: Int, _ output: Int, stride: Int, _ rng: inout SplitMix64) throws -> Graph {
        var g = Graph()
        let conv1 = try g.add(Conv2D(inputChannels: input, outputChannels: output, kernelSize: 3, stride: stride, padding: 1, using: &rng),
                              input: g.input, key: "conv1")
        let bn1 = try g.add(BatchNorm2D(channels: output), input: conv1, key: "bn1")
        let relu = try g.add(ReLU(), input: bn1, key: "relu")
        let conv2 = try g.add(Conv2D(inputChannels: output, outputChannels: output, kernelSize: 3, padding: 1, using: &rng),
                              input: relu, key: "conv2")
        let bn2 = try g.add(BatchNorm2D(channels: output), input: conv2, key: "bn2")
        var skip = g.input
        if stride != 1 || input != output {
            skip = try g.add(Sequential(try Conv2D(inputChannels: input, outputChannels: output, kernelSize: 1, stride: stride, using: &rng),
                                        try BatchNorm2D(channels: output)), input: g.input, key: "downsample")
        }
        let sum = try g.add(Add(), inputs: [bn2, skip], key: "add")
        try g.add(ReLU(), input: sum, key: "relu_out")
        return g
    }

    /// `[N, 1, 4, 4]` → conv1 4@4×4, bn1, relu, layer1 (two blocks, 8@2×2), flatten, fc 3.
    static func tinyResNet(seed: UInt64) throws -> Sequential {
        var rng = SplitMix64(seed: seed)
        return try Sequential(named: [
            "conv1": try Conv2D(inputChannels: 1, outputChannels: 4, kernelSize: 3, padding: 1, using: &rng),
            "bn1": try BatchNorm2D(channels: 4),
            "relu": ReLU(),
            "layer1": Sequential(try basicBlock(4, 8, stride: 2, &rng), try basicBlock(8, 8, stride: 1, &rng)),
            "flatten": Flatten(),
            "fc": try Dense(inputFeatures: 32, outputFeatures: 3, using: &rng),
        ])
    }

    @Test func nestedKeysAreTorchvisionStateDictKeys() throws {
        let model = try Self.tinyResNet(seed: 351)
        func block(_ b: Int, downsample: Bool) -> (parameters: [String], buffers: [String]) {
            let layers = ["conv1", "bn1", "conv2", "bn2"] + (downsample ? ["downsample.0", "downsample.1"] : [])
            let norms = ["bn1", "bn2"] + (downsample ? ["downsample.1"] : [])
            return (layers.flatMap { ["layer1.\(b).\($0).weight", "layer1.\(b).\($0).bias"] },
                    norms.flatMap { n in ["running_mean", "running_var", "num_batches_tracked"].map { "layer1.\(b).\(n).\($0)" } })
        }
        let (b0, b1) = (block(0, downsample: true), block(1, downsample: false))
        #expect(model.parameterNames == ["conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias"] + b0.parameters + b1.parameters
                + ["fc.weight", "fc.bias"])
        #expect(model.bufferNames == ["bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked"] + b0.buffers + b1.buffers)
        #expect(model.bufferNames.contains("layer1.0.downsample.1.running_var"))
        #expect(model.parameterNames.contains("layer1.0.downsample.0.weight"))
        #expect(model.stateNames == model.parameterNames + model.bufferNames)
        #expect(model.bufferKinds.filter { $0 == .integer }.count == 6)
        #expect(try model(randomTensor([2, 1, 4, 4], seed: 352)).shape == [2, 3])
    }

    @Test func trainingPassesReturnBufferUpdatesThatTrainStepApplies() throws {
        var model = try Self.tinyResNet(seed: 353)
        let x = randomTensor([4, 1, 4, 4], seed: 354)
        let before = model.buffers
        // A training forward pass leaves the model as it was; its cache carries the new statistics.
        let (y, cache) = try model.forward(x, mode: .training(seed: 1), context: .serial)
        #expect(model.buffers == before)
        #expect(model.bufferUpdates(in: cache).count == 18)
        #expect(y != (try model(x)))  // batch statistics differ from the initial running ones
        var applied = model
        try applied.applyBufferUpdates(from: cache)
        var adam = Adam(learningRate: 1e-3)
        _ = try model.trainStep(input: x, labels: [0, 1, 2, 0], optimizer: &adam, seed: 1)
        #expect(model.buffers == applied.buffers)
        let counters = zip(model.bufferNames, model.buffers).filter { $0.0.hasSuffix("num_batches_tracked") }
        #expect(counters.count == 6 && counters.allSatisfy { $0.1.scalars == [1] })
        let means = zip(model.bufferNames, model.buffers).filter { $0.0.hasSuffix("running_mean") }
        #expect(means.allSatisfy { $0.1.scalars.contains { $0 != 0 } })
        // An evaluation pass changes nothing.
        let (_, evaluation) = try model.forward(x, mode: .evaluation, context: .serial)
        #expect(model.bufferUpdates(in: evaluation).isEmpty)
    }

    @Test func refusedStepLeavesBuffersUntouchedAndNamesTheLayerByKey() throws {
        var model = try Self.tinyResNet(seed: 355)
        var adam = Adam()
        var x = randomTensor([2, 1, 4, 4], seed: 356)
        x[flat: 3] = .nan
        let before = model.buffers
        #expect(throws: TrainingError.self) { try model.trainStep(input: x, labels: [0, 1], optimizer: &adam) }
        #expect(model.buffers == before && adam.step == 0)
        let k = try #require(model.parameterNames.firstIndex(of: "layer1.1.conv2.weight"))
        model.updateParameters { i, p in if i == k { p[flat: 0] = .infinity } }
        let error = #expect(throws: TrainingError.self) {
            try model.trainStep(input: randomTensor([2, 1, 4, 4], seed: 357), labels: [0, 1], optimizer: &adam)
        }
        guard case .nonFinite(let found)? = error else { Issue.record("expected a non-finite error, got \(String(describing: error))"); return }
        #expect(found.layer == "layer1.1.conv2" && found.layerType == "Conv2D")
        #expect(model.buffers == before)
    }

    /// A gradient check through containers in training mode: batch norm (non-linear in the input)
    /// and channel dropout (fixed by the seed) inside a graph inside a Sequential.
    @Test func trainingModeGradientsThroughContainers() throws {
        var rng = SplitMix64(seed: 358)
        var g = Graph()
        let bn = try g.add(BatchNorm2D(channels: 2), input: g.input, key: "bn")
        let drop = try g.add(Dropout2D(probability: 0.5), input: bn, key: "drop")
        try g.add(Add(), inputs: [drop, g.input])
        let model = Sequential(g, try Conv2D(inputChannels: 2, outputChannels: 2, kernelSize: 3, padding: 1, using: &rng))
        let failures = try GradientCheck(step: 1e-2, tolerance: 5e-3, mode: .training(seed: 9))
            .run(model, input: randomTensor([3, 2, 3, 3], seed: 359), seed: 360)
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    @Test func inferenceAndAccuracyRunInEvaluationMode() throws {
        var rng = SplitMix64(seed: 361)
        let dense = try Dense(inputFeatures: 4, outputFeatures: 3, using: &rng)
        let model = Sequential(dense, try Dropout(probability: 1))
        let x = randomTensor([5, 4], seed: 362)
        #expect(try model(x) == dense(x))
        #expect(try model.forward(x, mode: .training(seed: 0), context: .serial).output.scalars.allSatisfy { $0 == 0 })
        let labels = try (0..<5).map { n in
            let row = try dense(x).scalars[(n * 3)..<(n * 3 + 3)]
            return try #require(row.firstIndex(of: row.max() ?? 0)) - n * 3
        }
        #expect(try model.accuracy(images: x, labels: labels) == 1)
    }

    @Test func checkpointsCarryBuffersAndIntegerCounters() throws {
        var model = try Self.tinyResNet(seed: 363)
        var sgd = SGD(learningRate: 0.1)
        for step in 0..<3 {
            _ = try model.trainStep(input: randomTensor([4, 1, 4, 4], seed: 364 + UInt64(step)), labels: [0, 1, 2, 1],
                                    optimizer: &sgd, seed: UInt64(step))
        }
        let path = temporaryPath("bn.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.saveCheckpoint(to: path)
        let file = try Safetensors(contentsOf: path)
        #expect(file.tensors.map(\.name) == model.stateNames)
        #expect(file.dataTypes == Dictionary(uniqueKeysWithValues: model.bufferNames.filter { $0.hasSuffix("num_batches_tracked") }.map { ($0, .i64) }))
        #expect(file["layer1.0.downsample.1.num_batches_tracked"]?.scalars == [3])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let header = String(decoding: bytes[8..<(8 + Int(bytes[0]) + Int(bytes[1]) << 8)], as: UTF8.self)
        #expect(header.contains(#""bn1.num_batches_tracked":{"dtype":"I64","shape":[],"#))

        var fresh = try Self.tinyResNet(seed: 999)
        try fresh.loadCheckpoint(from: path)
        #expect(fresh.parameters == model.parameters && fresh.buffers == model.buffers)
        let x = randomTensor([2, 1, 4, 4], seed: 368)
        #expect(try fresh(x) == model(x))
    }

    @Test func loadingRejectsMissingExtraAndMisshapenTensors() throws {
        let model = try Self.tinyResNet(seed: 369)
        var target = try Self.tinyResNet(seed: 370)
        let before = target.buffers
        var missing = model.checkpoint()
        missing.tensors.removeAll { $0.name == "layer1.0.bn2.running_var" }
        let lacks = #expect(throws: FileFormatError.self) { try target.loadParameters(from: missing) }
        #expect(lacks?.reason == .modelMismatch)
        #expect(lacks?.message == "checkpoint lacks tensor 'layer1.0.bn2.running_var' (shape [8])")
        var extra = model.checkpoint()
        extra.tensors.append(("layer1.0.bn3.running_var", Tensor.zeros([8])))
        let unknown = #expect(throws: FileFormatError.self) { try target.loadParameters(from: extra) }
        #expect(unknown?.reason == .modelMismatch)
        #expect(unknown?.message == "checkpoint holds tensor 'layer1.0.bn3.running_var' that the model does not have (pass strict: false to ignore)")
        var misshapen = model.checkpoint()
        if let k = misshapen.tensors.firstIndex(where: { $0.name == "bn1.num_batches_tracked" }) { misshapen.tensors[k].tensor = Tensor([1]) }
        let shape = #expect(throws: FileFormatError.self) { try target.loadParameters(from: misshapen) }
        #expect(shape?.message == "checkpoint tensor 'bn1.num_batches_tracked' has shape [1], the model expects []")
        var fractional = model.checkpoint()
        if let k = fractional.tensors.firstIndex(where: { $0.name == "bn1.num_batches_tracked" }) {
            fractional.tensors[k].tensor = Tensor(shape: [], repeating: 1.5)
        }
        #expect((#expect(throws: FileFormatError.self) { try target.loadParameters(from: fractional) })?.reason == .invalidValue)
        #expect(target.buffers == before)
        try target.loadParameters(from: extra, strict: false)
        #expect(target.parameters == model.parameters)
    }

    @Test func childKeysAreValidated() throws {
        let twice = #expect(throws: ShapeError.self) { try Sequential(named: ["a": ReLU(), "a": Flatten()]) }
        #expect(twice?.message == "Sequential child key 'a' is given twice")
        let dotted = #expect(throws: ShapeError.self) { try Sequential(named: ["a.b": ReLU()]) }
        #expect(dotted?.message == "Sequential child key 'a.b' must be non-empty and contain no '.'")
        #expect((#expect(throws: ShapeError.self) { try Sequential(named: ["": ReLU()]) })?.reason == .invalidValue)
        var g = Graph()
        let a = try g.add(ReLU(), input: g.input, key: "2")
        let clash = #expect(throws: ShapeError.self) { try g.add(ReLU(), input: a) }  // node 2's index key is taken
        #expect(clash?.message == "Graph key '2' is already used (graph node 2)")
        #expect((#expect(throws: ShapeError.self) { try g.add(ReLU(), input: a, key: "x..y") })?.reason == .invalidValue)
        #expect((#expect(throws: ShapeError.self) { try g.add(ReLU(), input: a, key: "2.y") })?.reason == .invalidValue)
        #expect(g.key(of: a) == "2" && g.nodeCount == 2)
        // A dotted path names a member of a block without a container of its own (a U-Net's up1).
        let b = try g.add(try BatchNorm2D(channels: 1), input: a, key: "x.y")
        #expect(g.key(of: b) == "x.y" && g.bufferNames.first == "x.y.running_mean")
        let prefix = #expect(throws: ShapeError.self) { try g.add(ReLU(), input: b, key: "x") }
        #expect(prefix?.message == "Graph key 'x' and key 'x.y' would name the same parameters (one is a path prefix of the other; graph node 3)")
    }

    @Test func bufferUpdatesFromAnotherModelAreRefused() throws {
        let small = try BatchNorm2D(channels: 2)
        var large = try BatchNorm2D(channels: 3)
        let (_, cache) = try small.forward(randomTensor([2, 2, 2, 2], seed: 371), mode: .training(seed: 0), context: .serial)
        let error = #expect(throws: ShapeError.self) { try large.applyBufferUpdates(from: cache) }
        #expect(error?.message == "update of buffer running_mean has shape [2], expected [3]")
        #expect(large.runningMean.scalars == [0, 0, 0])
    }

    /// A mode fixed per part of a model: a batch norm kept in evaluation inside a training pass,
    /// another kept in training inside an evaluation pass; names are those of the wrapped layers.
    @Test func fixedModeOverridesTheCallersPhase() throws {
        var frozen = try BatchNorm2D(channels: 2)
        frozen.runningMean = Tensor([0.5, -0.5])
        let model = try Sequential(named: [
            "frozen": FixedMode(frozen, isTraining: false),
            "live": FixedMode(try BatchNorm2D(channels: 2), isTraining: true),
        ])
        #expect(model.bufferNames.prefix(2) == ["frozen.running_mean", "frozen.running_var"])
        let x = randomTensor([3, 2, 2, 2], seed: 372)
        let (y, cache) = try model.forward(x, mode: .training(seed: 4), context: .serial)
        // Only the live batch norm reports new statistics (buffers 3, 4, 5 of the model).
        #expect(model.bufferUpdates(in: cache).map(\.index) == [3, 4, 5])
        let expectedFrozen = try frozen(x)
        let live = try BatchNorm2D(channels: 2).forward(expectedFrozen, mode: .training(seed: 0), context: .serial).output
        #expect(y == live)
        #expect(try model(x) == live)  // evaluation call: the live part still uses batch statistics
        let failures = try GradientCheck(step: 1e-2, tolerance: 5e-3).run(model, input: x, seed: 373)
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    /// The example of docs/LayerAPI.md, with a temporary path for the checkpoint.
    @Test func layerAPIDocumentationExample() throws {
        let path = temporaryPath("model.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var rng = SplitMix64(seed: 0)
        var model = try Sequential(named: [
            "conv": try Conv2D(inputChannels: 1, outputChannels: 8, kernelSize: 3, padding: 1, using: &rng),
            "bn": try BatchNorm2D(channels: 8),                        // momentum 0.1, eps 1e-5, affine, tracked
            "relu": ReLU(),
            "pool": try MaxPool2D(window: 2),
            "flatten": Flatten(),
            "drop": try Dropout(probability: 0.5),
            "fc": try Dense(inputFeatures: 8 * 14 * 14, outputFeatures: 10, using: &rng),
        ])
        let context = ComputeContext(threads: 2)
        var adam = Adam(learningRate: 1e-3)
        let x = Tensor(shape: [32, 1, 28, 28], uniformIn: 0...1, using: &rng)
        let labels = (0..<32).map { $0 % 10 }

        // Training mode: batch statistics, running statistics updated, dropout drawn from the seed.
        let loss = try model.trainStep(input: x, labels: labels, optimizer: &adam, context: context, seed: rng.next())

        // The same step by hand: the new running statistics travel in the cache.
        let (logits, cache) = try model.forward(x, mode: .training(seed: rng.next()), context: context)
        let (_, dLogits) = try Loss.softmaxCrossEntropy(logits: logits, labels: labels, context: context)
        let (_, gradients) = try model.backward(dLogits, cache: cache, context: context)
        try adam.update(&model, gradients: gradients)
        try model.applyBufferUpdates(from: cache)

        // Evaluation mode: running statistics, no dropout.
        let predictions = try model(x, context: context)

        try model.saveCheckpoint(to: path)          // bn.num_batches_tracked written as I64
        try model.loadCheckpoint(from: path)        // strict: missing/extra/misshapen keys throw
        #expect(model.stateNames == ["conv.weight", "conv.bias", "bn.weight", "bn.bias", "fc.weight", "fc.bias",
                                     "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"])
        #expect(loss.isFinite && predictions.shape == [32, 10])
        #expect((model.layers[1] as? BatchNorm2D)?.numBatchesTracked.scalars == [2])
        #expect(try Safetensors(contentsOf: path).dataTypes == ["bn.num_batches_tracked": .i64])
    }
}
