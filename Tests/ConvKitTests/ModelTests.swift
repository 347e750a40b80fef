import ConvKit
import Testing
import _ConvKitTestSupport

@Suite struct ModelTests {
    @Test func leNet5ShapesAndParameterCount() throws {
        var rng = SplitMix64(seed: 131)
        let model = try LeNet5.make(using: &rng)
        // 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706 (by layer, see LeNet5.parameterCount).
        #expect(model.parameterCount == 61_706)
        #expect(LeNet5.parameterCount() == 61_706)
        #expect(model.parameterNames == ["0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias",
                                         "9.weight", "9.bias", "11.weight", "11.bias"])
        let x = randomTensor([2, 1, 32, 32], seed: 132, in: 0...1)
        let (y, caches) = try model.forward(x, context: .serial)
        #expect(y.shape == [2, 10])
        #expect(caches.count == 12)
        let c1 = try (model.layers[0] as? Conv2D)?.outputShape(for: x.shape)
        #expect(c1 == [2, 6, 28, 28])
        let wrong = #expect(throws: ShapeError.self) { try model(Tensor.zeros([2, 1, 28, 28])) }
        #expect(wrong?.message == "Dense input of shape [2, 256] has features = 256, expected 400")
    }

    @Test func alexNet2012ShapesAndParameterCount() throws {
        var rng = SplitMix64(seed: 133)
        let model = try AlexNet2012.make(initializer: .zeros, using: &rng)
        // 34,944 + 614,656 + 885,120 + 1,327,488 + 884,992 + 37,752,832 + 16,781,312 + 4,097,000
        // = 62,378,344 (by layer, see AlexNet2012.parameterCount).
        #expect(model.parameterCount == 62_378_344)
        #expect(AlexNet2012.parameterCount() == 62_378_344)
        let x = Tensor(shape: [1, 3, 227, 227], repeating: 0.5)
        var shape = x.shape
        var shapes: [Shape] = []
        for layer in model.layers.prefix(13) {  // the convolutional part, shapes only
            if let conv = layer as? Conv2D { shape = try conv.outputShape(for: shape); shapes.append(shape) }
            if let pool = layer as? MaxPool2D {
                let g = try pool.geometry(for: shape)
                shape = try Shape([g.batch, g.channels, g.outputHeight, g.outputWidth]); shapes.append(shape)
            }
        }
        #expect(shapes == [[1, 96, 55, 55], [1, 96, 27, 27], [1, 256, 27, 27], [1, 256, 13, 13],
                           [1, 384, 13, 13], [1, 384, 13, 13], [1, 256, 13, 13], [1, 256, 6, 6]])
        // Zero weights: the logits are the (zero) biases of the last layer.
        #expect(try model(x).shape == [1, 1000])
    }
}

@Suite struct TrainingSmokeTests {
    /// LeNet-5 on the first 512 bundled MNIST images for 4 epochs (~0.5 s alone): the mean loss of the
    /// last epoch must fall below 60% of the first's, and the same seed must give the same weights.
    @Test func leNetLossDecreasesAndIsReproducible() throws {
        let dir = repositoryRoot + "/Data/mnist-subset"
        let data = try MNIST.load(images: dir + "/mnist-subset-train-images.idx3-ubyte",
                                  labels: dir + "/mnist-subset-train-labels.idx1-ubyte", padding: 2)
        let images = try data.images.samples(0..<512), labels = Array(data.labels.prefix(512))
        func train(seed: UInt64, context: ComputeContext) throws -> (losses: [Double], model: Sequential) {
            var rng = SplitMix64(seed: seed)
            var model = try LeNet5.make(using: &rng)
            var adam = Adam(learningRate: 1e-3)
            var losses: [Double] = []
            for _ in 0..<4 {
                var order = Array(0..<512)
                order.shuffle(using: &rng)
                var sum = 0.0
                for b in 0..<16 {
                    let batch = order[(b * 32)..<((b + 1) * 32)]
                    sum += Double(try model.trainStep(input: images.samples(batch), labels: batch.map { labels[$0] },
                                                      optimizer: &adam, context: context))
                }
                losses.append(sum / 16)
            }
            return (losses, model)
        }
        let context = ComputeContext(threads: 2)
        let first = try train(seed: 5, context: context)
        #expect(first.losses[3] < 0.6 * first.losses[0], "losses \(first.losses)")
        let second = try train(seed: 5, context: context)
        #expect(second.model.parameters == first.model.parameters)
        #expect(try first.model.accuracy(images: images, labels: labels) > 0.5)
    }
}
