import ConvKit
import Testing
import _ConvKitTestSupport

/// BatchNorm1D / BatchNorm2D: values against PyTorch's formulas computed here in Double,
/// running-statistics rules, gradients by finite differences in both modes, errors.
@Suite struct BatchNormTests {
    /// `x` `[2, 2, 1, 2]`: channel 0 holds {1, 2, 5, 8} (mean 4, biased variance 7.5, unbiased 10),
    /// channel 1 holds {−1, −1, 1, 1} (mean 0, biased 1, unbiased 4/3).
    static let x = Tensor(shape: [2, 2, 1, 2]).replacingScalars([1, 2, -1, -1, 5, 8, 1, 1])

    @Test func trainingForwardAndRunningStatisticsFollowPyTorch() throws {
        var bn = try BatchNorm2D(channels: 2)
        bn.weight = Tensor([2, 0.5])
        bn.bias = Tensor([1, -1])
        let (y, cache) = try bn.forward(Self.x, mode: .training(seed: 0), context: .serial)
        let mean = [4.0, 0.0], variance = [7.5, 1.0], weight = [2.0, 0.5], bias = [1.0, -1.0]
        for i in 0..<8 {
            let c = (i / 2) % 2
            let expected = weight[c] * (Double(Self.x[flat: i]) - mean[c]) / (variance[c] + 1e-5).squareRoot() + bias[c]
            #expect(abs(Double(y[flat: i]) - expected) <= 1e-6 * (1 + abs(expected)), "element \(i)")
        }
        // Nothing changes until the updates are applied; then running = 0.9·running + 0.1·batch
        // with the unbiased variance, and one batch is counted.
        #expect(bn.runningMean.scalars == [0, 0] && bn.numBatchesTracked.scalars == [0])
        try bn.applyBufferUpdates(from: cache)
        #expect(bn.runningMean.scalars == [0.4, 0])
        #expect(abs(bn.runningVariance[flat: 0] - 1.9) < 1e-6)
        #expect(abs(bn.runningVariance[flat: 1] - Float(0.9 + 0.1 * 4.0 / 3.0)) < 1e-6)
        #expect(bn.numBatchesTracked.shape == [] && bn.numBatchesTracked.scalars == [1])
        #expect(bn.bufferNames == ["running_mean", "running_var", "num_batches_tracked"])
        #expect(bn.bufferKinds == [.floatingPoint, .floatingPoint, .integer])
        #expect(bn.parameterNames == ["weight", "bias"])
    }

    @Test func evaluationUsesRunningStatistics() throws {
        var bn = try BatchNorm2D(channels: 2, epsilon: 1e-3)
        bn.weight = Tensor([2, 0.5])
        bn.bias = Tensor([1, -1])
        bn.runningMean = Tensor([3, -1])
        bn.runningVariance = Tensor([4, 0.25])
        let y = try bn(Self.x)
        #expect(try bn.forward(Self.x, context: .serial).output == y)  // the mode-less forward is evaluation
        let (_, cache) = try bn.forward(Self.x, mode: .evaluation, context: .serial)
        #expect(cache.updates.isEmpty)
        let mean = [3.0, -1.0], variance = [4.0, 0.25], weight = [2.0, 0.5], bias = [1.0, -1.0]
        for i in 0..<8 {
            let c = (i / 2) % 2
            let expected = weight[c] * (Double(Self.x[flat: i]) - mean[c]) / (variance[c] + 1e-3).squareRoot() + bias[c]
            #expect(abs(Double(y[flat: i]) - expected) <= 1e-6 * (1 + abs(expected)), "element \(i)")
        }
    }

    @Test func cumulativeAverageWithoutMomentum() throws {
        var bn = try BatchNorm1D(channels: 1, momentum: nil)
        let a = Tensor(shape: [4, 1]).replacingScalars([1, 2, 3, 6])   // mean 3, unbiased 14/3
        let b = Tensor(shape: [4, 1]).replacingScalars([-1, 1, -1, 1])  // mean 0, unbiased 4/3
        for batch in [a, b] {
            let (_, cache) = try bn.forward(batch, mode: .training(seed: 0), context: .serial)
            try bn.applyBufferUpdates(from: cache)
        }
        #expect(bn.numBatchesTracked.scalars == [2])
        #expect(abs(bn.runningMean[flat: 0] - 1.5) < 1e-6)
        #expect(abs(bn.runningVariance[flat: 0] - Float((14.0 / 3 + 4.0 / 3) / 2)) < 1e-6)
    }

    @Test func withoutRunningStatisticsBothModesUseTheBatch() throws {
        let bn = try BatchNorm2D(channels: 2, affine: false, trackRunningStatistics: false)
        #expect(bn.parameters.isEmpty && bn.buffers.isEmpty && bn.bufferNames.isEmpty)
        let (train, cache) = try bn.forward(Self.x, mode: .training(seed: 0), context: .serial)
        #expect(cache.updates.isEmpty)
        #expect(try bn(Self.x) == train)
        #expect(abs(train[flat: 0] - Float(-3 / (7.5 + 1e-5).squareRoot())) < 1e-6)
    }

    /// Training mode is a non-linear function of the input (through the batch statistics):
    /// step 1e-2, tolerance 5e-3 (see NonlinearLayerGradientTests). Evaluation mode is affine:
    /// exact differences with step 0.5, tolerance 2e-3.
    @Test func gradientsByFiniteDifferences() throws {
        var bn2 = try BatchNorm2D(channels: 3)
        bn2.weight = randomTensor([3], seed: 301, in: 0.5...1.5)
        bn2.bias = randomTensor([3], seed: 302)
        bn2.runningMean = randomTensor([3], seed: 303)
        bn2.runningVariance = randomTensor([3], seed: 304, in: 0.5...2)
        let images = randomTensor([2, 3, 3, 4], seed: 305)
        let training = GradientCheck(step: 1e-2, tolerance: 5e-3, mode: .training(seed: 0))
        let evaluation = GradientCheck(step: 0.5, tolerance: 2e-3)
        for (name, failures) in [
            ("2d training", try training.run(bn2, input: images, seed: 306)),
            ("2d evaluation", try evaluation.run(bn2, input: images, seed: 307)),
            ("2d not affine", try training.run(try BatchNorm2D(channels: 3, affine: false), input: images, seed: 308)),
            ("1d [N, C]", try training.run(try BatchNorm1D(channels: 5), input: randomTensor([4, 5], seed: 309), seed: 310)),
            ("1d [N, C, L]", try training.run(try BatchNorm1D(channels: 3), input: randomTensor([2, 3, 7], seed: 311), seed: 312)),
            ("1d untracked, evaluation", try GradientCheck(step: 1e-2, tolerance: 5e-3)
                .run(try BatchNorm1D(channels: 3, trackRunningStatistics: false), input: randomTensor([3, 3], seed: 313), seed: 314)),
        ] {
            #expect(failures.isEmpty, "\(name): \(failures.prefix(5))")
        }
    }

    /// In training the input gradient of each channel sums to zero (the mean is subtracted),
    /// and the bias gradient is the channel sum of dy.
    @Test func trainingGradientStructure() throws {
        let bn = try BatchNorm2D(channels: 3)
        let x = randomTensor([4, 3, 2, 2], seed: 321), dy = randomTensor([4, 3, 2, 2], seed: 322)
        let (_, cache) = try bn.forward(x, mode: .training(seed: 0), context: .serial)
        let (dx, dθ) = try bn.backward(dy, cache: cache, context: .serial)
        for c in 0..<3 {
            var sum = 0.0, dySum = 0.0
            for n in 0..<4 { for p in 0..<4 { sum += Double(dx[flat: (n * 3 + c) * 4 + p]); dySum += Double(dy[flat: (n * 3 + c) * 4 + p]) } }
            #expect(abs(sum) < 1e-5, "channel \(c)")
            #expect(abs(Double(dθ[1][flat: c]) - dySum) < 1e-5)
        }
    }

    @Test func sameResultAtEveryThreadCount() throws {
        let bn = try BatchNorm2D(channels: 8)
        let x = randomTensor([3, 8, 9, 7], seed: 331), dy = randomTensor([3, 8, 9, 7], seed: 332)
        func run(_ context: ComputeContext) throws -> [Tensor] {
            let (y, cache) = try bn.forward(x, mode: .training(seed: 0), context: context)
            let (dx, dθ) = try bn.backward(dy, cache: cache, context: context)
            return [y, dx] + dθ + cache.updates.map(\.value)
        }
        #expect(try run(.serial) == run(ComputeContext(threads: 2, minimumElementsPerThread: 1)))
    }

    @Test func badInputIsATypedError() throws {
        let bn = try BatchNorm2D(channels: 3)
        let channels = #expect(throws: ShapeError.self) { try bn(Tensor.zeros([1, 2, 4, 4])) }
        #expect(channels?.message == "BatchNorm2D input of shape [1, 2, 4, 4] has channels = 2, expected 3")
        let rank = #expect(throws: ShapeError.self) { try bn(Tensor.zeros([3, 4, 4])) }
        #expect(rank?.reason == .mismatch)
        let rank1d = #expect(throws: ShapeError.self) { try BatchNorm1D(channels: 3)(Tensor.zeros([1, 3, 2, 2])) }
        #expect(rank1d?.message == "BatchNorm1D input must have rank 2 or 3 ([batch, channels] or [batch, channels, length]), got shape [1, 3, 2, 2]")
        // One value per channel: fine in evaluation, an error in training (PyTorch: "Expected more
        // than 1 value per channel when training").
        let single = Tensor.zeros([1, 3, 1, 1])
        #expect(try bn(single).shape == [1, 3, 1, 1])
        let one = #expect(throws: ShapeError.self) { try bn.forward(single, mode: .training(seed: 0), context: .serial) }
        #expect(one?.reason == .invalidValue)
        #expect(one?.message == "BatchNorm2D expected more than 1 value per channel when using batch statistics, got input shape [1, 3, 1, 1]")
        #expect(try BatchNorm1D(channels: 4)(Tensor.zeros([1, 4])).shape == [1, 4])
        for (make, reason) in [({ () throws(ShapeError) in _ = try BatchNorm2D(channels: 0) }, ShapeError.Reason.nonPositive),
                               ({ () throws(ShapeError) in _ = try BatchNorm2D(channels: 2, epsilon: 0) }, .invalidValue),
                               ({ () throws(ShapeError) in _ = try BatchNorm2D(channels: 2, momentum: 1.5) }, .invalidValue),
                               ({ () throws(ShapeError) in _ = try BatchNorm1D(channels: 2, momentum: .nan) }, .invalidValue)] {
            #expect((#expect(throws: ShapeError.self) { try make() })?.reason == reason)
        }
        var resized = bn
        resized.runningMean = Tensor([1, 2])
        let state = #expect(throws: ShapeError.self) { try resized(Tensor.zeros([2, 3, 2, 2])) }
        #expect(state?.message == "BatchNorm2D running_mean has shape [2], expected [3]")
        let (_, cache) = try bn.forward(Tensor.zeros([2, 3, 2, 2]), context: .serial)
        let gradient = #expect(throws: ShapeError.self) { try bn.backward(Tensor.zeros([2, 3, 2, 3]), cache: cache, context: .serial) }
        #expect(gradient?.message == "BatchNorm2D output gradient has shape [2, 3, 2, 3], expected [2, 3, 2, 2]")
    }
}
