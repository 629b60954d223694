/// PyTorch's `ExponentialLR`: multiplies the learning rate by `gamma` every epoch.
///
/// lr(t) = base · gammaᵗ.
public struct ExponentialLR: LRSchedule {
    public let gamma: Double
    public var name: String { "exponential" }

    public init(gamma: Double) throws {
        guard gamma.isFinite, gamma >= 0 else {
            throw SchedulerError.invalidParameter(scheduler: "exponential", parameter: "gamma", value: "\(gamma)", expected: "a finite value ≥ 0")
        }
        self.gamma = gamma
    }

    public func learningRate(atEpoch epoch: Int, base: Double) -> Double {
        decayed(base, gamma, epoch)
    }
}
