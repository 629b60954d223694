/// The `scheduler` section: how the learning rate changes per epoch or per step. `chain` multiplies
/// the factors of its `schedulers`; `sequential` runs them one after another, switching at `milestones`.
public struct SchedulerConfig: Codable, Equatable, Sendable {
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

    static func keys(for type: SchedulerKind) -> [String: Schema] {
        switch type {
        case .constant: return [:]
        case .step: return ["step_size": .integer(.atLeastOne), "gamma": .number(.positive)]
        case .multistep: return ["milestones": .array(.integer(.atLeastOne)), "gamma": .number(.positive)]
        case .exponential: return ["gamma": .number(.positive)]
        case .cosine: return ["t_max": .nullable(.integer(.atLeastOne)), "eta_min": .number(.nonNegative)]
        case .inverseTime: return ["period": .number(.positive), "power": .number(.nonNegative)]
        case .piecewise: return ["values": .array(.number(.nonNegative), minCount: 1)]
        case .plateau:
            return [
                "monitor": .choice(MonitoredMetric.self), "mode": .choice(MonitorMode.self), "factor": .number(.unitExclusive),
                "patience": .integer(.nonNegative), "threshold": .number(.nonNegative), "cooldown": .integer(.nonNegative),
                "min_lr": .number(.nonNegative),
            ]
        case .warmup:
            return ["start_factor": .number(.unitPositive), "end_factor": .number(.unitPositive), "total_iters": .integer(.atLeastOne)]
        case .chain: return ["schedulers": .array(.deferred { schema(nested: true) }, minCount: 1)]
        case .oneCycle:
            return [
                "total_steps": .nullable(.integer(.atLeastOne)), "pct_start": .number(.unitExclusive), "div_factor": .number(.positive),
                "final_div_factor": .number(.positive), "anneal_strategy": .choice(AnnealStrategy.self), "three_phase": .bool,
                "cycle_momentum": .bool, "base_momentum": .number(.unitOpen), "max_momentum": .number(.unitOpen),
            ]
        case .sequential:
            return ["schedulers": .array(.deferred { schema(nested: true) }, minCount: 1), "milestones": .array(.integer(.atLeastOne))]
        }
    }

    static func schema(nested: Bool) -> Schema {
        var cases: [String: [String: Schema]] = [:]
        for kind in SchedulerKind.allCases { cases[kind.rawValue] = keys(for: kind) }
        return .variants(
            key: "type", defaultCase: SchedulerKind.constant.rawValue,
            common: nested ? [:] : ["interval": .choice(ScheduleInterval.self)], cases: cases)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        self.init(type: try c.value("type", default: .constant))
        interval = try c.value("interval", default: interval)
        stepSize = try c.value("step_size", default: stepSize)
        gamma = try c.value("gamma", default: gamma)
        milestones = try c.value("milestones", default: milestones)
        guard zip(milestones, milestones.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw c.error("milestones", "must be strictly increasing, got \(milestones)")
        }
        tMax = try c.optional("t_max")
        etaMin = try c.value("eta_min", default: etaMin)
        period = try c.value("period", default: period)
        power = try c.value("power", default: power)
        values = try c.value("values", default: values)
        if type == .piecewise && values.isEmpty { throw c.error("values", "missing; list the learning rate of each epoch") }
        monitor = try c.value("monitor", default: monitor)
        mode = try c.value("mode", default: MonitorMode.natural(for: monitor))
        factor = try c.value("factor", default: factor)
        patience = try c.value("patience", default: patience)
        threshold = try c.value("threshold", default: threshold)
        cooldown = try c.value("cooldown", default: cooldown)
        minLR = try c.value("min_lr", default: minLR)
        startFactor = try c.value("start_factor", default: startFactor)
        endFactor = try c.value("end_factor", default: endFactor)
        totalIters = try c.value("total_iters", default: totalIters)
        schedulers = try c.value("schedulers", default: schedulers)
        totalSteps = try c.optional("total_steps")
        pctStart = try c.value("pct_start", default: pctStart)
        divFactor = try c.value("div_factor", default: divFactor)
        finalDivFactor = try c.value("final_div_factor", default: finalDivFactor)
        annealStrategy = try c.value("anneal_strategy", default: annealStrategy)
        threePhase = try c.value("three_phase", default: threePhase)
        cycleMomentum = try c.value("cycle_momentum", default: cycleMomentum)
        baseMomentum = try c.value("base_momentum", default: baseMomentum)
        maxMomentum = try c.value("max_momentum", default: maxMomentum)
        if (type == .chain || type == .sequential) && schedulers.isEmpty {
            throw c.error("schedulers", "missing; list the schedulers to combine")
        }
        if type == .sequential && milestones.count != schedulers.count - 1 {
            throw c.error("milestones", "sequential with \(schedulers.count) schedulers needs \(schedulers.count - 1) milestones, got \(milestones.count)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        try encode(to: encoder, nested: encoder.codingPath.count > 1)
    }

    private func encode(to encoder: Encoder, nested: Bool) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        try c.put("type", type)
        if !nested { try c.put("interval", interval) }
        let keys = Self.keys(for: type)
        func put<T: Encodable>(_ key: String, _ value: T) throws { if keys[key] != nil { try c.put(key, value) } }
        try put("step_size", stepSize)
        try put("gamma", gamma)
        try put("milestones", milestones)
        if keys["t_max"] != nil { try c.putOptional("t_max", tMax) }
        try put("eta_min", etaMin)
        try put("period", period)
        try put("power", power)
        try put("values", values)
        try put("monitor", monitor)
        try put("mode", mode)
        try put("factor", factor)
        try put("patience", patience)
        try put("threshold", threshold)
        try put("cooldown", cooldown)
        try put("min_lr", minLR)
        try put("start_factor", startFactor)
        try put("end_factor", endFactor)
        try put("total_iters", totalIters)
        try put("schedulers", schedulers)
        if keys["total_steps"] != nil { try c.putOptional("total_steps", totalSteps) }
        try put("pct_start", pctStart)
        try put("div_factor", divFactor)
        try put("final_div_factor", finalDivFactor)
        try put("anneal_strategy", annealStrategy)
        try put("three_phase", threePhase)
        try put("cycle_momentum", cycleMomentum)
        try put("base_momentum", baseMomentum)
        try put("max_momentum", maxMomentum)
    }
}
