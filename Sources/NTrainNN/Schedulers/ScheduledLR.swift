import NTrainCore

/// Drives an optimizer's learning rate with an `LRSchedule`, with PyTorch's `LRScheduler` counter
/// semantics: construction sets the lr for epoch 0, and each `step()` advances `lastEpoch` by one
/// and sets `schedule.learningRate(atEpoch: lastEpoch, base:)`.
///
/// The base learning rate is the optimizer's at construction (PyTorch's `initial_lr`). Because the
/// learning rate is a closed form of the counter, restoring `lastEpoch` resumes exactly.
///
///     let scheduler = ScheduledLR(optimizer: sgd, schedule: try StepLR(stepSize: 30, gamma: 0.1))
///     for epoch in 0..<epochs { train(); scheduler.step() }
public final class ScheduledLR: LRScheduler {
    public let optimizer: any Optimizer
    public let schedule: any LRSchedule
    public private(set) var baseLearningRate: Double
    public private(set) var lastEpoch: Int
    public private(set) var learningRate: Double

    public init(optimizer: any Optimizer, schedule: any LRSchedule) {
        self.optimizer = optimizer
        self.schedule = schedule
        self.baseLearningRate = Double(optimizer.learningRate)
        self.lastEpoch = 0
        self.learningRate = schedule.learningRate(atEpoch: 0, base: baseLearningRate)
        optimizer.learningRate = Float(learningRate)
        if let m = schedule.momentum(atEpoch: 0) { optimizer.cycledMomentum = Float(m) }
    }

    public func step() {
        lastEpoch += 1
        apply()
    }

    private func apply() {
        learningRate = schedule.learningRate(atEpoch: lastEpoch, base: baseLearningRate)
        optimizer.learningRate = Float(learningRate)
        if let m = schedule.momentum(atEpoch: lastEpoch) { optimizer.cycledMomentum = Float(m) }
    }

    public func stateDict() -> SchedulerState {
        SchedulerState(scheduler: schedule.name, lastEpoch: lastEpoch, baseLearningRate: baseLearningRate, learningRate: learningRate)
    }

    public func load(state: SchedulerState) throws {
        guard state.scheduler == schedule.name else { throw SchedulerError.stateMismatch(expected: schedule.name, found: state.scheduler) }
        guard state.lastEpoch >= 0 else { throw SchedulerError.invalidState(field: "lastEpoch", value: "\(state.lastEpoch)") }
        guard state.baseLearningRate.isFinite, state.baseLearningRate >= 0 else {
            throw SchedulerError.invalidState(field: "baseLearningRate", value: "\(state.baseLearningRate)")
        }
        baseLearningRate = state.baseLearningRate
        lastEpoch = state.lastEpoch
        apply()
    }
}
