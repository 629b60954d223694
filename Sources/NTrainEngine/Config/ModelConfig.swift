/// The `model` section: a built-in `arch` or a sequential `layers` list (exactly one of them).
public struct ModelConfig: Codable, Equatable, Sendable {
    /// A built-in architecture; nil when `layers` is given.
    public var arch: Architecture?
    /// A sequential stack; nil when `arch` is given.
    public var layers: [LayerSpec]?
    /// Activation of a built-in arch; resolved to the arch's own default (nil for `linear`).
    public var activation: Activation?
    /// Pooling of a convolutional arch; resolved to the arch's own default (nil for mlp/linear).
    public var pool: PoolKind?
    public var initialization: InitScheme = .kaimingUniform
    /// Standard deviation of `init: "normal"` (MindSpore's `Normal(0.02)`).
    public var initStd = 0.02
    /// Hidden layer sizes of `mlp`.
    public var hidden: [Int] = [128]
    /// Dropout probability after each hidden layer of `mlp`.
    public var dropout = 0.0
    /// The first stage's width of a ResNet arch (nil: the architecture's own, 16 or 64).
    public var width: Int?

    public init(arch: Architecture) {
        self.arch = arch
        self.activation = arch.defaultActivation
        self.pool = arch.defaultPool
    }

    public init(layers: [LayerSpec]) { self.layers = layers }

    /// Keys each architecture accepts besides `arch` and `init`.
    static func archKeys(_ arch: Architecture) -> [String: Schema] {
        var keys: [String: Schema] = [:]
        if arch.defaultActivation != nil { keys["activation"] = .choice(Activation.self) }
        if arch.defaultPool != nil { keys["pool"] = .choice(PoolKind.self) }
        if arch == .mlp {
            keys["hidden"] = .array(.integer(.width))
            keys["dropout"] = .number(.unitOpen)
        }
        // ResNet-18's last stage has 8·width channels: 256 keeps it at 2,048 (about 180 M parameters).
        if arch.isResNet { keys["width"] = .integer(NumberRange(min: 1, max: 256)) }
        return keys
    }

    static var schema: Schema {
        var cases: [String: [String: Schema]] = ["": ["layers": .array(LayerSpec.schema, minCount: 1)]]
        for arch in Architecture.allCases { cases[arch.rawValue] = archKeys(arch) }
        return .variants(key: "arch", defaultCase: "", common: ["init": .choice(InitScheme.self), "init_std": .number(.positive)], cases: cases)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        let arch: Architecture? = try c.optional("arch")
        let layers: [LayerSpec]? = try c.optional("layers")
        switch (arch, layers) {
        case (let arch?, nil):
            self.init(arch: arch)
            activation = try c.value("activation", default: activation)
            pool = try c.value("pool", default: pool)
            if arch == .mlp {
                hidden = try c.value("hidden", default: hidden)
                dropout = try c.value("dropout", default: dropout)
            }
            if arch.isResNet { width = try c.optional("width") }
        case (nil, let layers?):
            self.init(layers: layers)
        case (.some, .some):
            throw c.error("layers", "give either model.arch or model.layers, not both")
        case (nil, nil):
            throw c.error("arch", "missing; set model.arch to one of \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")) or list model.layers")
        }
        initialization = try c.value("init", default: initialization)
        initStd = try c.value("init_std", default: initStd)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        try c.put("init", initialization)
        try c.put("init_std", initStd)
        if let layers { try c.put("layers", layers) }
        guard let arch else { return }
        try c.put("arch", arch)
        if let activation { try c.put("activation", activation) }
        if let pool { try c.put("pool", pool) }
        if arch == .mlp {
            try c.put("hidden", hidden)
            try c.put("dropout", dropout)
        }
        if arch.isResNet, let width { try c.put("width", width) }
    }
}
