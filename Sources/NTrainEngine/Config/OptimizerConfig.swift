/// The `optimizer` section. Options follow PyTorch's names and defaults; each type accepts only
/// its own options (docs/config.md).
public struct OptimizerConfig: ConfigSection {
    public var type: OptimizerKind = .sgd
    /// Learning rate; default 0.01 (sgd, adagrad, rmsprop) or 0.001 (adam, adamw, nadam).
    public var lr = 0.01
    /// L2 penalty (decoupled for adamw); default 0, or 0.01 for adamw.
    public var weightDecay = 0.0
    // sgd, rmsprop
    public var momentum = 0.0
    // sgd
    public var nesterov = false
    public var dampening = 0.0
    // adam, adamw, nadam
    public var betas: [Double] = [0.9, 0.999]
    public var amsgrad = false
    public var momentumDecay = 0.004
    /// Default 1e-8, or 1e-10 for adagrad.
    public var eps = 1e-8
    // adagrad
    public var lrDecay = 0.0
    public var initialAccumulatorValue = 0.0
    // rmsprop
    public var alpha = 0.99
    public var centered = false
    /// Parameter groups with their own learning-rate factor and weight decay (any type).
    public var groups: [ParameterGroupConfig] = []

    public init(type: OptimizerKind = .sgd) {
        self.type = type
        switch type {
        case .adam, .nadam: lr = 0.001
        case .adamw: lr = 0.001; weightDecay = 0.01
        case .adagrad: eps = 1e-10
        case .sgd, .rmsprop: break
        }
    }

    public init() { self.init(type: .sgd) }


    static var variants: (key: String, values: [String], absent: String?)? {
        ("type", OptimizerKind.allCases.map(\.rawValue), OptimizerKind.sgd.rawValue)
    }

    var variant: String { type.rawValue }

    static var fields: [ConfigField<Self>] {
        let betas = Schema.array(.number(.unitOpen), minCount: 2)
        return [
            .value("type", \.type, .choice(OptimizerKind.self), example: "\"adam\"",
                   "`torch.optim.SGD`, `Adam`, `AdamW`, `NAdam`, `Adagrad`, `RMSprop`, with PyTorch's names and defaults"),
            .value("lr", \.lr, .number(.positive), example: "0.5", default: "`0.01`; `0.001` for adam, adamw, nadam", "learning rate"),
            .value("weight_decay", \.weightDecay, .number(.nonNegative), example: "0.1", default: "`0`; `0.01` for adamw",
                   "L2 penalty (decoupled for adamw)"),
            .value("momentum", \.momentum, .number(.nonNegative), example: "0.9", "").only(["sgd", "rmsprop"]),
            .value("nesterov", \.nesterov, .bool, example: "true", "Nesterov momentum; needs momentum > 0 and dampening 0")
                .only(["sgd"]).needing(["momentum": "0.9"]),
            .value("dampening", \.dampening, .number(.unitClosed), example: "0.5", "").only(["sgd"]).needing(["momentum": "0.9"]),
            .value("betas", \.betas, betas, example: "[0.8, 0.99]", "[β1, β2]").only(["adam", "adamw", "nadam"]),
            .value("eps", \.eps, .number(.positive), example: "0.001", default: "`1e-08`; `1e-10` for adagrad", "")
                .only(["adam", "adamw", "nadam", "adagrad", "rmsprop"]),
            .value("amsgrad", \.amsgrad, .bool, example: "true", "").only(["adam", "adamw"]),
            .value("momentum_decay", \.momentumDecay, .number(.nonNegative), example: "0.01", "").only(["nadam"]),
            .value("lr_decay", \.lrDecay, .number(.nonNegative), example: "0.01", "").only(["adagrad"]),
            .value("initial_accumulator_value", \.initialAccumulatorValue, .number(.nonNegative), example: "0.1", "").only(["adagrad"]),
            .value("alpha", \.alpha, .number(.unitOpen), example: "0.9", "smoothing constant").only(["rmsprop"]),
            .value("centered", \.centered, .bool, example: "true", "").only(["rmsprop"]),
            .list("groups", \.groups, .array(ParameterGroupConfig.schema), example: #"[{"match": ["*.bias"], "weight_decay": 0}]"#,
                  default: "none", "parameter groups with their own learning-rate factor and weight decay (below)")
                .needing(["weight_decay": "0.1"]),
        ]
    }

    mutating func startDecoding(_ c: ConfigDecoding) throws { self = OptimizerConfig(type: try c.value("type", default: .sgd)) }

    mutating func finishDecoding(_ c: ConfigDecoding) throws {
        guard betas.count == 2 else { throw c.error("betas", "expected two values [beta1, beta2], got \(betas.count)") }
        if nesterov && (momentum <= 0 || dampening != 0) {
            throw c.error("nesterov", "Nesterov momentum needs momentum > 0 and dampening = 0 (as in PyTorch)")
        }
    }
}
