import ConvKit
import Testing
import _ConvKitTestSupport

/// Dropout and Dropout2D: inverted scaling, identity in evaluation, seeded masks (same seed, same
/// mask at every thread count), the backward pass through the cached mask, errors.
@Suite struct DropoutTests {
    @Test func trainingMaskIsInvertedAndSeeded() throws {
        let dropout = try Dropout(probability: 0.3)
        let x = Tensor(shape: [4, 25_000], repeating: 2)
        let (y, cache) = try dropout.forward(x, mode: .training(seed: 7), context: .serial)
        let kept = Float(2) / (1 - 0.3)
        #expect(y.scalars.allSatisfy { $0 == 0 || $0 == kept })
        let dropped = Double(y.scalars.filter { $0 == 0 }.count) / Double(y.count)
        // 100,000 draws with p = 0.3: standard deviation √(p(1−p)/n) ≈ 0.0014; 0.01 is 7σ.
        #expect(abs(dropped - 0.3) < 0.01, "dropped fraction \(dropped)")
        #expect(cache.mask?.scalars.allSatisfy { $0 == 0 || $0 == 1 / (1 - Float(0.3)) } == true)
        // Same seed: same mask, at one thread or several; another seed: another mask.
        #expect(try dropout.forward(x, mode: .training(seed: 7), context: .serial).output == y)
        #expect(try dropout.forward(x, mode: .training(seed: 7), context: ComputeContext(threads: 2, minimumElementsPerThread: 1)).output == y)
        #expect(try dropout.forward(x, mode: .training(seed: 8), context: .serial).output != y)
    }

    @Test func evaluationIsTheIdentity() throws {
        let x = randomTensor([3, 5], seed: 341)
        for layer in [try Dropout(probability: 0.5), try Dropout(probability: 1)] {
            #expect(try layer(x) == x)
            let (y, cache) = try layer.forward(x, mode: .evaluation, context: .serial)
            #expect(y == x && cache.mask == nil)
            #expect(try layer.backward(x, cache: cache, context: .serial).inputGradient == x)
        }
        #expect(try Dropout(probability: 0).forward(x, mode: .training(seed: 1), context: .serial).output == x)
        // p = 1 drops everything, as in PyTorch.
        #expect(try Dropout(probability: 1).forward(x, mode: .training(seed: 1), context: .serial).output.scalars.allSatisfy { $0 == 0 })
    }

    @Test func backwardUsesTheForwardMask() throws {
        let dropout = try Dropout(probability: 0.4)
        let x = randomTensor([2, 3, 4, 5], seed: 342), dy = randomTensor([2, 3, 4, 5], seed: 343)
        let (_, cache) = try dropout.forward(x, mode: .training(seed: 11), context: .serial)
        let dx = try dropout.backward(dy, cache: cache, context: .serial).inputGradient
        let mask = try #require(cache.mask)
        #expect(dx.scalars == zip(dy.scalars, mask.scalars).map { $0 * $1 })
        // The layer is linear in x for a fixed mask: exact differences (step 0.5).
        let check = GradientCheck(step: 0.5, tolerance: 2e-3, maxChecksPerTensor: 200, mode: .training(seed: 11))
        let failures = try check.run(dropout, input: x, seed: 344)
        #expect(failures.isEmpty, "\(failures.prefix(5))")
        let channelFailures = try check.run(try Dropout2D(probability: 0.5), input: x, seed: 345)
        #expect(channelFailures.isEmpty, "\(channelFailures.prefix(5))")
    }

    @Test func dropout2dZeroesWholeChannels() throws {
        let dropout = try Dropout2D(probability: 0.5)
        let x = randomTensor([4, 8, 3, 3], seed: 346, in: 1...2)  // no zeros in the input
        let (y, cache) = try dropout.forward(x, mode: .training(seed: 3), context: .serial)
        #expect(cache.mask?.shape == [4, 8])
        var droppedPlanes = 0
        for plane in 0..<32 {
            let values = (0..<9).map { y[flat: plane * 9 + $0] }
            let inputs = (0..<9).map { x[flat: plane * 9 + $0] }
            if values.allSatisfy({ $0 == 0 }) { droppedPlanes += 1 } else { #expect(values == inputs.map { $0 * 2 }, "plane \(plane)") }
        }
        #expect(droppedPlanes > 0 && droppedPlanes < 32)
        let rank = #expect(throws: ShapeError.self) { try dropout(Tensor.zeros([2, 3, 4])) }
        #expect(rank?.message == "Dropout2D input must have rank 4 ([batch, channels, height, width]), got shape [2, 3, 4]")
    }

    @Test func probabilityOutsideTheUnitIntervalIsATypedError() {
        for p: Float in [-0.1, 1.5, .nan, .infinity] {
            let error = #expect(throws: ShapeError.self) { try Dropout(probability: p) }
            #expect(error?.reason == .invalidValue)
            #expect((#expect(throws: ShapeError.self) { try Dropout2D(probability: p) })?.reason == .invalidValue)
        }
        #expect((#expect(throws: ShapeError.self) { try Dropout(probability: 2) })?.message == "Dropout probability must lie in [0, 1], got 2.0")
    }

    /// Two dropout layers of one model draw different masks from one call seed (the seed is
    /// mixed with each layer's key), and the same call seed repeats them.
    @Test func layersOfOneModelGetDifferentStreams() throws {
        let model = Sequential(try Dropout(probability: 0.5), Flatten(), try Dropout(probability: 0.5))
        let x = Tensor(shape: [1, 1000], repeating: 1)
        let (_, cache) = try model.forward(x, mode: .training(seed: 5), context: .serial)
        let first = try #require((cache[0] as? Dropout.Cache)?.mask), second = try #require((cache[2] as? Dropout.Cache)?.mask)
        #expect(first != second)
        let (_, again) = try model.forward(x, mode: .training(seed: 5), context: .serial)
        #expect((again[0] as? Dropout.Cache)?.mask == first)
        let mode = ForwardMode.training(seed: 5)
        #expect(mode.child("0") != mode.child("2") && mode.child("0") == mode.child("0"))
        #expect(ForwardMode.evaluation.child("0") == .evaluation)
    }
}
