// convkit-parity: one training step of a reference-layout model (torchvision's, the U-Net and
// CycleGAN references') on a checkpoint and a batch written by PyTorch (Tools/parity/parity.py),
// for the comparison of `make parity`.
//
// Loads the checkpoint with no renaming (strict), runs the forward pass in the chosen mode, the
// loss (softmax cross-entropy against `labels`, or for the image-to-image models the mean squared
// error against `target`) and the backward pass, and writes the output (`logits`), the loss, the
// input gradient and every parameter gradient (`grad.<name>`) to --output, and the model with
// the buffer updates of the pass applied (running statistics) to --checkpoint-output.
import ArgumentParser
import ConvKit

@main
struct ConvKitParity: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convkit-parity",
        abstract: "One forward/backward pass of a torchvision-layout model on a PyTorch checkpoint.")

    enum Model: String, ExpressibleByArgument { case resnet, vgg, alexnet, mobilenetv2, unet, cyclegan }
    enum LossKind: String, ExpressibleByArgument { case crossEntropy = "cross-entropy", mse }
    enum Mode: String, ExpressibleByArgument { case training, evaluation }
    enum Stem: String, ExpressibleByArgument { case imagenet, small }

    @Option(help: "resnet, vgg, alexnet, mobilenetv2, unet or cyclegan.")
    var model: Model
    @Option(help: "ResNet: 18, 34, 50; VGG: 11, 16.")
    var depth = 18
    @Option(help: "Output classes (U-Net: output channels).")
    var classes = 10
    @Option(help: "Width of the first stage (ResNet, VGG: 64 is torchvision's; U-Net: base width; CycleGAN: ngf).")
    var width = 64
    @Option(help: "MobileNetV2 width multiplier.")
    var widthMultiplier = 1.0
    @Option(help: "CycleGAN generator: residual blocks (n_blocks).")
    var blocks = 9
    @Option(help: "Input channels (U-Net, CycleGAN).")
    var inputChannels = 3
    @Option(help: "cross-entropy (against `labels`) or mse (against `target`).")
    var loss: LossKind = .crossEntropy
    @Option(help: "ResNet stem: imagenet or small.")
    var stem: Stem = .imagenet
    @Option(help: "Hidden width of the classifier (VGG, AlexNet: 4096 is torchvision's).")
    var hidden = 4096
    @Flag(help: "VGG without batch norm.")
    var noBatchNorm = false
    @Option(help: "The model's weights and buffers (safetensors, PyTorch state_dict keys).")
    var weights: String
    @Option(help: "Safetensors file with `input` [N, C, H, W] and `labels` [N] (cross-entropy) or `target` (mse).")
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
        let network: any Layer
        switch model {
        case .resnet:
            network = try ResNet.make(depth: depth, classes: classes, stem: stem == .imagenet ? .imageNet : .smallImage,
                                      width: width, convolution: algorithm, using: &rng)
        case .vgg:
            network = try VGG.make(depth: depth, batchNorm: !noBatchNorm, classes: classes, width: width,
                                   hiddenFeatures: hidden, convolution: algorithm, using: &rng)
        case .alexnet:
            network = try AlexNet.make(classes: classes, hiddenFeatures: hidden, convolution: algorithm, using: &rng)
        case .mobilenetv2:
            network = try MobileNetV2.make(classes: classes, widthMultiplier: widthMultiplier, convolution: algorithm, using: &rng)
        case .unet:
            network = try UNet.make(inputChannels: inputChannels, classes: classes, width: width, convolution: algorithm, using: &rng)
        case .cyclegan:
            network = try CycleGANGenerator.make(inputChannels: inputChannels, outputChannels: classes, filters: width,
                                                 residualBlocks: blocks, convolution: algorithm, using: &rng)
        }
        try step(network)
    }

    /// Loads, runs one pass and writes the results (see the file comment).
    func step<L: Layer>(_ initial: L) throws {
        var network = initial
        try network.loadCheckpoint(from: weights)
        let data = try Safetensors(contentsOf: batch)
        guard let input = data["input"] else { throw ValidationError("\(batch) must hold a tensor 'input'") }
        let context = ComputeContext(threads: threads)
        let forwardMode: ForwardMode = mode == .training ? .training(seed: seed) : .evaluation
        let (prediction, cache) = try network.forward(input, mode: forwardMode, context: context)
        let result: (loss: Float, gradient: Tensor)
        switch loss {
        case .crossEntropy:
            guard let labelTensor = data["labels"] else { throw ValidationError("\(batch) must hold a tensor 'labels'") }
            result = try Loss.softmaxCrossEntropy(logits: prediction, labels: labelTensor.scalars.map { Int($0) },
                                                  context: context)
        case .mse:
            guard let target = data["target"] else { throw ValidationError("\(batch) must hold a tensor 'target'") }
            result = try Loss.meanSquaredError(prediction: prediction, target: target, context: context)
        }
        let (value, dOutput) = result
        let (dx, gradients) = try network.backward(dOutput, cache: cache, context: context)
        var tensors: [(name: String, tensor: Tensor)] = [
            ("logits", prediction), ("loss", Tensor([value])), ("input_gradient", dx),
        ]
        for (name, g) in zip(network.parameterNames, gradients) { tensors.append(("grad.\(name)", g)) }
        try Safetensors(tensors: tensors).write(to: output)
        if let checkpointOutput {
            try network.applyBufferUpdates(from: cache)
            try network.saveCheckpoint(to: checkpointOutput)
        }
    }
}
