import ConvKit
import Testing
import _ConvKitTestSupport

/// InstanceNorm2D, ConvTranspose2D, AdaptiveMaxPool2D, Concat, Upsample and the padding layers:
/// values and gradients against PyTorch (``TorchReference``), naive against simd, thread
/// counts, finite differences, typed errors.
@Suite struct InstanceNormTests {
    @Test func affineMatchesPyTorch() throws {
        var norm = try InstanceNorm2D(channels: 3, affine: true)
        norm.weight = Tensor([1.5, -0.5, 2])
        norm.bias = Tensor([0.25, 1, -1])
        let x = gen([2, 3, 2, 3])
        let (y, cache) = try norm.forward(x, mode: .training(seed: 1), context: .serial)
        expectClose(y.scalars, TorchReference.instancenormY, 1e-5, "forward")
        let (dx, dθ) = try norm.backward(probe(y.shape), cache: cache, context: .serial)
        expectClose(dx.scalars, TorchReference.instancenormDx, 1e-5, "input gradient")
        expectClose(dθ[0].scalars, TorchReference.instancenormDw, 1e-5, "weight gradient")
        expectClose(dθ[1].scalars, TorchReference.instancenormDb, 1e-5, "bias gradient")
        #expect(try norm(x) == y)                       // evaluation uses the instance statistics too
        #expect(try norm.forward(x, context: twoThreads).output == y)
        #expect(norm.parameterNames == ["weight", "bias"] && norm.buffers.isEmpty)
        #expect(try InstanceNorm2D(channels: 3).parameters.isEmpty)
    }

    /// Non-linear through the statistics: step 1e-2, tolerance 5e-3.
    @Test func gradientsByFiniteDifferences() throws {
        var affine = try InstanceNorm2D(channels: 2, affine: true)
        affine.weight = Tensor([0.7, -1.3])
        affine.bias = Tensor([0.1, 0.2])
        for layer in [affine, try InstanceNorm2D(channels: 2)] {
            let failures = try GradientCheck(step: 1e-2, tolerance: 5e-3).run(layer, input: randomTensor([3, 2, 3, 4], seed: 521), seed: 522)
            #expect(failures.isEmpty, "\(failures.prefix(5))")
        }
    }

    @Test func badInputIsATypedError() throws {
        let norm = try InstanceNorm2D(channels: 3)
        #expect((#expect(throws: ShapeError.self) { try norm(Tensor.zeros([1, 2, 4, 4])) })?.message
            == "InstanceNorm2D input of shape [1, 2, 4, 4] has channels = 2, expected 3")
        #expect((#expect(throws: ShapeError.self) { try norm(Tensor.zeros([3, 4, 4])) })?.reason == .mismatch)
        #expect((#expect(throws: ShapeError.self) { try norm(Tensor.zeros([2, 3, 1, 1])) })?.reason == .invalidValue)
        #expect((#expect(throws: ShapeError.self) { try InstanceNorm2D(channels: 0) })?.reason == .nonPositive)
        #expect((#expect(throws: ShapeError.self) { try InstanceNorm2D(channels: 2, epsilon: 0) })?.reason == .invalidValue)
    }
}

@Suite struct ConvTranspose2DTests {
    /// ct1: 4 → 6 channels, 3×3, stride 2, padding 1, output padding 1, groups 2 (3×4 → 6×8).
    /// ct2: 2 → 3 channels, 2×2, stride 1, dilation 2, output padding 1 (≥ the stride: the
    /// convolution sees one more row and column of zeros).
    static func layer(_ tag: Int, _ algorithm: Conv2DAlgorithm) throws -> ConvTranspose2D {
        if tag == 1 {
            return try ConvTranspose2D(weight: gen([4, 3, 3, 3], 13, 19, 9, 16), bias: gen([6], 3, 5, 2, 4), stride: (2, 2),
                                       padding: (1, 1), outputPadding: (1, 1), groups: 2, algorithm: algorithm)
        }
        return try ConvTranspose2D(weight: gen([2, 3, 2, 2], 13, 19, 9, 16), bias: gen([3], 3, 5, 2, 4),
                                   outputPadding: (1, 1), dilation: (2, 2), algorithm: algorithm)
    }

    @Test(arguments: [Conv2DAlgorithm.naive, .im2col, .im2colImageParallel, .winograd, .direct, .depthwise, .automatic])
    func matchesPyTorch(algorithm: Conv2DAlgorithm) throws {
        let cases: [(Shape, Shape, [Float], [Float], [Float], [Float])] = [
            ([2, 4, 3, 4], [2, 6, 6, 8], TorchReference.ct1Y, TorchReference.ct1Dx, TorchReference.ct1Dw, TorchReference.ct1Db),
            ([2, 2, 3, 3], [2, 3, 6, 6], TorchReference.ct2Y, TorchReference.ct2Dx, TorchReference.ct2Dw, TorchReference.ct2Db)]
        for (k, (inputShape, outputShape, y, dx, dw, db)) in cases.enumerated() {
            let layer = try Self.layer(k + 1, algorithm)
            for context in [ComputeContext.serial, twoThreads] {
                let (out, cache) = try layer.forward(gen(inputShape), context: context)
                #expect(out.shape == outputShape)
                expectClose(out.scalars, y, 1e-5, "ct\(k + 1) forward")
                let (gx, gθ) = try layer.backward(probe(outputShape), cache: cache, context: context)
                #expect(gx.shape == inputShape)
                expectClose(gx.scalars, dx, 1e-5, "ct\(k + 1) input gradient")
                expectClose(gθ[0].scalars, dw, 1e-5, "ct\(k + 1) weight gradient")
                expectClose(gθ[1].scalars, db, 1e-5, "ct\(k + 1) bias gradient")
            }
        }
    }

    /// Linear in the input and in the weights: exact differences with step 0.5.
    @Test func gradientsByFiniteDifferences() throws {
        var rng = SplitMix64(seed: 531)
        let noBias = try ConvTranspose2D(inputChannels: 3, outputChannels: 2, kernelSize: 3, stride: 2, padding: 1, bias: false, using: &rng)
        #expect(noBias.parameterNames == ["weight"] && noBias.weight.shape == [3, 2, 3, 3])
        for layer in [try Self.layer(1, .automatic), try Self.layer(2, .automatic), noBias] {
            let input = randomTensor([2, layer.inputChannels, 3, 3], seed: 532)
            let failures = try GradientCheck(step: 0.5, tolerance: 2e-3).run(layer, input: input, seed: 533)
            #expect(failures.isEmpty, "\(failures.prefix(5))")
        }
    }

    @Test func badInputIsATypedError() throws {
        let w = Tensor.zeros([4, 2, 3, 3])
        let tooMuch = #expect(throws: ShapeError.self) { try ConvTranspose2D(weight: w, bias: nil, stride: (2, 2), outputPadding: (2, 0)) }
        #expect(tooMuch?.message == "ConvTranspose2D output padding (2, 0) must be smaller than either stride (2, 2) or dilation (1, 1)")
        #expect((#expect(throws: ShapeError.self) { try ConvTranspose2D(weight: w, bias: nil, outputPadding: (1, 1)) })?.reason == .invalidValue)
        #expect((#expect(throws: ShapeError.self) { try ConvTranspose2D(weight: w, bias: nil, groups: 3) })?.reason == .invalidValue)
        #expect((#expect(throws: ShapeError.self) { try ConvTranspose2D(weight: w, bias: Tensor.zeros([3])) })?.reason == .mismatch)
        #expect((#expect(throws: ShapeError.self) { try ConvTranspose2D(weight: Tensor.zeros([4, 2, 3]), bias: nil) })?.reason == .mismatch)
        #expect((#expect(throws: ShapeError.self) { try ConvTranspose2D(weight: w, bias: nil, padding: (-1, 0)) })?.reason == .nonPositive)
        let layer = try ConvTranspose2D(weight: w, bias: nil, padding: (3, 3))
        #expect((#expect(throws: ShapeError.self) { try layer(Tensor.zeros([1, 3, 4, 4])) })?.message
            == "ConvTranspose2D input of shape [1, 3, 4, 4] has channels = 3, expected 4")
        // (1 − 1)·1 − 2·3 + 1·2 + 0 + 1 = −3 rows.
        #expect((#expect(throws: ShapeError.self) { try layer(Tensor.zeros([1, 4, 1, 1])) })?.reason == .nonPositive)
        var reshaped = try ConvTranspose2D(weight: w, bias: nil)
        reshaped.weight = Tensor.zeros([4, 2, 2, 2])
        #expect((#expect(throws: ShapeError.self) { try reshaped(Tensor.zeros([1, 4, 4, 4])) })?.reason == .mismatch)
    }
}

@Suite struct AdaptiveMaxPool2DTests {
    @Test(arguments: PoolingAlgorithm.allCases)
    func matchesPyTorch(algorithm: PoolingAlgorithm) throws {
        for (input, size, y, dx) in [(gen([1, 2, 5, 7]), (3, 2), TorchReference.ampY, TorchReference.ampDx),
                                     (gen([1, 1, 2, 3]), (3, 4), TorchReference.ampUpY, TorchReference.ampUpDx)] {
            let pool = try AdaptiveMaxPool2D(outputSize: size, algorithm: algorithm)
            let (out, cache) = try pool.forward(input, context: .serial)
            #expect(out.scalars == y)
            #expect(try pool.backward(probe(out.shape), cache: cache, context: .serial).inputGradient.scalars == dx)
        }
        // Ties go to the first maximum in row-major order.
        let (_, cache) = try AdaptiveMaxPool2D(outputSize: 1, algorithm: algorithm).forward(Tensor(shape: [1, 1, 2, 2], repeating: 3), context: .serial)
        #expect(cache.indices == [0])
    }

    @Test func naiveSIMDAndThreadsAgree() throws {
        let x = randomTensor([3, 5, 17, 13], seed: 541)
        let simd = try AdaptiveMaxPool2D(outputSize: (5, 4)), naive = try AdaptiveMaxPool2D(outputSize: (5, 4), algorithm: .naive)
        let (a, ca) = try simd.forward(x, context: .serial), (b, cb) = try simd.forward(x, context: twoThreads)
        let (c, cc) = try naive.forward(x, context: .serial)
        #expect(a == b && a == c && ca.indices == cb.indices && ca.indices == cc.indices)
        let dy = randomTensor(a.shape, seed: 542)
        let g = try simd.backward(dy, cache: ca, context: .serial).inputGradient
        #expect(g == (try simd.backward(dy, cache: ca, context: twoThreads).inputGradient))
        #expect(g == (try naive.backward(dy, cache: cc, context: .serial).inputGradient))
    }

    @Test func gradientsByFiniteDifferences() throws {
        let x = NonlinearLayerGradientTests.distinct([2, 2, 7, 5], seed: 543)
        for size in [(1, 1), (3, 2), (4, 7)] {
            let failures = try GradientCheck(step: 1e-2, tolerance: 5e-3).run(try AdaptiveMaxPool2D(outputSize: size), input: x, seed: 544)
            #expect(failures.isEmpty, "\(size): \(failures.prefix(5))")
        }
    }

    @Test func badInputIsATypedError() throws {
        #expect((#expect(throws: ShapeError.self) { try AdaptiveMaxPool2D(outputSize: 0) })?.reason == .nonPositive)
        #expect((#expect(throws: ShapeError.self) { try AdaptiveMaxPool2D(outputSize: 2)(Tensor.zeros([2, 4, 4])) })?.reason == .mismatch)
        #expect((#expect(throws: ShapeError.self) { try AdaptiveMaxPool2D(outputSize: 2)(Tensor.zeros([1, 1, 0, 4])) })?.reason == .nonPositive)
    }
}

@Suite struct ConcatTests {
    @Test func channelsAndFeatures() throws {
        let a = gen([2, 1, 2, 2]), b = gen([2, 2, 2, 2], 5, 7, 3, 1)
        for context in [ComputeContext.serial, twoThreads] {
            let (y, cache) = try Concat().forward([a, b], context: context)
            #expect(y.shape == [2, 3, 2, 2])
            for n in 0..<2 {
                #expect(Array(y.scalars[(n * 12)..<(n * 12 + 4)]) == Array(a.scalars[(n * 4)..<(n * 4 + 4)]))
                #expect(Array(y.scalars[(n * 12 + 4)..<(n * 12 + 12)]) == Array(b.scalars[(n * 8)..<(n * 8 + 8)]))
            }
            // Backward splits the gradient: splitting the output gives back the inputs.
            let pieces = try Concat().backward(y, cache: cache, context: context)
            #expect(pieces == [a, b])
        }
        let (f, _) = try Concat().forward([gen([3, 2]), gen([3, 5]), gen([3, 1])], context: .serial)
        #expect(f.shape == [3, 8] && Array(f.scalars[8..<10]) == Array(gen([3, 2]).scalars[2..<4]))
    }

    /// A U-Net-style skip: x → (ReLU6, SiLU) → concat, checked by finite differences through a Graph.
    @Test func gradientThroughAGraph() throws {
        var graph = Graph()
        let left = try graph.add(ReLU6(), input: graph.input, key: "left")
        let right = try graph.add(SiLU(), input: graph.input, key: "right")
        _ = try graph.add(Concat(), inputs: [graph.input, left, right], key: "cat")
        let x = randomTensor([2, 3, 3, 2], seed: 551, in: 0.1...5)
        #expect(try graph(x).shape == [2, 9, 3, 2])
        let failures = try GradientCheck(step: 1e-2, tolerance: 5e-3).run(graph, input: x, seed: 552)
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    @Test func mismatchedShapesAreTypedErrors() throws {
        let error = #expect(throws: ShapeError.self) { try Concat().forward([Tensor.zeros([2, 3, 4, 4]), Tensor.zeros([2, 1, 4, 5])], context: .serial) }
        #expect(error?.message == "Concat input 1 has shape [2, 1, 4, 5], expected [2, 3, 4, 4] in every axis but 1 (input 0)")
        #expect((#expect(throws: ShapeError.self) { try Concat().forward([Tensor.zeros([2, 3, 4, 4]), Tensor.zeros([2, 3, 16])], context: .serial) })?.reason == .mismatch)
        #expect((#expect(throws: ShapeError.self) { try Concat().forward([], context: .serial) })?.reason == .invalidValue)
        #expect((#expect(throws: ShapeError.self) { try Concat().forward([Tensor.zeros([4])], context: .serial) })?.reason == .mismatch)
        let (_, cache) = try Concat().forward([Tensor.zeros([1, 2]), Tensor.zeros([1, 3])], context: .serial)
        #expect((#expect(throws: ShapeError.self) { try Concat().backward(Tensor.zeros([1, 4]), cache: cache, context: .serial) })?.reason == .mismatch)
    }
}

@Suite struct UpsampleTests {
    static let modes: [(Upsample.Mode, [Float], [Float])] = [
        (.nearest, TorchReference.nearestY, TorchReference.nearestDx),
        (.bilinear(alignCorners: false), TorchReference.bilinearY, TorchReference.bilinearDx),
        (.bilinear(alignCorners: true), TorchReference.bilinearACY, TorchReference.bilinearACDx)]

    @Test(arguments: ResamplingAlgorithm.allCases)
    func matchesPyTorch(algorithm: ResamplingAlgorithm) throws {
        for (mode, y, dx) in Self.modes {
            let layer = try Upsample(scaleFactor: (2, 3), mode: mode, algorithm: algorithm)
            let (out, cache) = try layer.forward(gen([1, 2, 3, 4]), context: .serial)
            #expect(out.shape == [1, 2, 6, 12])
            expectClose(out.scalars, y, 1e-6, "\(mode) forward")
            expectClose(try layer.backward(probe(out.shape), cache: cache, context: .serial).inputGradient.scalars, dx, 1e-6, "\(mode) backward")
        }
    }

    @Test func naiveSIMDAndThreadsAgreeBitForBit() throws {
        let x = randomTensor([2, 3, 9, 7], seed: 561)
        for (mode, _, _) in Self.modes {
            let simd = try Upsample(scaleFactor: (3, 2), mode: mode), naive = try Upsample(scaleFactor: (3, 2), mode: mode, algorithm: .naive)
            let y = try simd.forward(x, context: .serial).output
            let y2 = try simd.forward(x, context: twoThreads).output, yn = try naive(x)
            #expect(y == y2 && y == yn)
            let dy = randomTensor(y.shape, seed: 562)
            let g = try simd.backward(dy, cache: x.shape, context: .serial).inputGradient
            #expect(g == (try simd.backward(dy, cache: x.shape, context: twoThreads).inputGradient))
            #expect(g == (try naive.backward(dy, cache: x.shape, context: .serial).inputGradient))
            // Linear: exact differences with step 0.5.
            let failures = try GradientCheck(step: 0.5, tolerance: 2e-3).run(simd, input: randomTensor([1, 2, 3, 4], seed: 563), seed: 564)
            #expect(failures.isEmpty, "\(mode): \(failures.prefix(5))")
        }
    }

    @Test func badInputIsATypedError() throws {
        #expect((#expect(throws: ShapeError.self) { try Upsample(scaleFactor: 0) })?.reason == .nonPositive)
        #expect((#expect(throws: ShapeError.self) { try Upsample(scaleFactor: 2)(Tensor.zeros([2, 3, 4])) })?.reason == .mismatch)
    }
}

@Suite struct Pad2DTests {
    static func layers(_ algorithm: ResamplingAlgorithm) throws -> [(String, any Layer, [Float], [Float])] {
        [("reflection", try ReflectionPad2D((3, 1, 2, 0), algorithm: algorithm), TorchReference.reflectY, TorchReference.reflectDx),
         ("replication", try ReplicationPad2D((3, 1, 2, 0), algorithm: algorithm), TorchReference.replicateY, TorchReference.replicateDx),
         ("zero", try ZeroPad2D((3, 1, 2, 0), algorithm: algorithm), TorchReference.zeroY, TorchReference.zeroDx)]
    }

    @Test(arguments: ResamplingAlgorithm.allCases)
    func matchesPyTorch(algorithm: ResamplingAlgorithm) throws {
        for (name, layer, y, dx) in try Self.layers(algorithm) {
            let (out, cache) = try layer.forward(gen([1, 2, 3, 4]), context: .serial)
            #expect(out.shape == [1, 2, 5, 8], "\(name)")
            #expect(out.scalars == y, "\(name) forward")
            expectClose(try layer.backwardErased(probe(out.shape), cache: cache).scalars, dx, 1e-6, "\(name) backward")
        }
    }

    @Test func naiveSIMDAndThreadsAgreeBitForBit() throws {
        let x = randomTensor([2, 3, 6, 5], seed: 571)
        for ((name, simd, _, _), (_, naive, _, _)) in zip(try Self.layers(.simd), try Self.layers(.naive)) {
            let (y, cache) = try simd.forward(x, context: .serial)
            let y2 = try simd.forward(x, context: twoThreads).output, yn = try naive.forward(x, context: .serial).output
            #expect(y == y2 && y == yn, "\(name)")
            let dy = randomTensor(y.shape, seed: 572)
            let g = try simd.backwardErased(dy, cache: cache)
            let g2 = try simd.backwardErased(dy, cache: cache, context: twoThreads), gn = try naive.backwardErased(dy, cache: cache)
            #expect(g == g2 && g == gn, "\(name)")
            let failures = try GradientCheck(step: 0.5, tolerance: 2e-3).runErased(simd, input: x, seed: 573)
            #expect(failures.isEmpty, "\(name): \(failures.prefix(5))")
        }
    }

    @Test func badInputIsATypedError() throws {
        let tooLarge = #expect(throws: ShapeError.self) { try ReflectionPad2D(3)(Tensor.zeros([1, 1, 3, 5])) }
        #expect(tooLarge?.message == "ReflectionPad2D pads (left 3, right 3, top 3, bottom 3) must be smaller than the input size 3 x 5 (input shape [1, 1, 3, 5])")
        #expect((#expect(throws: ShapeError.self) { try ZeroPad2D((-1, 0, 0, 0)) })?.reason == .nonPositive)
        #expect((#expect(throws: ShapeError.self) { try ReplicationPad2D((0, 0, -2, 0)) })?.reason == .nonPositive)
        #expect((#expect(throws: ShapeError.self) { try ZeroPad2D(1)(Tensor.zeros([3, 4, 4])) })?.reason == .mismatch)
        #expect(try ReplicationPad2D(5)(Tensor(shape: [1, 1, 1, 1], repeating: 2)).scalars == Array(repeating: 2, count: 121))
    }
}
