/// PyTorch's `StepLR`: multiplies the learning rate by `gamma` every `stepSize` epochs.
///
/// lr(t) = base · gamma^⌊t / stepSize⌋. Default gamma is PyTorch's 0.1.
public struct StepLR: LRSchedule {
    public let stepSize: Int
    public let gamma: Double
    public var name: String { "step" }

    public init(stepSize: Int, gamma: Double = 0.1) throws {
        guard stepSize >= 1 else {
            throw SchedulerError.invalidParameter(scheduler: "step", parameter: "step_size", value: "\(stepSize)", expected: "an integer ≥ 1")
        }
        guard gamma.isFinite, gamma >= 0 else {
            throw SchedulerError.invalidParameter(scheduler: "step", parameter: "gamma", value: "\(gamma)", expected: "a finite value ≥ 0")
        }
        self.stepSize = stepSize
        self.gamma = gamma
    }

    public func learningRate(atEpoch epoch: Int, base: Double) -> Double {
        decayed(base, gamma, epoch / stepSize)
    }
}
