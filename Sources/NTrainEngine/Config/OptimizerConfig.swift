/// The `optimizer` section. Options follow PyTorch's names and defaults; each type accepts only
/// its own options (docs/config.md).
public struct OptimizerConfig: Codable, Equatable, Sendable {
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

    /// The options `type` accepts (besides `type`, `lr`, `weight_decay`).
    static func keys(for type: OptimizerKind) -> [String: Schema] {
        let unitOpen = Schema.number(.unitOpen)
        switch type {
        case .sgd: return ["momentum": .number(.nonNegative), "nesterov": .bool, "dampening": .number(.unitClosed)]
        case .adam, .adamw: return ["betas": .array(unitOpen, minCount: 2), "eps": .number(.positive), "amsgrad": .bool]
        case .nadam: return ["betas": .array(unitOpen, minCount: 2), "eps": .number(.positive), "momentum_decay": .number(.nonNegative)]
        case .adagrad: return ["lr_decay": .number(.nonNegative), "eps": .number(.positive), "initial_accumulator_value": .number(.nonNegative)]
        case .rmsprop: return ["alpha": unitOpen, "eps": .number(.positive), "momentum": .number(.nonNegative), "centered": .bool]
        }
    }

    static var schema: Schema {
        var cases: [String: [String: Schema]] = [:]
        for kind in OptimizerKind.allCases { cases[kind.rawValue] = keys(for: kind) }
        return .variants(
            key: "type", defaultCase: OptimizerKind.sgd.rawValue,
            common: ["lr": .number(.positive), "weight_decay": .number(.nonNegative), "groups": .array(ParameterGroupConfig.schema)],
            cases: cases)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        self.init(type: try c.value("type", default: .sgd))
        lr = try c.value("lr", default: lr)
        weightDecay = try c.value("weight_decay", default: weightDecay)
        momentum = try c.value("momentum", default: momentum)
        nesterov = try c.value("nesterov", default: nesterov)
        dampening = try c.value("dampening", default: dampening)
        betas = try c.value("betas", default: betas)
        guard betas.count == 2 else { throw c.error("betas", "expected two values [beta1, beta2], got \(betas.count)") }
        amsgrad = try c.value("amsgrad", default: amsgrad)
        momentumDecay = try c.value("momentum_decay", default: momentumDecay)
        eps = try c.value("eps", default: eps)
        lrDecay = try c.value("lr_decay", default: lrDecay)
        initialAccumulatorValue = try c.value("initial_accumulator_value", default: initialAccumulatorValue)
        alpha = try c.value("alpha", default: alpha)
        centered = try c.value("centered", default: centered)
        groups = try c.value("groups", default: groups)
        if nesterov && (momentum <= 0 || dampening != 0) {
            throw c.error("nesterov", "Nesterov momentum needs momentum > 0 and dampening = 0 (as in PyTorch)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        try c.put("type", type)
        try c.put("lr", lr)
        try c.put("weight_decay", weightDecay)
        let keys = Self.keys(for: type)
        func put<T: Encodable>(_ key: String, _ value: T) throws { if keys[key] != nil { try c.put(key, value) } }
        try put("momentum", momentum)
        try put("nesterov", nesterov)
        try put("dampening", dampening)
        try put("betas", betas)
        try put("amsgrad", amsgrad)
        try put("momentum_decay", momentumDecay)
        try put("eps", eps)
        try put("lr_decay", lrDecay)
        try put("initial_accumulator_value", initialAccumulatorValue)
        try put("alpha", alpha)
        try put("centered", centered)
        if !groups.isEmpty { try c.put("groups", groups) }
    }
}
