import ConvKit
import Foundation
import Testing
import _ConvKitTestSupport

/// Bit patterns, so that NaN payloads and signed zeros compare exactly.
private func bits(_ tensors: [Tensor]) -> [[UInt32]] { tensors.map { $0.scalars.map(\.bitPattern) } }

/// The `NonFiniteError` of a refused step, or `nil` when the step did something else.
private func refusal(_ body: () throws(TrainingError) -> Float) -> NonFiniteError? {
    do {
        _ = try body()
        return nil
    } catch {
        if case .nonFinite(let e) = error { return e }
        return nil
    }
}

@Suite struct NonFiniteTrainingTests {
    /// The probe: one NaN pixel in a LeNet-5 batch made the Adam step turn 15,466
    /// parameters into NaN. Now the step is refused, names conv1's output, leaves parameters and
    /// Adam's state bit-for-bit as they were, and the next clean step trains normally.
    @Test func leNetNaNPixelIsRefusedAndNamesFirstLayer() throws {
        var rng = SplitMix64(seed: 171)
        var model = try LeNet5.make(using: &rng)
        var adam = Adam(learningRate: 1e-3)
        let x = randomTensor([32, 1, 32, 32], seed: 172, in: 0...1)
        let labels = (0..<32).map { $0 % 10 }
        _ = try model.trainStep(input: x, labels: labels, optimizer: &adam)  // Adam has moments now
        let parameters = bits(model.parameters)
        let (m, v, step) = (bits(adam.firstMoments), bits(adam.secondMoments), adam.step)

        var poisoned = x
        poisoned[flat: 5 * 1024 + 10 * 32 + 10] = .nan  // image 5, row 10, column 10
        let error = refusal { () throws(TrainingError) in try model.trainStep(input: poisoned, labels: labels, optimizer: &adam) }
        #expect(error?.stage == .output)
        #expect(error?.layer == "0")
        #expect(error?.layerType == "Conv2D")
        #expect(error?.elementCount == 32 * 6 * 28 * 28)
        // An interior pixel reaches 5×5 outputs in each of 6 channels (Winograd tiles spread it further).
        #expect((error?.count ?? 0) >= 150)
        #expect(error.map { "\($0)".hasPrefix("NonFiniteError: output of layer 0 (Conv2D) has ") } == true)
        #expect(bits(model.parameters) == parameters)
        #expect(bits(adam.firstMoments) == m && bits(adam.secondMoments) == v && adam.step == step)

        let loss = try model.trainStep(input: x, labels: labels, optimizer: &adam)
        #expect(loss.isFinite)
        #expect(adam.step == step + 1)
        #expect(model.parameters.allSatisfy { $0.isFinite })
        #expect(bits(model.parameters) != parameters)
    }

    /// Without the check the old behaviour remains available: the NaN reaches the parameters.
    @Test func checkFiniteFalseLetsTheUpdateThrough() throws {
        var rng = SplitMix64(seed: 173)
        var model = try LeNet5.make(using: &rng)
        var adam = Adam(learningRate: 1e-3)
        var x = randomTensor([4, 1, 32, 32], seed: 174, in: 0...1)
        x[flat: 100] = .nan
        let loss = try model.trainStep(input: x, labels: [0, 1, 2, 3], optimizer: &adam, checkFinite: false)
        #expect(loss.isNaN)
        #expect(model.parameters.contains { !$0.isFinite })
    }

    /// `h = 1e-36·x`, logits `= ±1e38·h`: forward and loss are finite, conv-free. The gradient
    /// reaching layer 0 is ≈ 2e38 (finite), its weight gradient `2e38 · 10` overflows.
    @Test func parameterGradientIsNamedByItsCheckpointKey() throws {
        var model = Sequential(try Dense(weight: Tensor(shape: [1, 1], scalars: [1e-37]), bias: Tensor([0])),
                               try Dense(weight: Tensor(shape: [2, 1], scalars: [-1e38, 1e38]), bias: Tensor([0, 0])))
        var sgd = SGD(learningRate: 0.1, momentum: 0.9)
        let before = bits(model.parameters)
        let x = try Tensor(shape: [1, 1], scalars: [10])
        let error = refusal { () throws(TrainingError) in try model.trainStep(input: x, labels: [0], optimizer: &sgd) }
        #expect(error == NonFiniteError(stage: .parameterGradient, layer: "0", layerType: "Dense", tensor: "0.weight",
                                        count: 1, elementCount: 1))
        #expect(error?.description == "NonFiniteError: gradient of 0.weight in layer 0 (Dense) has 1 non-finite value of 1")
        #expect(bits(model.parameters) == before)
        #expect(sgd.velocities.isEmpty)
    }

    /// Same network with `h = 1e-30`, weights ±3e38: layer 1's input gradient `3e38 + 3e38` overflows
    /// while its own parameter gradients stay finite.
    @Test func inputGradientOverflowIsReported() throws {
        var model = Sequential(try Dense(weight: Tensor(shape: [1, 1], scalars: [1e-30]), bias: Tensor([0])),
                               try Dense(weight: Tensor(shape: [2, 1], scalars: [-3e38, 3e38]), bias: Tensor([0, 0])))
        var adam = Adam()
        let error = refusal { () throws(TrainingError) in
            try model.trainStep(input: Tensor(shape: [1, 1], repeating: 1), labels: [0], optimizer: &adam)
        }
        #expect(error == NonFiniteError(stage: .inputGradient, layer: "1", layerType: "Dense", count: 1, elementCount: 1))
        #expect(adam.step == 0 && adam.firstMoments.isEmpty)
    }

    /// A NaN weight inside a graph nested in a Sequential: the path is "<index>.<node>".
    @Test func nestedGraphNodeIsNamedByItsPath() throws {
        var rng = SplitMix64(seed: 175)
        var g = Graph()
        let z1 = try g.add(Dense(inputFeatures: 4, outputFeatures: 4, using: &rng), input: g.input)
        let z2 = try g.add(ReLU(), input: z1)
        try g.add(Add(), inputs: [z2, g.input])
        var model = Sequential(try Dense(inputFeatures: 3, outputFeatures: 4, using: &rng), g,
                               try Dense(inputFeatures: 4, outputFeatures: 2, using: &rng))
        model.updateParameters { i, p in if i == 2 { p[flat: 5] = .nan } }  // "1.1.weight"
        #expect(model.parameterNames[2] == "1.1.weight")
        var sgd = SGD(learningRate: 0.1)
        let error = refusal { () throws(TrainingError) in
            try model.trainStep(input: randomTensor([3, 3], seed: 176), labels: [0, 1, 0], optimizer: &sgd)
        }
        #expect(error?.stage == .output && error?.layer == "1.1" && error?.layerType == "Dense")
        #expect(error?.count == 3 && error?.elementCount == 12)  // one output feature in each of 3 rows
    }

    @Test func shapeErrorsStayShapeErrors() throws {
        var rng = SplitMix64(seed: 177)
        var model = try Dense(inputFeatures: 3, outputFeatures: 2, using: &rng)
        var sgd = SGD(learningRate: 0.1)
        do {
            _ = try model.trainStep(input: Tensor.zeros([2, 3]), labels: [0, 2], optimizer: &sgd)
            Issue.record("expected a label error")
        } catch {
            guard case .shape(let e) = error else { Issue.record("got \(error)"); return }
            #expect(e.message == "softmax cross-entropy: label 1 is 2, expected 0..<2")
        }
    }

    @Test func nonFiniteCountAndIsFinite() throws {
        var t = Tensor.zeros([67])  // two 32-lane blocks and a tail of 3
        #expect(t.isFinite && t.nonFiniteCount == 0)
        for (i, v) in [(0, Float.nan), (40, .infinity), (66, -.infinity)] {
            var u = t
            u[flat: i] = v
            #expect(!u.isFinite && u.nonFiniteCount == 1, "element \(i) = \(v)")
        }
        t[flat: 3] = .greatestFiniteMagnitude
        t[flat: 4] = -.greatestFiniteMagnitude
        t[flat: 5] = .leastNonzeroMagnitude
        #expect(t.isFinite)
        #expect(Tensor.zeros([0]).isFinite)
    }
}

@Suite struct NonFiniteAccuracyTests {
    /// `Flatten` passes the "images" through, so each row is the logits. Before: a NaN row
    /// counted as class 0 (comparisons with NaN are false), a NaN before the largest value
    /// did not stop it from winning.
    @Test func nonFiniteRowsCountAsWrong() throws {
        let logits = try Tensor(shape: [6, 3], scalars: [
            .nan, 0, 0,        // label 0: wrong (was counted right)
            0, .nan, 5,        // label 2: wrong (was counted right)
            1, 0, 0,           // label 0: right
            .infinity, 0, 0,   // label 0: wrong
            0, 0, 1,           // label 2: right
            0, 1, -.infinity,  // label 1: wrong
        ])
        let accuracy = try Flatten().accuracy(images: logits, labels: [0, 2, 0, 0, 2, 1], batchSize: 4)
        #expect(accuracy == 2.0 / 6.0)
    }

    /// The probe: a LeNet-5 whose parameters are all NaN scored 0.125; it scores 0.
    @Test func nanModelScoresZero() throws {
        var rng = SplitMix64(seed: 178)
        var model = try LeNet5.make(using: &rng)
        model.updateParameters { _, p in p = Tensor(shape: p.shape, repeating: .nan) }
        let x = randomTensor([16, 1, 32, 32], seed: 179, in: 0...1)
        #expect(try model.accuracy(images: x, labels: (0..<16).map { $0 % 10 }) == 0)
    }
}

@Suite struct NonFiniteCheckpointTests {
    @Test func savingNonFiniteParametersIsRefusedAndKeepsTheOldFile() throws {
        var rng = SplitMix64(seed: 180)
        var model = try LeNet5.make(using: &rng)
        let path = temporaryPath("nonfinite.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.saveCheckpoint(to: path)
        let saved = try Data(contentsOf: URL(fileURLWithPath: path))

        model.updateParameters { i, p in if i == 2 { p[flat: 7] = .nan; p[flat: 8] = .infinity } }  // 3.weight
        let error = #expect(throws: FileFormatError.self) { try model.saveCheckpoint(to: path) }
        #expect(error?.reason == .invalidValue)
        #expect(error?.message == "parameter '3.weight' has 2 non-finite values of 2400; not saved to '\(path)' "
                + "(pass allowNonFinite: true to save it anyway)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == saved)

        try model.saveCheckpoint(to: path, allowNonFinite: true)
        var loaded = try LeNet5.make(initializer: .zeros, using: &rng)
        try loaded.loadCheckpoint(from: path)  // loading accepts what was saved on purpose
        #expect(bits(loaded.parameters) == bits(model.parameters))
    }

    @Test func refusedSaveCreatesNoFile() throws {
        var layer = try Dense(weight: Tensor(shape: [1, 2], scalars: [1, .nan]), bias: Tensor([0]))
        let path = temporaryPath("never.safetensors")
        #expect(throws: FileFormatError.self) { try layer.saveCheckpoint(to: path) }
        #expect(!FileManager.default.fileExists(atPath: path))
        layer.updateParameters { _, p in p = Tensor.zeros(p.shape) }
        try layer.saveCheckpoint(to: path)
        #expect(FileManager.default.fileExists(atPath: path))
        try? FileManager.default.removeItem(atPath: path)
    }
}
