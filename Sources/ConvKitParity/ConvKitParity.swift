// convkit-parity: one training step of a torchvision-layout model on a checkpoint and a batch
// written by PyTorch (Tools/parity/parity.py), for the comparison of `make parity`.
//
// Loads the checkpoint with no renaming (strict), runs the forward pass in the chosen mode, the
// softmax cross-entropy loss and the backward pass, and writes the logits, the loss, the input
// gradient and every parameter gradient (`grad.<name>`) to --output, and the model with the
// buffer updates of the pass applied (running statistics) to --checkpoint-output.
import ArgumentParser
import ConvKit

@main
struct ConvKitParity: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convkit-parity",
        abstract: "One forward/backward pass of a torchvision-layout model on a PyTorch checkpoint.")

    enum Model: String, ExpressibleByArgument { case resnet, vgg, alexnet }
    enum Mode: String, ExpressibleByArgument { case training, evaluation }
    enum Stem: String, ExpressibleByArgument { case imagenet, small }

    @Option(help: "resnet, vgg or alexnet.")
    var model: Model
    @Option(help: "ResNet: 18, 34, 50; VGG: 11, 16.")
    var depth = 18
    @Option(help: "Output classes.")
    var classes = 10
    @Option(help: "Width of the first stage (ResNet, VGG: 64 is torchvision's).")
    var width = 64
    @Option(help: "ResNet stem: imagenet or small.")
    var stem: Stem = .imagenet
    @Option(help: "Hidden width of the classifier (VGG, AlexNet: 4096 is torchvision's).")
    var hidden = 4096
    @Flag(help: "VGG without batch norm.")
    var noBatchNorm = false
    @Option(help: "The model's weights and buffers (safetensors, PyTorch state_dict keys).")
    var weights: String
    @Option(help: "Safetensors file with `input` [N, 3, H, W] and `labels` [N].")
    var batch: String
    @Option(help: "training or evaluation.")
    var mode: Mode = .training
    @Option(help: "Seed of the training pass (dropout masks).")
    var seed: UInt64 = 0
    @Option(help: "Threads for ConvKit's loops.")
    var threads = 1
    @Option(help: "Convolution algorithm of every Conv2D (a Conv2DAlgorithm name; default automatic).")
    var convolution = "automatic"
    @Option(help: "Where to write logits, loss and gradients (safetensors).")
    var output: String
    @Option(help: "Where to write the model after the pass's buffer updates (safetensors).")
    var checkpointOutput: String?

    func run() throws {
        var rng = SplitMix64(seed: 0)
        guard let algorithm = Conv2DAlgorithm(rawValue: convolution) else {
            throw ValidationError("unknown convolution algorithm \(convolution)")
        }
        var network: Sequential
        switch model {
        case .resnet:
            network = try ResNet.make(depth: depth, classes: classes, stem: stem == .imagenet ? .imageNet : .smallImage,
                                      width: width, convolution: algorithm, using: &rng)
        case .vgg:
            network = try VGG.make(depth: depth, batchNorm: !noBatchNorm, classes: classes, width: width,
                                   hiddenFeatures: hidden, convolution: algorithm, using: &rng)
        case .alexnet:
            network = try AlexNet.make(classes: classes, hiddenFeatures: hidden, convolution: algorithm, using: &rng)
        }
        try network.loadCheckpoint(from: weights)
        let data = try Safetensors(contentsOf: batch)
        guard let input = data["input"], let labelTensor = data["labels"] else {
            throw ValidationError("\(batch) must hold tensors 'input' and 'labels'")
        }
        let labels = labelTensor.scalars.map { Int($0) }
        let context = ComputeContext(threads: threads)
        let forwardMode: ForwardMode = mode == .training ? .training(seed: seed) : .evaluation
        let (logits, cache) = try network.forward(input, mode: forwardMode, context: context)
        let (loss, dLogits) = try Loss.softmaxCrossEntropy(logits: logits, labels: labels, context: context)
        let (dx, gradients) = try network.backward(dLogits, cache: cache, context: context)
        var tensors: [(name: String, tensor: Tensor)] = [
            ("logits", logits), ("loss", Tensor([loss])), ("input_gradient", dx),
        ]
        for (name, g) in zip(network.parameterNames, gradients) { tensors.append(("grad.\(name)", g)) }
        try Safetensors(tensors: tensors).write(to: output)
        if let checkpointOutput {
            try network.applyBufferUpdates(from: cache)
            try network.saveCheckpoint(to: checkpointOutput)
        }
    }
}
