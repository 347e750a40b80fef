/// The ResNet generator of CycleGAN (Zhu, Park, Isola & Efros 2017; Johnson et al.'s
/// architecture) in the layout of the reference implementation
/// (junyanz/pytorch-CycleGAN-and-pix2pix, `networks.ResnetGenerator` with `norm="instance"`,
/// `use_dropout=False`, `padding_type="reflect"`), so its `state_dict` keys are the
/// reference's: one ``Sequential`` `model` whose indices follow the reference's construction.
///
///     input  [N, inputChannels, H, W]         (H, W multiples of 4 give an output of the same size)
///     model.0    ReflectionPad2D 3
///     model.1    Conv2D inputChannels→f 7×7 (bias), 2 InstanceNorm2D, 3 ReLU     → [N, f, H, W]
///     model.4    Conv2D f→2f 3×3 stride 2 pad 1, 5 InstanceNorm2D, 6 ReLU        → H/2
///     model.7    Conv2D 2f→4f 3×3 stride 2 pad 1, 8 InstanceNorm2D, 9 ReLU       → H/4
///     model.10 … model.(9+b)   b residual blocks at 4f channels
///     model.(10+b)  ConvTranspose2D 4f→2f 3×3 stride 2 pad 1 output pad 1, IN, ReLU   → H/2
///     model.(13+b)  ConvTranspose2D 2f→f, the same, IN, ReLU                          → H
///     model.(16+b)  ReflectionPad2D 3, (17+b) Conv2D f→outputChannels 7×7, (18+b) Tanh
///
/// `f` is the reference's `ngf` (64), `b` its `n_blocks` (9; 6 for 128×128 images). Instance
/// norms are PyTorch's `InstanceNorm2d(affine=False, track_running_stats=False)`: no parameters,
/// no buffers, and the same computation in training and evaluation; the convolutions therefore
/// have biases (the reference's `use_bias`). Keys: `model.1.weight`, `model.1.bias`,
/// `model.10.conv_block.1.weight`, `model.10.conv_block.5.bias`, …, `model.(10+b).weight`
/// (`[4f, 2f, 3, 3]`, PyTorch's transposed layout), `model.(17+b).bias`. 11,378,179 parameters
/// for 3 → 3 channels, f = 64, b = 9.
///
/// Weights as the reference's `init_weights(init_type="normal", init_gain=0.02)` draws them, from
/// the given generator: every convolution and transposed convolution N(0, 0.02²), biases 0.
public enum CycleGANGenerator {
    /// The reference's `ResnetGenerator(inputChannels, outputChannels, ngf=filters,
    /// norm_layer=InstanceNorm2d, use_dropout=False, n_blocks=residualBlocks)`.
    ///
    /// - Throws: ``ShapeError`` `.nonPositive` for `inputChannels`, `outputChannels` or
    ///   `filters` < 1, or `residualBlocks` < 0.
    public static func make(inputChannels: Int = 3, outputChannels: Int = 3, filters: Int = 64, residualBlocks: Int = 9,
                            convolution: Conv2DAlgorithm = .automatic,
                            using generator: inout some RandomNumberGenerator) throws(ShapeError) -> Sequential {
        if inputChannels < 1 || outputChannels < 1 || filters < 1 || residualBlocks < 0 {
            throw ShapeError(.nonPositive,
                "CycleGAN generator needs inputChannels, outputChannels, filters >= 1 and residualBlocks >= 0, got \(inputChannels), \(outputChannels), \(filters) and \(residualBlocks)")
        }
        let widest = try CheckedSize.product([filters, 4], "CycleGAN generator channels")
        let initializer = Initializer.normal(standardDeviation: 0.02)
        func conv(_ i: Int, _ o: Int, _ k: Int, stride: Int = 1, padding: Int = 0,
                  _ g: inout some RandomNumberGenerator) throws(ShapeError) -> Conv2D {
            try Conv2D(inputChannels: i, outputChannels: o, kernelSize: k, stride: stride, padding: padding,
                       initializer: initializer, algorithm: convolution, using: &g)
        }
        var model: [any Layer] = [
            try ReflectionPad2D(3), try conv(inputChannels, filters, 7, &generator),
            try InstanceNorm2D(channels: filters), ReLU(),
        ]
        for i in 0..<2 {  // downsampling
            let c = filters << i
            model.append(contentsOf: [try conv(c, 2 * c, 3, stride: 2, padding: 1, &generator), try InstanceNorm2D(channels: 2 * c),
                                      ReLU()] as [any Layer])
        }
        for _ in 0..<residualBlocks {
            model.append(try residualBlock(channels: widest, convolution: convolution, using: &generator))
        }
        for i in 0..<2 {  // upsampling
            let c = widest >> i
            model.append(contentsOf: [
                try ConvTranspose2D(inputChannels: c, outputChannels: c / 2, kernelSize: 3, stride: 2, padding: 1,
                                    outputPadding: 1, initializer: initializer, algorithm: convolution, using: &generator),
                try InstanceNorm2D(channels: c / 2), ReLU(),
            ] as [any Layer])
        }
        model.append(contentsOf: [try ReflectionPad2D(3), try conv(filters, outputChannels, 7, &generator), Tanh()] as [any Layer])
        return try Sequential(named: ["model": Sequential(model)])
    }

    /// The reference's `ResnetBlock` (reflect padding, instance norm, no dropout):
    ///
    ///     y = x + conv_block(x)
    ///     conv_block  0 ReflectionPad2D 1, 1 Conv2D 3×3 (bias), 2 InstanceNorm2D, 3 ReLU,
    ///                 4 ReflectionPad2D 1, 5 Conv2D 3×3 (bias), 6 InstanceNorm2D
    ///
    /// A ``Graph`` with the node `conv_block` (`conv_block.1.weight`, `conv_block.5.bias`) and the
    /// merge `add`; `[N, channels, H, W]` in and out (H, W >= 2 for the reflection).
    public static func residualBlock(channels: Int, convolution: Conv2DAlgorithm = .automatic,
                                     using generator: inout some RandomNumberGenerator) throws(ShapeError) -> Graph {
        func conv(_ g: inout some RandomNumberGenerator) throws(ShapeError) -> Conv2D {
            try Conv2D(inputChannels: channels, outputChannels: channels, kernelSize: 3,
                       initializer: .normal(standardDeviation: 0.02), algorithm: convolution, using: &g)
        }
        let block = Sequential(
            try ReflectionPad2D(1), try conv(&generator), try InstanceNorm2D(channels: channels), ReLU(),
            try ReflectionPad2D(1), try conv(&generator), try InstanceNorm2D(channels: channels))
        var g = Graph()
        let y = try g.add(block, input: g.input, key: "conv_block")
        try g.add(Add(), inputs: [g.input, y], key: "add")
        return g
    }
}
