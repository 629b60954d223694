/// The `scheduler` section: how the learning rate changes per epoch or per step. `chain` multiplies
/// the factors of its `schedulers`; `sequential` runs them one after another, switching at `milestones`.
public struct SchedulerConfig: ConfigSection {
    public var type: SchedulerKind = .constant
    /// Top level only; nested schedulers follow their parent.
    public var interval: ScheduleInterval = .epoch
    /// step: decay every `step_size` epochs/steps.
    public var stepSize = 10
    /// step, multistep: 0.1; exponential: 0.9.
    public var gamma = 0.1
    /// multistep: epochs/steps at which to decay; sequential: where to switch to the next scheduler.
    public var milestones: [Int] = []
    /// cosine: period in epochs/steps; nil: the whole run.
    public var tMax: Int? = nil
    public var etaMin = 0.0
    /// inverse_time: lr0 · (1 + t / period) ^ -power.
    public var period = 1.0
    public var power = 1.0
    /// piecewise: the learning rate of each epoch/step; the last value holds afterwards.
    public var values: [Double] = []
    /// plateau: metric, direction (resolved from the metric), factor, patience, ...
    public var monitor: MonitoredMetric = .loss
    public var mode: MonitorMode = .min
    public var factor = 0.5
    public var patience = 10
    public var threshold = 1e-4
    public var cooldown = 0
    public var minLR = 0.0
    /// warmup: linear factor from `start_factor` to `end_factor` over `total_iters` epochs/steps.
    public var startFactor = 1.0 / 3.0
    public var endFactor = 1.0
    public var totalIters = 5
    /// chain, sequential.
    public var schedulers: [SchedulerConfig] = []
    /// one_cycle (PyTorch's OneCycleLR, max_lr = optimizer.lr); total_steps nil: the whole run.
    public var totalSteps: Int? = nil
    public var pctStart = 0.3
    public var divFactor = 25.0
    public var finalDivFactor = 1e4
    public var annealStrategy: AnnealStrategy = .cos
    public var threePhase = false
    /// one_cycle: move the optimizer's momentum (SGD, RMSprop) or β1 (Adam, NAdam) opposite to
    /// the learning rate, between these two (PyTorch's defaults).
    public var cycleMomentum = true
    public var baseMomentum = 0.85
    public var maxMomentum = 0.95

    public init(type: SchedulerKind = .constant) {
        self.type = type
        if type == .exponential { gamma = 0.9 }
    }

    public init() { self.init(type: .constant) }

    /// Nested schedulers (inside chain and sequential) follow their parent's interval.
    public func encode(to encoder: Encoder) throws {
        try encodeFields(to: encoder, skipping: encoder.codingPath.count > 1 ? ["interval"] : [])
    }

    static var variants: (key: String, values: [String], absent: String?)? {
        ("type", SchedulerKind.allCases.map(\.rawValue), SchedulerKind.constant.rawValue)
    }

    var variant: String { type.rawValue }

    /// The schema at the top level, or nested in chain/sequential (no `interval`).
    static func schema(nested: Bool) -> Schema {
        guard nested, case let .variants(key, absent, common, cases) = schema else { return schema }
        return .variants(key: key, defaultCase: absent, common: common.filter { $0.key != "interval" }, cases: cases)
    }

    static var fields: [ConfigField<Self>] {
        let nested = Schema.array(.deferred { schema(nested: true) }, minCount: 1)
        let oneCycle = ["one_cycle"]
        return [
            .value("type", \.type, .choice(SchedulerKind.self), example: "\"step\"", "the schedule (formulas above)"),
            .value("interval", \.interval, .choice(ScheduleInterval.self), example: "\"step\"",
                   "when the scheduler steps: after each epoch or each optimizer step (top level only; nested schedulers follow it)"),
            .value("step_size", \.stepSize, .integer(.atLeastOne), example: "3", "").only(["step"]),
            .value("gamma", \.gamma, .number(.positive), example: "0.5", default: "`0.1`; `0.9` for exponential", "")
                .only(["step", "multistep", "exponential"]),
            .value("milestones", \.milestones, .array(.integer(.atLeastOne)), example: "[2, 4]",
                   "strictly increasing; sequential: one fewer than its schedulers").only(["multistep", "sequential"]),
            .optional("t_max", \.tMax, .integer(.atLeastOne), example: "5", default: "`null` (the whole run)", "").only(["cosine"]),
            .value("eta_min", \.etaMin, .number(.nonNegative), example: "0.001", "").only(["cosine"]),
            .value("period", \.period, .number(.positive), example: "2", "").only(["inverse_time"]),
            .value("power", \.power, .number(.nonNegative), example: "0.5", "").only(["inverse_time"]),
            .value("values", \.values, .array(.number(.nonNegative), minCount: 1), example: "[0.1, 0.01]", default: "required",
                   "the learning rate of each epoch/step; the last holds afterwards").only(["piecewise"]),
            .value("monitor", \.monitor, .choice(MonitoredMetric.self), example: "\"accuracy\"", "").only(["plateau"]),
            .value("mode", \.mode, .choice(MonitorMode.self), example: "\"max\"", default: "from monitor", "").only(["plateau"]),
            .value("factor", \.factor, .number(.unitExclusive), example: "0.2", "").only(["plateau"]),
            .value("patience", \.patience, .integer(.nonNegative), example: "3", "").only(["plateau"]),
            .value("threshold", \.threshold, .number(.nonNegative), example: "0.01", "").only(["plateau"]),
            .value("cooldown", \.cooldown, .integer(.nonNegative), example: "2", "").only(["plateau"]),
            .value("min_lr", \.minLR, .number(.nonNegative), example: "0.0001", "").only(["plateau"]),
            .value("start_factor", \.startFactor, .number(.unitPositive), example: "0.1", default: "`1/3`", "").only(["warmup"]),
            .value("end_factor", \.endFactor, .number(.unitPositive), example: "0.5", "").only(["warmup"]),
            .value("total_iters", \.totalIters, .integer(.atLeastOne), example: "3", "").only(["warmup"]),
            .value("schedulers", \.schedulers, nested, example: #"[{"type": "step"}]"#, default: "required",
                   "the schedulers combined, without `interval`").only(["chain", "sequential"]),
            .optional("total_steps", \.totalSteps, .integer(.atLeastOne), example: "100", default: "`null` (the whole run)", "")
                .only(oneCycle),
            .value("pct_start", \.pctStart, .number(.unitExclusive), example: "0.5", "").only(oneCycle),
            .value("div_factor", \.divFactor, .number(.positive), example: "10", "").only(oneCycle),
            .value("final_div_factor", \.finalDivFactor, .number(.positive), example: "100", "").only(oneCycle),
            .value("anneal_strategy", \.annealStrategy, .choice(AnnealStrategy.self), example: "\"linear\"", "").only(oneCycle),
            .value("three_phase", \.threePhase, .bool, example: "true", "").only(oneCycle),
            .value("cycle_momentum", \.cycleMomentum, .bool, example: "false", "").only(oneCycle),
            .value("base_momentum", \.baseMomentum, .number(.unitOpen), example: "0.8", "").only(oneCycle),
            .value("max_momentum", \.maxMomentum, .number(.unitOpen), example: "0.9", "").only(oneCycle),
        ]
    }

    mutating func startDecoding(_ c: ConfigDecoding) throws { self = SchedulerConfig(type: try c.value("type", default: .constant)) }

    mutating func finishDecoding(_ c: ConfigDecoding) throws {
        if !c.has("mode") { mode = .natural(for: monitor) }
        guard zip(milestones, milestones.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw c.error("milestones", "must be strictly increasing, got \(milestones)")
        }
        if type == .piecewise && values.isEmpty { throw c.error("values", "missing; list the learning rate of each epoch") }
        if (type == .chain || type == .sequential) && schedulers.isEmpty {
            throw c.error("schedulers", "missing; list the schedulers to combine")
        }
        if type == .sequential && milestones.count != schedulers.count - 1 {
            throw c.error("milestones", "sequential with \(schedulers.count) schedulers needs \(schedulers.count - 1) milestones, got \(milestones.count)")
        }
    }
}
