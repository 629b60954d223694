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

    static var schema: Schema {
        let pool: Schema = .object(
            ["kernel": .pair(.atLeastOne), "stride": .nullable(.pair(.atLeastOne)), "padding": .pair(.nonNegative)],
            required: ["kernel"])
        let norm: Schema = .object(["momentum": .number(.unitClosed), "eps": .number(.positive), "affine": .bool])
        let none: Schema = .object([:])
        let layers: Schema = .array(.deferred { schema }, minCount: 1)
        let activation: Schema = .nullable(.choice(Activation.self))
        return .tagged([
            "linear": .object(["out": .integer(.width), "bias": .bool], required: ["out"]),
            "conv2d": .object(
                [
                    "out": .integer(.channels), "kernel": .pair(.atLeastOne), "stride": .pair(.atLeastOne),
                    "padding": .pair(.nonNegative), "dilation": .pair(.atLeastOne), "groups": .integer(.atLeastOne),
                    "bias": .bool, "init": .nullable(.choice(ConvInit.self)),
                ], required: ["out", "kernel"]),
            "max_pool2d": pool, "avg_pool2d": pool,
            "batch_norm1d": norm, "batch_norm2d": norm,
            "dropout": .object(["p": .number(.unitOpen)]),
            "flatten": none, "relu": none, "gelu": none, "sigmoid": none, "tanh": none,
            "leaky_relu": .object(["slope": .number(.any)]),
            "softmax": .object(["axis": .integer(.any)]), "log_softmax": .object(["axis": .integer(.any)]),
            "identity": none, "global_avg_pool2d": none,
            "scale": .object(["factor": .number(.any)], required: ["factor"]),
            "residual": .object(["body": layers, "shortcut": .array(.deferred { schema }), "activation": activation], required: ["body"]),
            "branches": .object(
                ["merge": .choice(BranchMerge.self), "paths": .array(.array(.deferred { schema }), minCount: 1), "activation": activation],
                required: ["merge", "paths"]),
            "repeat": .object(["times": .integer(.repeats), "layers": layers], required: ["times", "layers"]),
        ])
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        guard c.allKeys.count == 1, let key = c.allKeys.first else {
            throw c.error(nil, "expected an object with exactly one key naming the layer, e.g. {\"linear\": {\"out\": 10}}")
        }
        let a = try c.nestedContainer(keyedBy: ConfigKey.self, forKey: key)
        func required<T: Decodable>(_ name: String) throws -> T {
            guard let v: T = try a.optional(name) else { throw a.error(name, "missing (required)") }
            return v
        }
        switch key.stringValue {
        case "linear": self = .linear(out: try required("out"), bias: try a.value("bias", default: true))
        case "conv2d":
            var o = Conv2dOptions(out: try required("out"), kernel: try required("kernel"))
            o.stride = try a.value("stride", default: o.stride)
            o.padding = try a.value("padding", default: o.padding)
            o.dilation = try a.value("dilation", default: o.dilation)
            o.groups = try a.value("groups", default: o.groups)
            o.bias = try a.value("bias", default: o.bias)
            o.initialization = try a.optional("init")
            guard o.out % o.groups == 0 else { throw a.error("groups", "out (\(o.out)) must be divisible by groups (\(o.groups))") }
            self = .conv2d(o)
        case "max_pool2d", "avg_pool2d":
            var o = PoolOptions(kernel: try required("kernel"), stride: try a.optional("stride"))
            o.padding = try a.value("padding", default: o.padding)
            guard o.padding.first * 2 <= o.kernel.first, o.padding.second * 2 <= o.kernel.second else {
                throw a.error("padding", "must be at most half the kernel size, as in PyTorch")
            }
            self = key.stringValue == "max_pool2d" ? .maxPool2d(o) : .avgPool2d(o)
        case "batch_norm1d", "batch_norm2d":
            var o = BatchNormOptions()
            o.momentum = try a.value("momentum", default: o.momentum)
            o.eps = try a.value("eps", default: o.eps)
            o.affine = try a.value("affine", default: o.affine)
            self = key.stringValue == "batch_norm1d" ? .batchNorm1d(o) : .batchNorm2d(o)
        case "dropout": self = .dropout(p: try a.value("p", default: 0.5))
        case "flatten": self = .flatten
        case "relu": self = .relu
        case "leaky_relu": self = .leakyRelu(slope: try a.value("slope", default: 0.01))
        case "gelu": self = .gelu
        case "sigmoid": self = .sigmoid
        case "tanh": self = .tanh
        case "softmax": self = .softmax(axis: try a.value("axis", default: -1))
        case "log_softmax": self = .logSoftmax(axis: try a.value("axis", default: -1))
        case "identity": self = .identity
        case "global_avg_pool2d": self = .globalAvgPool2d
        case "scale": self = .scale(factor: try required("factor"))
        case "residual":
            self = .residual(ResidualOptions(body: try required("body"), shortcut: try a.value("shortcut", default: []),
                                             activation: try a.optional("activation")))
        case "branches":
            self = .branches(BranchesOptions(merge: try required("merge"), paths: try required("paths"),
                                             activation: try a.optional("activation")))
        case "repeat": self = .repeated(times: try required("times"), layers: try required("layers"))
        default: throw c.error(key.stringValue, "unknown layer type")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        var a = c.nestedContainer(keyedBy: ConfigKey.self, forKey: ConfigKey(kind))
        switch self {
        case .linear(let out, let bias):
            try a.put("out", out)
            try a.put("bias", bias)
        case .conv2d(let o):
            try a.put("out", o.out)
            try a.put("kernel", o.kernel)
            try a.put("stride", o.stride)
            try a.put("padding", o.padding)
            try a.put("dilation", o.dilation)
            try a.put("groups", o.groups)
            try a.put("bias", o.bias)
            if let i = o.initialization { try a.put("init", i) }
        case .maxPool2d(let o), .avgPool2d(let o):
            try a.put("kernel", o.kernel)
            try a.put("stride", o.stride)
            try a.put("padding", o.padding)
        case .batchNorm1d(let o), .batchNorm2d(let o):
            try a.put("momentum", o.momentum)
            try a.put("eps", o.eps)
            try a.put("affine", o.affine)
        case .dropout(let p): try a.put("p", p)
        case .leakyRelu(let slope): try a.put("slope", slope)
        case .softmax(let axis), .logSoftmax(let axis): try a.put("axis", axis)
        case .scale(let factor): try a.put("factor", factor)
        case .residual(let o):
            try a.put("body", o.body)
            try a.put("shortcut", o.shortcut)
            try a.putOptional("activation", o.activation)
        case .branches(let o):
            try a.put("merge", o.merge)
            try a.put("paths", o.paths)
            try a.putOptional("activation", o.activation)
        case .repeated(let times, let layers):
            try a.put("times", times)
            try a.put("layers", layers)
        case .flatten, .relu, .gelu, .sigmoid, .tanh, .identity, .globalAvgPool2d: break
        }
    }
}
