import NTrainCore
import NTrainNN

/// Builds the loss, optimizer and LR scheduler an experiment names.
public enum TrainingFactory {
    public static func loss(_ c: LossConfig) -> Loss {
        switch c.type {
        case .crossEntropy: return .crossEntropy(labelSmoothing: Float(c.labelSmoothing))
        case .nll: return .nll
        case .mse: return .mse
        case .l1: return .l1
        case .smoothL1: return .smoothL1(beta: Float(c.beta))
        case .binaryCrossEntropy: return .binaryCrossEntropy
        case .binaryCrossEntropyWithLogits: return .binaryCrossEntropyWithLogits
        }
    }

    /// The configured optimizer over `model`'s parameters, split into `optimizer.groups` when
    /// the config has them (a group that selects no parameter is a config error: a typo).
    public static func optimizer(_ c: OptimizerConfig, model: Module) throws -> any Optimizer {
        guard !c.groups.isEmpty else { return try optimizer(c, parameters: model.parameters) }
        var kinds: [ObjectIdentifier: ParameterLayerKind] = [:]
        for (_, module) in model.namedModules() {
            let kind: ParameterLayerKind? = module is BatchNorm ? .batchNorm : module is Conv2d ? .conv2d : module is Linear ? .linear : nil
            for (_, t) in module.localParameters { kinds[ObjectIdentifier(t)] = kind }
        }
        let named = model.namedParameters()
        var members = Array(repeating: [Int](), count: c.groups.count + 1)
        for (i, (name, t)) in named.enumerated() {
            let g = c.groups.firstIndex { $0.selects(name: name, kind: kinds[ObjectIdentifier(t)]) } ?? c.groups.count
            members[g].append(i)
        }
        if let empty = c.groups.indices.first(where: { members[$0].isEmpty }) {
            throw EngineError.invalidModel("optimizer.groups[\(empty)] selects no parameter (earlier groups take a parameter first); "
                + "the model's parameters are " + named.prefix(12).map(\.0).joined(separator: ", ") + (named.count > 12 ? ", …" : ""))
        }
        var groups: [ParameterGroups.Group] = []
        for (g, indices) in members.enumerated() where !indices.isEmpty {
            var settings = c
            settings.groups = []
            let scale = g < c.groups.count ? c.groups[g].lrScale : 1
            if g < c.groups.count, let wd = c.groups[g].weightDecay { settings.weightDecay = wd }
            let inner = try optimizer(settings, parameters: indices.map { named[$0].1 })
            groups.append(ParameterGroups.Group(optimizer: inner, learningRateScale: Float(scale), indices: indices))
        }
        return ParameterGroups(parameters: named.map(\.1), groups: groups, learningRate: Float(c.lr))
    }

    public static func optimizer(_ c: OptimizerConfig, parameters: [Tensor]) throws -> any Optimizer {
        let lr = Float(c.lr), wd = Float(c.weightDecay)
        let betas = (Float(c.betas[0]), Float(c.betas[1]))
        switch c.type {
        case .sgd:
            return try SGD(parameters: parameters, learningRate: lr, momentum: Float(c.momentum), dampening: Float(c.dampening),
                           weightDecay: wd, nesterov: c.nesterov)
        case .adam:
            return try Adam(parameters: parameters, learningRate: lr, betas: betas, eps: Float(c.eps), weightDecay: wd, amsgrad: c.amsgrad)
        case .adamw:
            return try AdamW(parameters: parameters, learningRate: lr, betas: betas, eps: Float(c.eps), weightDecay: wd, amsgrad: c.amsgrad)
        case .nadam:
            return try NAdam(parameters: parameters, learningRate: lr, betas: betas, eps: Float(c.eps), weightDecay: wd,
                             momentumDecay: Float(c.momentumDecay))
        case .adagrad:
            return try Adagrad(parameters: parameters, learningRate: lr, lrDecay: Float(c.lrDecay), weightDecay: wd,
                               initialAccumulatorValue: Float(c.initialAccumulatorValue), eps: Float(c.eps))
        case .rmsprop:
            return try RMSprop(parameters: parameters, learningRate: lr, alpha: Float(c.alpha), eps: Float(c.eps), weightDecay: wd,
                               momentum: Float(c.momentum), centered: c.centered)
        }
    }

    /// The scheduler, stepping once per `interval` unit; `horizon` is the run's length in those
    /// units (cosine's default period).
    public static func scheduler(_ c: SchedulerConfig, optimizer: any Optimizer, horizon: Int) throws -> any LRScheduler {
        if c.type == .plateau {
            return try ReduceLROnPlateau(optimizer: optimizer, mode: c.mode == .min ? .min : .max, factor: c.factor,
                                         patience: c.patience, threshold: c.threshold, cooldown: c.cooldown, minLR: c.minLR)
        }
        let schedule = try schedule(c, horizon: horizon)
        if schedule.momentum(atEpoch: 0) != nil && optimizer.cycledMomentum == nil {
            // PyTorch: "optimizer must support momentum or beta1 with `cycle_momentum` option enabled".
            throw EngineError.invalidModel("scheduler.cycle_momentum: optimizer \(optimizer.name) has no momentum or beta1 to cycle; "
                + "set scheduler.cycle_momentum to false or use sgd, adam, adamw, nadam or rmsprop")
        }
        return ScheduledLR(optimizer: optimizer, schedule: schedule)
    }

    static func schedule(_ c: SchedulerConfig, horizon: Int) throws -> any LRSchedule {
        switch c.type {
        case .constant: return try ConstantLR(factor: 1, totalIters: 0)
        case .step: return try StepLR(stepSize: c.stepSize, gamma: c.gamma)
        case .multistep: return try MultiStepLR(milestones: c.milestones, gamma: c.gamma)
        case .exponential: return try ExponentialLR(gamma: c.gamma)
        case .cosine: return try CosineAnnealingLR(tMax: c.tMax ?? max(1, horizon), etaMin: c.etaMin)
        case .inverseTime: return try InverseTimeLR(decaySteps: c.period, power: c.power)
        case .piecewise: return try PiecewiseLR(values: c.values)
        case .warmup: return try LinearLR(startFactor: c.startFactor, endFactor: c.endFactor, totalIters: c.totalIters)
        case .chain: return try ChainedScheduler(c.schedulers.map { try schedule($0, horizon: horizon) })
        case .sequential: return try SequentialLR(c.schedulers.map { try schedule($0, horizon: horizon) }, milestones: c.milestones)
        case .oneCycle:
            return try OneCycleLR(totalSteps: c.totalSteps ?? max(2, horizon), pctStart: c.pctStart, divFactor: c.divFactor,
                                  finalDivFactor: c.finalDivFactor, anneal: c.annealStrategy == .cos ? .cos : .linear, threePhase: c.threePhase,
                                  momentumRange: c.cycleMomentum ? (c.baseMomentum, c.maxMomentum) : nil)
        case .plateau:
            throw EngineError.invalidModel("scheduler: plateau cannot be nested inside chain or sequential")
        }
    }
}
