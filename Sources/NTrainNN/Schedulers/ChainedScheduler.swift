/// PyTorch's `ChainedScheduler`: all schedules act at once, each multiplying the learning rate by
/// its own factor: lr(t) = base · Π (scheduleᵢ(t) / base).
///
/// This is exactly PyTorch's result for multiplicative schedules (constant, step, multistep,
/// exponential, linear, inverse time, cosine with etaMin 0). For a cosine schedule with etaMin > 0
/// or a piecewise one, the factor is its closed-form value relative to the base.
public struct ChainedScheduler: LRSchedule {
    public let schedules: [any LRSchedule]
    public var name: String { "chain(" + schedules.map(\.name).joined(separator: ",") + ")" }

    public init(_ schedules: [any LRSchedule]) throws {
        guard !schedules.isEmpty else {
            throw SchedulerError.invalidParameter(scheduler: "chain", parameter: "schedulers", value: "[]", expected: "at least one scheduler")
        }
        self.schedules = schedules
    }

    public func learningRate(atEpoch epoch: Int, base: Double) -> Double {
        guard base != 0 else { return schedules.count == 1 ? schedules[0].learningRate(atEpoch: epoch, base: 0) : 0 }
        var lr = base
        for s in schedules { lr *= s.learningRate(atEpoch: epoch, base: base) / base }
        return lr
    }

    /// The last schedule's that cycles momentum (PyTorch's chain applies each in turn).
    public func momentum(atEpoch epoch: Int) -> Double? {
        schedules.reversed().lazy.compactMap { $0.momentum(atEpoch: epoch) }.first
    }
}
