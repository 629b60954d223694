/// The `loss` section, written as a name (`"cross_entropy"`) or an object with options
/// (`{"type": "cross_entropy", "label_smoothing": 0.1}`).
public struct LossConfig: Codable, Equatable, Sendable {
    public var type: LossKind
    /// cross_entropy only, in [0, 1).
    public var labelSmoothing = 0.0
    /// smooth_l1 only: where the loss switches from quadratic to linear.
    public var beta = 1.0
    public var reduction: Reduction = .mean

    public init(type: LossKind = .crossEntropy) { self.type = type }

    static func keys(for type: LossKind) -> [String: Schema] {
        switch type {
        case .crossEntropy: return ["label_smoothing": .number(.unitOpen)]
        case .smoothL1: return ["beta": .number(.positive)]
        default: return [:]
        }
    }

    static var schema: Schema {
        var cases: [String: [String: Schema]] = [:]
        for kind in LossKind.allCases { cases[kind.rawValue] = keys(for: kind) }
        return .either([
            .choice(LossKind.self),
            .variants(key: "type", defaultCase: nil, common: ["reduction": .choice(Reduction.self)], cases: cases),
        ])
    }

    public init(from decoder: Decoder) throws {
        if let name = try? decoder.singleValueContainer().decode(LossKind.self) {
            self.init(type: name)
            return
        }
        let c = try decoder.container(keyedBy: ConfigKey.self)
        self.init(type: try c.value("type", default: .crossEntropy))
        labelSmoothing = try c.value("label_smoothing", default: labelSmoothing)
        beta = try c.value("beta", default: beta)
        reduction = try c.value("reduction", default: reduction)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        try c.put("type", type)
        try c.put("reduction", reduction)
        if type == .crossEntropy { try c.put("label_smoothing", labelSmoothing) }
        if type == .smoothL1 { try c.put("beta", beta) }
    }
}

/// Gradient clipping: by global L2 norm or elementwise by value.
public enum GradClip: Codable, Equatable, Sendable {
    case maxNorm(Double)
    case value(Double)

    static let schema: Schema = .object(["max_norm": .number(.positive), "value": .number(.positive)])

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        let norm: Double? = try c.optional("max_norm")
        let value: Double? = try c.optional("value")
        switch (norm, value) {
        case (let n?, nil): self = .maxNorm(n)
        case (nil, let v?): self = .value(v)
        default: throw c.error(nil, "give exactly one of max_norm (clip by global norm) or value (clip each element)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        switch self {
        case .maxNorm(let n): try c.put("max_norm", n)
        case .value(let v): try c.put("value", v)
        }
    }
}

/// Stop when the monitored metric has not improved for `patience` evaluations.
public struct EarlyStopping: Codable, Equatable, Sendable {
    public var patience = 5
    public var monitor: MonitoredMetric = .loss
    public var mode: MonitorMode = .min
    public var minDelta = 0.0

    public init() {}

    static let schema: Schema = .object([
        "patience": .integer(.atLeastOne), "monitor": .choice(MonitoredMetric.self), "mode": .choice(MonitorMode.self),
        "min_delta": .number(.nonNegative),
    ])

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        patience = try c.value("patience", default: patience)
        monitor = try c.value("monitor", default: monitor)
        mode = try c.value("mode", default: MonitorMode.natural(for: monitor))
        minDelta = try c.value("min_delta", default: minDelta)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        try c.put("patience", patience)
        try c.put("monitor", monitor)
        try c.put("mode", mode)
        try c.put("min_delta", minDelta)
    }
}

/// `train.ema`: timm's ModelEmaV2 after every optimizer step.
public struct EMAConfig: Codable, Equatable, Sendable {
    public var decay = 0.999

    public init(decay: Double = 0.999) { self.decay = decay }

    static let schema: Schema = .object(["decay": .number(.unitExclusive)])

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        decay = try c.value("decay", default: decay)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        try c.put("decay", decay)
    }
}

/// The `train` section.
public struct TrainConfig: Codable, Equatable, Sendable {
    public var epochs = 10
    public var gradClip: GradClip? = nil
    /// Optimizer step every `accumulate` batches (gradient accumulation).
    public var accumulate = 1
    /// Log a metrics line every `log_every` steps.
    public var logEvery = 50
    /// Evaluate every `eval_every` epochs (0: only after the last epoch).
    public var evalEvery = 1
    public var earlyStopping: EarlyStopping? = nil
    public var nanPolicy: NaNPolicy = .stop
    /// Compute with subnormal floats flushed to zero (see `Denormals`), as
    /// `torch.set_flush_denormal(True)`; false keeps full IEEE gradual underflow, and its slowdown.
    public var flushDenormals = true
    /// The most memory a run may be estimated to need, in GiB (nil: 80% of physical memory, or of
    /// the container's cgroup limit when lower); a
    /// model over it is refused before anything is allocated (`ModelMemoryEstimate`).
    public var memoryLimit: Double? = nil
    /// Test-time augmentation of every evaluation (epoch evals, best.mge, `ntrain eval`'s default).
    public var tta: TestTimeAugmentation = .none
    /// An exponential moving average of the weights, evaluated and saved (nil: none).
    public var ema: EMAConfig? = nil

    public init() {}

    static let schema: Schema = .object([
        "epochs": .integer(.atLeastOne), "grad_clip": .nullable(GradClip.schema), "accumulate": .integer(.atLeastOne),
        "log_every": .integer(.atLeastOne), "eval_every": .integer(.nonNegative),
        "early_stopping": .nullable(EarlyStopping.schema), "nan_policy": .choice(NaNPolicy.self),
        "flush_denormals": .bool, "memory_limit": .nullable(.number(.positive)), "tta": .choice(TestTimeAugmentation.self),
        "ema": .nullable(EMAConfig.schema),
    ])

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        epochs = try c.value("epochs", default: epochs)
        gradClip = try c.optional("grad_clip")
        accumulate = try c.value("accumulate", default: accumulate)
        logEvery = try c.value("log_every", default: logEvery)
        evalEvery = try c.value("eval_every", default: evalEvery)
        earlyStopping = try c.optional("early_stopping")
        nanPolicy = try c.value("nan_policy", default: nanPolicy)
        flushDenormals = try c.value("flush_denormals", default: flushDenormals)
        memoryLimit = try c.optional("memory_limit")
        tta = try c.value("tta", default: tta)
        ema = try c.optional("ema")
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        try c.put("epochs", epochs)
        try c.putOptional("grad_clip", gradClip)
        try c.put("accumulate", accumulate)
        try c.put("log_every", logEvery)
        try c.put("eval_every", evalEvery)
        try c.putOptional("early_stopping", earlyStopping)
        try c.put("nan_policy", nanPolicy)
        try c.put("flush_denormals", flushDenormals)
        try c.putOptional("memory_limit", memoryLimit)
        try c.put("tta", tta)
        try c.putOptional("ema", ema)
    }
}

/// The `checkpoint` section: when to write `epoch-NNNN.mge`, how many to keep, what `best.mge` tracks.
public struct CheckpointConfig: Codable, Equatable, Sendable {
    /// Write an epoch checkpoint every `every` epochs (0: only last.mge and best.mge).
    public var every = 1
    /// Keep the newest `keep_last` epoch checkpoints (0: keep all).
    public var keepLast = 3
    public var monitor: MonitoredMetric = .loss
    public var mode: MonitorMode = .min

    public init() {}

    static let schema: Schema = .object([
        "every": .integer(.nonNegative), "keep_last": .integer(.nonNegative), "monitor": .choice(MonitoredMetric.self),
        "mode": .choice(MonitorMode.self),
    ])

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        every = try c.value("every", default: every)
        keepLast = try c.value("keep_last", default: keepLast)
        monitor = try c.value("monitor", default: monitor)
        mode = try c.value("mode", default: MonitorMode.natural(for: monitor))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        try c.put("every", every)
        try c.put("keep_last", keepLast)
        try c.put("monitor", monitor)
        try c.put("mode", mode)
    }
}

/// The `logging` section: which run-directory logs to write besides train.log.
public struct LoggingConfig: Codable, Equatable, Sendable {
    public var tensorboard = true
    public var csv = true

    public init() {}

    static let schema: Schema = .object(["tensorboard": .bool, "csv": .bool])

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        tensorboard = try c.value("tensorboard", default: tensorboard)
        csv = try c.value("csv", default: csv)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        try c.put("tensorboard", tensorboard)
        try c.put("csv", csv)
    }
}
