// train-resnet: trains a small ResNet with batch norm and dropout on MNIST IDX files with ConvKit
// (the second training example; flags and output lines as train-lenet's). Recipe, the same as
// Tools/train-resnet-torch.py's: 28×28 digits padded by 2 to 32×32, scaled to [0, 1]; torchvision's
// ResNet with one basic block per stage, width 16 (16-32-64-128 channels), the small-image stem
// (3×3 stride-1 conv1, no max pooling) on one input channel, global average pooling, Dropout(0.2)
// before the 128 → 10 classifier; Adam lr 1e-3, batch 32, softmax cross-entropy; training mode
// (batch statistics, dropout) in the steps, evaluation mode (running statistics) for the accuracy.
import ArgumentParser
import ConvKit
import Foundation

@main
struct TrainResNet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-resnet",
        abstract: "Train a small ResNet (batch norm, dropout) on MNIST (IDX files) with ConvKit.",
        discussion: "Defaults to the MNIST subset bundled in Data/mnist-subset (run from the repository root).")

    @Option(help: "Training images (IDX, 28x28 uint8).")
    var trainImages = "Data/mnist-subset/mnist-subset-train-images.idx3-ubyte"
    @Option(help: "Training labels (IDX).")
    var trainLabels = "Data/mnist-subset/mnist-subset-train-labels.idx1-ubyte"
    @Option(help: "Test images (IDX).")
    var testImages = "Data/mnist-subset/mnist-subset-test-images.idx3-ubyte"
    @Option(help: "Test labels (IDX).")
    var testLabels = "Data/mnist-subset/mnist-subset-test-labels.idx1-ubyte"
    @Option(help: "Epochs (0 = only evaluate, e.g. a --load'ed checkpoint).")
    var epochs = 5
    @Option(help: "Images per batch.")
    var batchSize = 32
    @Option(help: "Adam learning rate.")
    var learningRate: Float = 1e-3
    @Option(help: "Seed of the initial weights, the shuffling and the dropout masks.")
    var seed: UInt64 = 0
    @Option(help: "Threads for ConvKit's loops and OpenBLAS.")
    var threads = 2
    @Option(help: "Write the trained weights and running statistics to this safetensors file.")
    var save: String?
    @Option(help: "Start from the weights in this safetensors file.")
    var load: String?
    @Flag(help: "No progress line on stderr.")
    var quiet = false

    /// The network: torchvision's keys (`conv1.weight`, `layer1.0.bn1.running_mean`, `fc.bias`).
    static func model(using generator: inout some RandomNumberGenerator) throws -> Sequential {
        try ResNet.make(block: .basic, blocks: [1, 1, 1, 1], classes: 10, stem: .smallImage, width: 16,
                        inputChannels: 1, dropout: 0.2, using: &generator)
    }

    func validate() throws {
        guard epochs >= 0 else { throw ValidationError("--epochs must be >= 0, got \(epochs)") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be >= 1, got \(batchSize)") }
        guard threads >= 1 else { throw ValidationError("--threads must be >= 1, got \(threads)") }
        guard learningRate > 0 && learningRate.isFinite else { throw ValidationError("--learning-rate must be > 0") }
    }

    func run() throws {
        let context = ComputeContext(threads: threads)
        let train = try MNIST.load(images: trainImages, labels: trainLabels, padding: 2)
        let test = try MNIST.load(images: testImages, labels: testLabels, padding: 2)
        guard Array(train.images.shape.dimensions.dropFirst()) == [1, 32, 32],
              Array(test.images.shape.dimensions.dropFirst()) == [1, 32, 32] else {
            throw ValidationError("expected 28x28 images (padded to 32x32), got \(train.images.shape) and \(test.images.shape)")
        }
        var rng = SplitMix64(seed: seed)
        var model = try Self.model(using: &rng)
        if let load { try model.loadCheckpoint(from: load) }
        var optimizer = Adam(learningRate: learningRate)
        let count = train.labels.count
        // layer4's maps are 4×4, so batch norm in training has at least 16 values per channel even
        // in a short last batch of one image.
        let batches = (count + batchSize - 1) / batchSize
        print("ResNet (basic 1-1-1-1, width 16, small stem, dropout 0.2; \(model.parameterCount) parameters) on \(count) training / "
              + "\(test.labels.count) test images; batch \(batchSize), Adam lr \(learningRate), seed \(seed), "
              + "\(threads) thread(s), OpenBLAS core \(BLAS.coreName)")
        if let load { print("loaded \(load)") }

        var order = Array(0..<count)
        let clock = ContinuousClock()
        for epoch in stride(from: 1, through: epochs, by: 1) {
            order.shuffle(using: &rng)
            let start = clock.now
            var lastReport = start
            var lossSum = 0.0
            for b in 0..<batches {
                let indices = order[(b * batchSize)..<min(count, (b + 1) * batchSize)]
                let x = try train.images.samples(indices)
                let y = indices.map { train.labels[$0] }
                do {
                    lossSum += Double(try model.trainStep(input: x, labels: y, optimizer: &optimizer, context: context,
                                                          seed: rng.next()))
                } catch {
                    throw StepFailure(message: "epoch \(epoch), batch \(b + 1) of \(batches): \(error)")
                }
                let now = clock.now
                if !quiet && (now - lastReport > .milliseconds(250) || b == batches - 1) {
                    lastReport = now
                    let seconds = Self.seconds(now - start)
                    let images = min(count, (b + 1) * batchSize)
                    Self.progress(String(format: "epoch %d: %d/%d batches, running loss %.4f, %.0f images/s",
                                         epoch, b + 1, batches, lossSum / Double(b + 1), Double(images) / max(seconds, 1e-9)))
                }
            }
            let seconds = Self.seconds(clock.now - start)
            if !quiet { Self.progress(nil) }
            let accuracy = try model.accuracy(images: test.images, labels: test.labels, context: context)
            print(String(format: "epoch %d: train loss %.4f, test accuracy %.4f, %.2f s (%.0f images/s)",
                         epoch, lossSum / Double(batches), accuracy, seconds, Double(count) / seconds))
        }
        if let save {
            try model.saveCheckpoint(to: save, metadata: ["model": "ResNet basic 1-1-1-1 w16 small stem, 1 channel",
                                                          "epochs": "\(epochs)", "seed": "\(seed)"])
            print("saved \(save)")
        }
        let accuracy = try model.accuracy(images: test.images, labels: test.labels, context: context)
        print(String(format: "test accuracy: %.4f", accuracy))
    }

    /// A training step that threw, with the epoch and batch where it happened.
    struct StepFailure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    /// Rewrites the progress line on stderr (`nil` clears it).
    static func progress(_ text: String?) {
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + (text ?? "")).utf8))
    }
}
