/// PyTorch's `SequentialLR`: runs `schedules[0]` until `milestones[0]`, then `schedules[1]`
/// restarted from its epoch 0 and the base learning rate, and so on.
///
/// lr(t) = schedules[k](t − m_{k−1}) with k = number of milestones ≤ t and m_{−1} = 0.
/// The usual warmup: `SequentialLR([LinearLR(startFactor: 0.1, totalIters: 5), CosineAnnealingLR(tMax: 95)], milestones: [5])`.
public struct SequentialLR: LRSchedule {
    public let schedules: [any LRSchedule]
    public let milestones: [Int]
    public var name: String { "sequential(" + schedules.map(\.name).joined(separator: ",") + ")" }

    public init(_ schedules: [any LRSchedule], milestones: [Int]) throws {
        guard !schedules.isEmpty else {
            throw SchedulerError.invalidParameter(scheduler: "sequential", parameter: "schedulers", value: "[]", expected: "at least one scheduler")
        }
        guard milestones.count == schedules.count - 1 else {
            throw SchedulerError.invalidParameter(scheduler: "sequential", parameter: "milestones", value: "\(milestones)",
                                                  expected: "\(schedules.count - 1) milestone(s), one fewer than the \(schedules.count) schedulers")
        }
        for (i, m) in milestones.enumerated() where m < 1 || (i > 0 && m <= milestones[i - 1]) {
            throw SchedulerError.invalidParameter(scheduler: "sequential", parameter: "milestones", value: "\(milestones)",
                                                  expected: "strictly increasing epochs ≥ 1")
        }
        self.schedules = schedules
        self.milestones = milestones
    }

    public func learningRate(atEpoch epoch: Int, base: Double) -> Double {
        let (k, start) = active(at: epoch)
        return schedules[k].learningRate(atEpoch: epoch - start, base: base)
    }

    public func momentum(atEpoch epoch: Int) -> Double? {
        let (k, start) = active(at: epoch)
        return schedules[k].momentum(atEpoch: epoch - start)
    }

    private func active(at epoch: Int) -> (Int, Int) {
        var k = 0
        while k < milestones.count && milestones[k] <= epoch { k += 1 }
        return (k, k == 0 ? 0 : milestones[k - 1])
    }
}
