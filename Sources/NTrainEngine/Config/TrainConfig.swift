/// The `loss` section, written as a name (`"cross_entropy"`) or an object with options
/// (`{"type": "cross_entropy", "label_smoothing": 0.1}`).
public struct LossConfig: ConfigSection {
    public var type: LossKind
    /// cross_entropy only, in [0, 1).
    public var labelSmoothing = 0.0
    /// smooth_l1 only: where the loss switches from quadratic to linear.
    public var beta = 1.0
    public var reduction: Reduction = .mean

    public init() { self.init(type: .crossEntropy) }

    public init(type: LossKind) { self.type = type }

    static var variants: (key: String, values: [String], absent: String?)? { ("type", LossKind.allCases.map(\.rawValue), nil) }

    var variant: String { type.rawValue }

    /// A name alone, or the object form.
    static var schemaWithShorthand: Schema { .either([.choice(LossKind.self), schema]) }

    static var fields: [ConfigField<Self>] {
        [
            .value("type", \.type, .choice(LossKind.self), example: "\"mse\"", default: "required",
                   "`cross_entropy` on logits and integer labels, `nll` on log-probabilities, `binary_cross_entropy` on probabilities, `binary_cross_entropy_with_logits`, `mse`, `l1`, `smooth_l1`"),
            .value("reduction", \.reduction, .choice(Reduction.self), example: "\"sum\"", "the mean or the sum over the batch"),
            .value("label_smoothing", \.labelSmoothing, .number(.unitOpen), example: "0.1", "").only(["cross_entropy"]),
            .value("beta", \.beta, .number(.positive), example: "0.5", "where the loss turns from quadratic to linear").only(["smooth_l1"]),
        ]
    }

    public init(from decoder: Decoder) throws {
        if let name = try? decoder.singleValueContainer().decode(LossKind.self) {
            self.init(type: name)
            return
        }
        try self.init(fieldsFrom: decoder)
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
public struct EarlyStopping: ConfigSection {
    public var patience = 5
    public var monitor: MonitoredMetric = .loss
    public var mode: MonitorMode = .min
    public var minDelta = 0.0

    public init() {}


    static var fields: [ConfigField<Self>] {
        [
            .value("patience", \.patience, .integer(.atLeastOne), example: "2", "evaluations without improvement before training stops"),
            .value("monitor", \.monitor, .choice(MonitoredMetric.self), example: "\"accuracy\"", "the metric watched (as `checkpoint.monitor`)"),
            .value("mode", \.mode, .choice(MonitorMode.self), example: "\"max\"", default: "from monitor",
                   "`max` for accuracy/top5, `min` otherwise"),
            .value("min_delta", \.minDelta, .number(.nonNegative), example: "0.01", "the smallest change that counts as an improvement"),
        ]
    }

    mutating func finishDecoding(_ c: ConfigDecoding) throws {
        if !c.has("mode") { mode = .natural(for: monitor) }
    }
}

/// `train.ema`: timm's ModelEmaV2 after every optimizer step.
public struct EMAConfig: ConfigSection {
    public var decay = 0.999

    public init() {}

    public init(decay: Double) { self.decay = decay }


    static var fields: [ConfigField<Self>] {
        [.value("decay", \.decay, .number(.unitExclusive), example: "0.99", "d: after every optimizer step the average becomes d · average + (1 − d) · weights")]
    }
}

/// The `train` section.
public struct TrainConfig: ConfigSection {
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


    static var fields: [ConfigField<Self>] {
        [
            .value("epochs", \.epochs, .integer(.atLeastOne), example: "3",
                   "`--epochs` overrides; raising it on resume continues the schedule"),
            .optional("grad_clip", \.gradClip, GradClip.schema, example: #"{"max_norm": 1}"#,
                      "`{\"max_norm\": x}` (global L2 norm) or `{\"value\": x}` (each element), x > 0"),
            .value("accumulate", \.accumulate, .integer(.atLeastOne), example: "2", "optimizer step every N batches"),
            .value("log_every", \.logEvery, .integer(.atLeastOne), example: "10", "steps between progress lines / logged metrics"),
            .value("eval_every", \.evalEvery, .integer(.nonNegative), example: "0",
                   "epochs between evaluations; 0: only after the last epoch"),
            .optional("early_stopping", \.earlyStopping, EarlyStopping.schema, example: #"{"patience": 3}"#,
                      "stop when the monitored metric stops improving: `train.early_stopping` below"),
            .value("nan_policy", \.nanPolicy, .choice(NaNPolicy.self), example: "\"skip\"",
                   "`stop`: stop before a NaN/Inf step reaches the weights, keep the last good checkpoint; `skip`: drop the step and count it"),
            .value("flush_denormals", \.flushDenormals, .bool, example: "false",
                   "compute with subnormal floats (\\|x\\| < 2⁻¹²⁶) flushed to zero, in training and in `ntrain eval` of its checkpoints, as `torch.set_flush_denormal(True)`: a converging run otherwise slows down up to 2x on x86 (each subnormal costs a microcode assist). `false`: full IEEE gradual underflow"),
            .optional("memory_limit", \.memoryLimit, .number(.positive), example: "4",
                      "the most memory (GiB) training may be estimated to need; null: 80% of physical memory, or of the container's cgroup memory limit when lower. See *Model size and output checks* below"),
            .value("tta", \.tta, .choice(TestTimeAugmentation.self), example: "\"flip\"",
                   "test-time augmentation of every evaluation: `flip` averages each image's logits with those of its mirror image (left-right), as airbench and timm evaluate; `ntrain eval --tta none\\|flip` overrides it"),
            .optional("ema", \.ema, EMAConfig.schema, example: #"{"decay": 0.99}"#,
                      "an exponential moving average of the weights, as timm's `ModelEmaV2` (`train.ema` below): after every optimizer step each float entry of the state dict (BN running statistics included) becomes d · average + (1 − d) · value, integer buffers are copied. Every evaluation (epochs, `best.mge`, the final test split) uses the average; checkpoints hold the live weights as `model.*` (resume continues from them, and from the saved average) and the average as `ema.*`, which `ntrain eval` evaluates"),
        ]
    }
}

/// The `checkpoint` section: when to write `epoch-NNNN.mge`, how many to keep, what `best.mge` tracks.
public struct CheckpointConfig: ConfigSection {
    /// Write an epoch checkpoint every `every` epochs (0: only last.mge and best.mge).
    public var every = 1
    /// Keep the newest `keep_last` epoch checkpoints (0: keep all).
    public var keepLast = 3
    public var monitor: MonitoredMetric = .loss
    public var mode: MonitorMode = .min

    public init() {}


    static var fields: [ConfigField<Self>] {
        [
            .value("every", \.every, .integer(.nonNegative), example: "2",
                   "write `checkpoints/epoch-NNNN.mge` every N epochs; 0: only `last.mge`/`best.mge`"),
            .value("keep_last", \.keepLast, .integer(.nonNegative), example: "0", "epoch checkpoints kept; 0: keep all"),
            .value("monitor", \.monitor, .choice(MonitoredMetric.self), example: "\"accuracy\"", "metric for `best.mge`"),
            .value("mode", \.mode, .choice(MonitorMode.self), example: "\"max\"", default: "from monitor",
                   "`max` for accuracy/top5, `min` otherwise"),
        ]
    }

    mutating func finishDecoding(_ c: ConfigDecoding) throws {
        if !c.has("mode") { mode = .natural(for: monitor) }
    }
}

/// The `logging` section: which run-directory logs to write besides train.log.
public struct LoggingConfig: ConfigSection {
    public var tensorboard = true
    public var csv = true

    public init() {}


    static var fields: [ConfigField<Self>] {
        [
            .value("tensorboard", \.tensorboard, .bool, example: "false", "`events.out.tfevents.*` with loss, lr and metrics"),
            .value("csv", \.csv, .bool, example: "false", "`metrics.csv`"),
        ]
    }
}
