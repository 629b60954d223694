/// One entry of `model.layers`, a single-key object such as `{"conv2d": {"out": 6, "kernel": 5}}`.
/// Input sizes (in-features, in-channels) are inferred from the data's shape by the model builder.
///
/// Blocks hold layer lists of their own, so a model is a tree: `residual` (a body and a shortcut
/// added), `branches` (paths merged by add or channel concat) and `repeat` (a list N times).
public enum LayerSpec: Codable, Equatable, Sendable {
    case linear(out: Int, bias: Bool)
    case conv2d(Conv2dOptions)
    case maxPool2d(PoolOptions)
    case avgPool2d(PoolOptions)
    case batchNorm1d(BatchNormOptions)
    case batchNorm2d(BatchNormOptions)
    case dropout(p: Double)
    case flatten
    case relu
    case leakyRelu(slope: Double)
    case gelu, sigmoid, tanh
    case softmax(axis: Int)
    case logSoftmax(axis: Int)
    case identity
    case globalAvgPool2d
    case scale(factor: Double)
    /// `activation(body(x) + shortcut(x))`; an empty shortcut is the identity.
    case residual(ResidualOptions)
    /// Every path applied to the same input, merged; an empty path is the identity.
    case branches(BranchesOptions)
    /// `layers` applied `times` times in a row, each repetition with its own weights.
    case repeated(times: Int, layers: [LayerSpec])

    public struct ResidualOptions: Equatable, Sendable {
        public var body: [LayerSpec]
        public var shortcut: [LayerSpec] = []
        public var activation: Activation? = nil

        public init(body: [LayerSpec], shortcut: [LayerSpec] = [], activation: Activation? = nil) {
            self.body = body
            self.shortcut = shortcut
            self.activation = activation
        }
    }

    public struct BranchesOptions: Equatable, Sendable {
        public var merge: BranchMerge
        public var paths: [[LayerSpec]]
        public var activation: Activation? = nil

        public init(merge: BranchMerge, paths: [[LayerSpec]], activation: Activation? = nil) {
            self.merge = merge
            self.paths = paths
            self.activation = activation
        }
    }

    public struct Conv2dOptions: Equatable, Sendable {
        public var out: Int
        public var kernel: IntPair
        public var stride = IntPair(1)
        public var padding = IntPair(0)
        public var dilation = IntPair(1)
        public var groups = 1
        public var bias = true
        /// This layer's weight initialisation instead of the model's `init` (nil).
        public var initialization: ConvInit? = nil

        public init(out: Int, kernel: IntPair) {
            self.out = out
            self.kernel = kernel
        }
    }

    public struct PoolOptions: Equatable, Sendable {
        public var kernel: IntPair
        /// Defaults to the kernel size, as in PyTorch.
        public var stride: IntPair
        public var padding = IntPair(0)

        public init(kernel: IntPair, stride: IntPair? = nil) {
            self.kernel = kernel
            self.stride = stride ?? kernel
        }
    }

    public struct BatchNormOptions: Equatable, Sendable {
        public var momentum = 0.1
        public var eps = 1e-5
        public var affine = true

        public init() {}
    }

    /// The layer's name in configs (`conv2d`, `max_pool2d`, ...).
    public var kind: String {
        switch self {
        case .linear: return "linear"
        case .conv2d: return "conv2d"
        case .maxPool2d: return "max_pool2d"
        case .avgPool2d: return "avg_pool2d"
        case .batchNorm1d: return "batch_norm1d"
        case .batchNorm2d: return "batch_norm2d"
        case .dropout: return "dropout"
        case .flatten: return "flatten"
        case .relu: return "relu"
        case .leakyRelu: return "leaky_relu"
        case .gelu: return "gelu"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .softmax: return "softmax"
        case .logSoftmax: return "log_softmax"
        case .identity: return "identity"
        case .globalAvgPool2d: return "global_avg_pool2d"
        case .scale: return "scale"
        case .residual: return "residual"
        case .branches: return "branches"
        case .repeated: return "repeat"
        }
    }

    static var schema: Schema { .tagged(Dictionary(uniqueKeysWithValues: LayerKinds.all.map { ($0.name, $0.schema) })) }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        guard c.allKeys.count == 1, let key = c.allKeys.first else {
            throw c.error(nil, "expected an object with exactly one key naming the layer, e.g. {\"linear\": {\"out\": 10}}")
        }
        guard let kind = LayerKinds.all.first(where: { $0.name == key.stringValue }) else { throw c.error(key.stringValue, "unknown layer type") }
        self = try kind.decode(try c.superDecoder(forKey: key))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        guard let kind = LayerKinds.all.first(where: { $0.name == self.kind }) else { preconditionFailure("no layer kind \(self.kind)") }
        try kind.encode(self, c.superEncoder(forKey: ConfigKey(self.kind)))
    }
}
