/// PyTorch's `MultiStepLR`: multiplies the learning rate by `gamma` at each milestone epoch.
///
/// lr(t) = base · gamma^(number of milestones ≤ t). A milestone listed twice counts twice, as in
/// PyTorch. Default gamma is PyTorch's 0.1.
public struct MultiStepLR: LRSchedule {
    /// Sorted milestones.
    public let milestones: [Int]
    public let gamma: Double
    public var name: String { "multistep" }

    public init(milestones: [Int], gamma: Double = 0.1) throws {
        if let bad = milestones.first(where: { $0 < 0 }) {
            throw SchedulerError.invalidParameter(scheduler: "multistep", parameter: "milestones", value: "\(bad)", expected: "epochs ≥ 0")
        }
        guard gamma.isFinite, gamma >= 0 else {
            throw SchedulerError.invalidParameter(scheduler: "multistep", parameter: "gamma", value: "\(gamma)", expected: "a finite value ≥ 0")
        }
        self.milestones = milestones.sorted()
        self.gamma = gamma
    }

    public func learningRate(atEpoch epoch: Int, base: Double) -> Double {
        decayed(base, gamma, milestones.count(where: { $0 <= epoch }))
    }
}
