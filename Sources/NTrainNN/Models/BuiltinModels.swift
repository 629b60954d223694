import NTrainCore

/// The built-in architectures of DESIGN §2, as named `Sequential`s whose parameter names follow the
/// tutorials they reproduce (`conv1.weight`, `fc1.bias`, `classifier.weight`, …).
public enum BuiltinModel: String, CaseIterable, Sendable {
    /// MegEngine's tutorial LeNet: 32x32 input, ReLU, max-pool.
    case lenet
    /// The course lab's LeNet-5: 28x28 input (conv1 padded), GELU, average pool.
    case lenet5
    /// The PyTorch CIFAR-10 tutorial CNN.
    case cifarCNN = "cifar_cnn"
    /// MXNet's Module example: conv 128 3x3 pad 1 + BatchNorm + ReLU + max-pool + FC.
    case convBN = "conv_bn"
    /// Flatten, hidden Linear+activation layers, Linear to the outputs.
    case mlp
    /// Flatten and one Linear layer (regression, logistic regression).
    case linear
    /// He et al.'s CIFAR ResNets (20, 32 and 56 layers; see `ResNet`).
    case resnet20, resnet32, resnet56
    /// ResNet-18, CIFAR variant (3x3 stem, no max pool).
    case resnet18

    /// Options that change a built-in model.
    public struct Options: Sendable {
        public var activation: Activation.Kind?
        public var pool: Pool2d.Kind?
        public var initializer: Initializer
        public var hidden: [Int]
        public var dropout: Float
        /// The first stage's width of a ResNet (nil: 16 for the CIFAR ResNets, 64 for ResNet-18).
        public var width: Int?

        public init(activation: Activation.Kind? = nil, pool: Pool2d.Kind? = nil, initializer: Initializer = .kaimingUniform,
                    hidden: [Int] = [128], dropout: Float = 0, width: Int? = nil) {
            self.width = width
            self.activation = activation
            self.pool = pool
            self.initializer = initializer
            self.hidden = hidden
            self.dropout = dropout
        }
    }

    /// Default activation and pooling of each architecture (overridden by `Options`).
    public var defaultActivation: Activation.Kind { self == .lenet5 ? .gelu : .relu }
    public var defaultPool: Pool2d.Kind { self == .lenet5 ? .average : .max }

    /// Builds the model for examples of shape `input` ([C, H, W] or [F]) and `outputs` classes or values.
    public func make(input: Shape, outputs: Int, options: Options = Options(), seed: UInt64) throws -> Sequential {
        var b = SequentialBuilder(input: Shape([1] + input.dims), generator: RandomGenerator(seed: seed))
        let act = options.activation ?? defaultActivation
        let pool = options.pool ?? defaultPool
        let initializer = options.initializer
        func conv(_ name: String, _ out: Int, _ k: Int, padding: Int = 0) throws {
            try b.add(Conv2d(b.channels, out, kernel: (k, k), padding: (padding, padding), initializer: initializer, generator: &b.generator), name: name)
        }
        func linear(_ name: String, _ out: Int) throws {
            try b.add(Linear(b.flatFeatures, out, initializer: initializer, generator: &b.generator), name: name)
        }
        func needImage() throws {
            guard input.rank == 3 else {
                throw ModuleError.invalidOption(layer: rawValue, message: "needs image input [C, H, W], the data gives \(input)")
            }
        }
        switch self {
        case .lenet, .lenet5, .cifarCNN:
            try needImage()
            let pad = self == .lenet5 ? 2 : 0
            try conv("conv1", 6, 5, padding: pad)
            try b.add(Activation(act), name: "act1")
            try b.add(Pool2d(pool, kernel: (2, 2)), name: "pool1")
            try conv("conv2", 16, 5)
            try b.add(Activation(act), name: "act2")
            try b.add(Pool2d(pool, kernel: (2, 2)), name: "pool2")
            try b.add(Flatten(), name: "flatten")
            try linear("fc1", 120)
            try b.add(Activation(act), name: "act3")
            try linear("fc2", 84)
            try b.add(Activation(act), name: "act4")
            try linear(self == .lenet ? "classifier" : "fc3", outputs)
        case .convBN:
            try needImage()
            try b.add(Conv2d(b.channels, 128, kernel: (3, 3), padding: (1, 1), initializer: initializer, generator: &b.generator), name: "conv1")
            try b.add(BatchNorm(features: 128, spatial: true), name: "bn1")
            try b.add(Activation(act), name: "act1")
            try b.add(Pool2d(pool, kernel: (2, 2)), name: "pool1")
            try b.add(Flatten(), name: "flatten")
            try linear("fc1", outputs)
        case .mlp:
            try b.add(Flatten(), name: "flatten")
            for (i, h) in options.hidden.enumerated() {
                try linear("fc\(i + 1)", h)
                try b.add(Activation(act), name: "act\(i + 1)")
                if options.dropout > 0 {
                    try b.add(Dropout(p: options.dropout, seed: seed &+ UInt64(i + 1)), name: "dropout\(i + 1)")
                }
            }
            try linear("fc\(options.hidden.count + 1)", outputs)
        case .linear:
            try b.add(Flatten(), name: "flatten")
            try linear("fc", outputs)
        case .resnet20, .resnet32, .resnet56:
            let depth = self == .resnet20 ? 20 : self == .resnet32 ? 32 : 56
            return try ResNet.cifar(depth: depth, width: options.width ?? 16, input: input, outputs: outputs, activation: act,
                                    initializer: initializer, seed: seed)
        case .resnet18:
            return try ResNet.resnet18(width: options.width ?? 64, input: input, outputs: outputs, activation: act,
                                       initializer: initializer, seed: seed)
        }
        return b.build()
    }
}
