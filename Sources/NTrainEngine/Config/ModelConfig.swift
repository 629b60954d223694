/// The `model` section: a built-in `arch` or a sequential `layers` list (exactly one of them).
public struct ModelConfig: ConfigSection {
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

    public init() { self.init(arch: .mlp) }


    /// "" is a `layers` model (no `arch`).
    static var variants: (key: String, values: [String], absent: String?)? { ("arch", [""] + Architecture.allCases.map(\.rawValue), "") }

    var variant: String { arch?.rawValue ?? "" }

    static func instance(for value: String) -> ModelConfig {
        Architecture(rawValue: value).map(ModelConfig.init(arch:)) ?? ModelConfig(layers: [.identity])
    }

    static var fields: [ConfigField<Self>] {
        let archs = Architecture.allCases
        let activated = archs.filter { $0.defaultActivation != nil }.map(\.rawValue), pooled = archs.filter { $0.defaultPool != nil }.map(\.rawValue)
        return [
            .optional("arch", \.arch, .choice(Architecture.self), example: #""linear""#, default: "—", writesNull: false,
                      "`lenet` (32×32, ReLU, max pool; MegEngine tutorial), `lenet5` (28×28, GELU, avg pool), `cifar_cnn` (PyTorch tutorial), `conv_bn` (MXNet Module example), `mlp`, `linear`, `resnet20` / `resnet32` / `resnet56` (He et al.'s CIFAR ResNets: 3x3 stem, three stages of basic blocks at width, 2·width, 4·width; 1x1 conv + BN shortcuts where the shape changes; global average pool; `fc`) and `resnet18` (CIFAR variant: 3x3 stem, no max pool, four stages)"),
            .optional("layers", \.layers, .array(LayerSpec.schema, minCount: 1), example: #"[{"linear": {"out": 2}}]"#, default: "—",
                      writesNull: false, "a list of layers and blocks (residual, branches, repeat), below; instead of `arch`").only([""]),
            .value("activation", \.activation, .choice(Activation.self), example: #""tanh""#, default: "the arch's: `gelu` for lenet5, else `relu`", "")
                .only(activated),
            .value("pool", \.pool, .choice(PoolKind.self), example: #""avg""#, default: "the arch's: `avg` for lenet5, else `max`", "")
                .only(pooled),
            .value("init", \.initialization, .choice(InitScheme.self), example: #""xavier_uniform""#,
                   "`kaiming_uniform` (PyTorch's default), `kaiming_normal`, `xavier_uniform`, `xavier_normal`, `normal` (N(0, `init_std`) weights, zero biases: MindSpore's `Normal(0.02)`)"),
            .value("init_std", \.initStd, .number(.positive), example: "0.1", "standard deviation for `init: \"normal\"`").needing(["init": #""normal""#]),
            .value("hidden", \.hidden, .array(.integer(.width)), example: "[8]", "hidden layer sizes").only(["mlp"]),
            .value("dropout", \.dropout, .number(.unitOpen), example: "0.5", "after each hidden layer").only(["mlp"]),
            // ResNet-18's last stage has 8·width channels: 256 keeps it at 2,048 (about 180 M parameters).
            .optional("width", \.width, .integer(NumberRange(min: 1, max: 256)), example: "8", default: "16, or 64 for `resnet18`",
                      writesNull: false, "the first stage's channels").only(archs.filter(\.isResNet).map(\.rawValue)),
        ]
    }

    mutating func startDecoding(_ c: ConfigDecoding) throws {
        let arch: Architecture? = try c.optional("arch")
        switch (arch, c.has("layers")) {
        case (let arch?, false): self = ModelConfig(arch: arch)
        case (nil, true): self = ModelConfig(layers: [])
        case (.some, true): throw c.error("layers", "give either model.arch or model.layers, not both")
        case (nil, false):
            throw c.error("arch", "missing; set model.arch to one of \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")) or list model.layers")
        }
    }
}
