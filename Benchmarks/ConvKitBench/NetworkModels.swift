import ConvKit

// Everything `--suite networks` asks of ConvKit's layer API is in this file: building a model
// (`NetworkSession.init`), one training step (`train`) and one inference (`infer`). A planned-execution
// API replaces these three and nothing else.

/// One network of the networks suite at one batch size, as plain values (`--print-suite` hands
/// them to `Benchmarks/compare/networks.py`, which builds the same architecture in PyTorch).
struct NetworkSpec: Codable, Sendable, Hashable {
    /// Row name (`resnet18`); `--filter` takes it, or `name/batch` for one batch (`resnet18/16`).
    var name: String
    /// Architecture: `lenet5`, `alexnet`, `resnet`, `vgg`, `mobilenetv2` or `cyclegan`.
    var model: String
    /// ResNet and VGG depth.
    var depth: Int? = nil
    /// ResNet stem: `imagenet` (torchvision's) or `small` (3×3 stride-1 `conv1`, no max pooling).
    var stem: String? = nil
    /// VGG with batch norm.
    var batchNorm: Bool? = nil
    var batch: Int
    /// One image: channels, height, width.
    var channels: Int
    var height: Int
    var width: Int
    /// Classes of the logits (the CycleGAN generator: output channels).
    var classes: Int
    /// `cross_entropy` against class labels, or `mse` against a target of the output's shape.
    var loss: String
    /// Which suite lists it: `networks` or `quick`.
    var suite: String = "networks"

    /// `resnet18/16`: the row's name and batch.
    var id: String { "\(name)/\(batch)" }
    var inputShape: [Int] { [batch, channels, height, width] }
}

/// The networks of the whole-network benchmark and their batches.
enum NetworkCatalogue {
    /// Learning rate of every training step (both sides): small enough that random labels do not
    /// make any network diverge over the steps timed.
    static let learningRate: Float = 1e-3
    /// SGD momentum (both sides), PyTorch's `SGD(momentum=0.9)`, dampening 0.
    static let momentum: Float = 0.9

    static let all: [NetworkSpec] = [
        lenet5(32), lenet5(256),
        alexnet(1), alexnet(16),
        resnet(18, 1), resnet(18, 16),
        NetworkSpec(name: "resnet18_cifar", model: "resnet", depth: 18, stem: "small", batch: 64,
                    channels: 3, height: 32, width: 32, classes: 10, loss: "cross_entropy"),
        resnet(50, 8),
        NetworkSpec(name: "vgg11_bn", model: "vgg", depth: 11, batchNorm: true, batch: 8,
                    channels: 3, height: 224, width: 224, classes: 1000, loss: "cross_entropy"),
        mobilenet(1), mobilenet(16),
        NetworkSpec(name: "cyclegan", model: "cyclegan", batch: 1, channels: 3, height: 256, width: 256,
                    classes: 3, loss: "mse"),
    ]

    /// `--quick`: two small networks (seconds), to smoke-test the machinery.
    static let quick: [NetworkSpec] = {
        var small = NetworkSpec(name: "resnet18_cifar", model: "resnet", depth: 18, stem: "small", batch: 4,
                                channels: 3, height: 32, width: 32, classes: 10, loss: "cross_entropy")
        var lenet = lenet5(32)
        small.suite = "quick"
        lenet.suite = "quick"
        return [lenet, small]
    }()

    /// LeNet-5 on 32×32 grey images (MNIST digits padded by 2, the model's input), 10 classes.
    static func lenet5(_ batch: Int) -> NetworkSpec {
        NetworkSpec(name: "lenet5", model: "lenet5", batch: batch, channels: 1, height: 32, width: 32, classes: 10,
                    loss: "cross_entropy")
    }

    static func alexnet(_ batch: Int) -> NetworkSpec {
        NetworkSpec(name: "alexnet", model: "alexnet", batch: batch, channels: 3, height: 224, width: 224, classes: 1000,
                    loss: "cross_entropy")
    }

    static func resnet(_ depth: Int, _ batch: Int) -> NetworkSpec {
        NetworkSpec(name: "resnet\(depth)", model: "resnet", depth: depth, stem: "imagenet", batch: batch, channels: 3,
                    height: 224, width: 224, classes: 1000, loss: "cross_entropy")
    }

    static func mobilenet(_ batch: Int) -> NetworkSpec {
        NetworkSpec(name: "mobilenet_v2", model: "mobilenetv2", batch: batch, channels: 3, height: 224, width: 224,
                    classes: 1000, loss: "cross_entropy")
    }

    /// The specs whose name or `name/batch` is one of `tokens` (all when `tokens` is empty).
    /// - Throws: ``SuiteError`` naming the tokens that match nothing.
    static func filter(_ specs: [NetworkSpec], tokens: [String]) throws -> [NetworkSpec] {
        if tokens.isEmpty { return specs }
        let unknown = tokens.filter { token in !specs.contains { $0.name == token || $0.id == token } }
        if !unknown.isEmpty {
            var names: [String] = []
            for s in specs where !names.contains(s.name) { names.append(s.name) }
            throw SuiteError("--filter: no network named \(unknown.joined(separator: ", ")); networks: \(names.joined(separator: ", ")) (or name/batch: \(specs.map(\.id).joined(separator: ", ")))")
        }
        return specs.filter { spec in tokens.contains { $0 == spec.name || $0 == spec.id } }
    }
}

/// A model, its optimiser and one batch, built once per network and stepped repeatedly.
final class NetworkSession {
    let spec: NetworkSpec
    var model: Sequential
    var optimizer = SGD(learningRate: NetworkCatalogue.learningRate, momentum: NetworkCatalogue.momentum)
    let input: Tensor
    /// Class labels (cross-entropy) or the regression target (mse).
    let labels: [Int]
    let target: Tensor?
    /// Seed of the next training step's dropout masks (one per step, reproducible).
    private var step: UInt64 = 0

    init(_ spec: NetworkSpec) throws {
        self.spec = spec
        var rng = SplitMix64(seed: 14)
        switch spec.model {
        case "lenet5":
            model = try LeNet5.make(classes: spec.classes, using: &rng)
        case "alexnet":
            model = try AlexNet.make(classes: spec.classes, using: &rng)
        case "resnet":
            model = try ResNet.make(depth: spec.depth ?? 18, classes: spec.classes,
                                    stem: spec.stem == "small" ? .smallImage : .imageNet, using: &rng)
        case "vgg":
            model = try VGG.make(depth: spec.depth ?? 11, batchNorm: spec.batchNorm ?? true, classes: spec.classes, using: &rng)
        case "mobilenetv2":
            model = try MobileNetV2.make(classes: spec.classes, using: &rng)
        case "cyclegan":
            model = try CycleGANGenerator.make(inputChannels: spec.channels, outputChannels: spec.classes, using: &rng)
        default:
            throw SuiteError("unknown network model \(spec.model)")
        }
        input = Tensor(shape: try Shape(spec.inputShape), uniformIn: -1...1, using: &rng)
        if spec.loss == "mse" {
            labels = []
            target = Tensor(shape: try Shape([spec.batch, spec.classes, spec.height, spec.width]), uniformIn: -1...1, using: &rng)
        } else {
            labels = (0..<spec.batch).map { _ in Int(rng.next() % UInt64(spec.classes)) }
            target = nil
        }
    }

    /// One training step: forward in training mode, the loss, backward, SGD-momentum update and
    /// the batch norms' running statistics. Cross-entropy networks run the public `trainStep` with
    /// `checkFinite: false` (PyTorch checks nothing either); the CycleGAN generator (mean squared
    /// error, which `trainStep` does not take) runs the same sequence of public calls. Returns the loss.
    @discardableResult
    func train(_ context: ComputeContext) throws -> Float {
        step &+= 1
        if target == nil {
            return try model.trainStep(input: input, labels: labels, optimizer: &optimizer, context: context,
                                       checkFinite: false, seed: step)
        }
        let (prediction, cache) = try model.forward(input, mode: .training(seed: step), context: context)
        let (loss, gradient) = try lossAndGradient(prediction, context)
        let parameterGradients = try model.parameterGradients(gradient, cache: cache, context: context)
        try optimizer.update(&model, gradients: parameterGradients)
        try model.applyBufferUpdates(from: cache)
        return loss
    }

    /// The model folded for inference (`foldedForInference()`: batch norms into the convolutions
    /// before them, ReLUs into their epilogues), made once, as ONNX Runtime folds when it creates a
    /// session.
    private var folded: Sequential?

    /// Inference in evaluation mode, on the folded model.
    @discardableResult
    func infer(_ context: ComputeContext) throws -> Tensor {
        if folded == nil { folded = try model.foldedForInference() }
        return try folded!(input, context: context)
    }

    /// The step's loss and its gradient with respect to the model's output.
    func lossAndGradient(_ prediction: Tensor, _ context: ComputeContext) throws -> (Float, Tensor) {
        if let target {
            let (loss, gradient) = try Loss.meanSquaredError(prediction: prediction, target: target, context: context)
            return (loss, gradient)
        }
        let (loss, gradient) = try Loss.softmaxCrossEntropy(logits: prediction, labels: labels, context: context)
        return (loss, gradient)
    }
}
