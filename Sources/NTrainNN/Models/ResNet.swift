import NTrainCore

/// ResNets as torchvision defines them: a block type (`basicBlock`) and a stage builder
/// (`stage`), nothing more. `cifar` gives He et al.'s CIFAR ResNets (6n+2 layers: a 3x3 stem of
/// `width` channels, three stages of n blocks at width, 2·width and 4·width) and `resnet18` the
/// CIFAR variant of ResNet-18 (3x3 stem, no max pool, four stages of two blocks at 64…512).
///
/// Shortcuts that change the shape are a 1x1 convolution with BatchNorm (torchvision's
/// `downsample`, He et al.'s option B). Convolutions have no bias (BatchNorm follows each).
public enum ResNet {
    /// `activation(bn2(conv2(act(bn1(conv1(x))))) + shortcut(x))` with 3x3 convolutions, the first
    /// with `stride`.
    public static func basicBlock(_ inChannels: Int, _ outChannels: Int, stride: Int, activation: Activation.Kind,
                                  initializer: Initializer, generator: inout RandomGenerator) throws -> Branches {
        let body = Sequential(named: [
            ("conv1", try Conv2d(inChannels, outChannels, kernel: (3, 3), stride: (stride, stride), padding: (1, 1), bias: false,
                                 initializer: initializer, generator: &generator)),
            ("bn1", BatchNorm(features: outChannels, spatial: true)),
            ("act1", Activation(activation)),
            ("conv2", try Conv2d(outChannels, outChannels, kernel: (3, 3), padding: (1, 1), bias: false,
                                 initializer: initializer, generator: &generator)),
            ("bn2", BatchNorm(features: outChannels, spatial: true)),
        ])
        var shortcut = Sequential([])
        if stride != 1 || inChannels != outChannels {
            shortcut = Sequential(named: [
                ("conv", try Conv2d(inChannels, outChannels, kernel: (1, 1), stride: (stride, stride), bias: false,
                                    initializer: initializer, generator: &generator)),
                ("bn", BatchNorm(features: outChannels, spatial: true)),
            ])
        }
        return .residual(body: body, shortcut: shortcut, activation: Activation(activation))
    }

    /// `blocks` basic blocks, the first with `stride` (and the shortcut that needs), named 0, 1, ….
    public static func stage(_ inChannels: Int, _ outChannels: Int, blocks: Int, stride: Int, activation: Activation.Kind,
                             initializer: Initializer, generator: inout RandomGenerator) throws -> Sequential {
        var layers: [(String, Module)] = []
        for i in 0..<blocks {
            layers.append((String(i), try basicBlock(i == 0 ? inChannels : outChannels, outChannels, stride: i == 0 ? stride : 1,
                                                     activation: activation, initializer: initializer, generator: &generator)))
        }
        return Sequential(named: layers)
    }

    /// A ResNet on `[C, H, W]` images: a 3x3 stem (conv, BN, activation), `stages` of (width,
    /// blocks, stride), a global average pool and a linear classifier `fc`.
    public static func make(input: Shape, outputs: Int, stem: Int, stages: [(width: Int, blocks: Int, stride: Int)],
                            activation: Activation.Kind, initializer: Initializer, seed: UInt64) throws -> Sequential {
        guard input.rank == 3 else {
            throw ModuleError.invalidOption(layer: "resnet", message: "needs image input [C, H, W], the data gives \(input)")
        }
        var b = SequentialBuilder(input: Shape([1] + input.dims), generator: RandomGenerator(seed: seed))
        try b.add(Conv2d(b.channels, stem, kernel: (3, 3), padding: (1, 1), bias: false, initializer: initializer, generator: &b.generator), name: "conv1")
        try b.add(BatchNorm(features: stem, spatial: true), name: "bn1")
        try b.add(Activation(activation), name: "act1")
        var channels = stem
        for (i, s) in stages.enumerated() {
            try b.add(stage(channels, s.width, blocks: s.blocks, stride: s.stride, activation: activation,
                            initializer: initializer, generator: &b.generator), name: "layer\(i + 1)")
            channels = s.width
        }
        try b.add(GlobalAvgPool2d(), name: "pool")
        try b.add(Flatten(), name: "flatten")
        try b.add(Linear(channels, outputs, initializer: initializer, generator: &b.generator), name: "fc")
        return b.build()
    }

    /// He et al.'s CIFAR ResNet of `depth` = 6n + 2 layers (20, 32, 44, 56, 110, …).
    public static func cifar(depth: Int, width: Int = 16, input: Shape, outputs: Int, activation: Activation.Kind = .relu,
                             initializer: Initializer = .kaimingNormal, seed: UInt64) throws -> Sequential {
        guard depth >= 8, (depth - 2) % 6 == 0 else {
            throw ModuleError.invalidOption(layer: "resnet", message: "depth must be 6n + 2 (20, 32, 56, …), got \(depth)")
        }
        let n = (depth - 2) / 6
        return try make(input: input, outputs: outputs, stem: width,
                        stages: [(width, n, 1), (2 * width, n, 2), (4 * width, n, 2)],
                        activation: activation, initializer: initializer, seed: seed)
    }

    /// ResNet-18 for 32x32 images: a 3x3 stem, no max pool, stages of 2 blocks at width … 8·width.
    public static func resnet18(width: Int = 64, input: Shape, outputs: Int, activation: Activation.Kind = .relu,
                                initializer: Initializer = .kaimingNormal, seed: UInt64) throws -> Sequential {
        try make(input: input, outputs: outputs, stem: width,
                 stages: [(width, 2, 1), (2 * width, 2, 2), (4 * width, 2, 2), (8 * width, 2, 2)],
                 activation: activation, initializer: initializer, seed: seed)
    }
}
