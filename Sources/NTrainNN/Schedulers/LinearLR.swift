/// PyTorch's `LinearLR`, typically a warmup: the factor on the base learning rate moves linearly
/// from `startFactor` to `endFactor` over `totalIters` steps, then stays at `endFactor`.
///
/// lr(t) = base · (startFactor + (endFactor − startFactor) · min(t, totalIters) / totalIters).
/// Defaults are PyTorch's: start 1/3, end 1, 5 iterations.
public struct LinearLR: LRSchedule {
    public let startFactor: Double
    public let endFactor: Double
    public let totalIters: Int
    public var name: String { "linear" }

    public init(startFactor: Double = 1.0 / 3.0, endFactor: Double = 1, totalIters: Int = 5) throws {
        guard startFactor > 0, startFactor <= 1 else {
            throw SchedulerError.invalidParameter(scheduler: "linear", parameter: "start_factor", value: "\(startFactor)", expected: "a value in (0, 1]")
        }
        guard endFactor >= 0, endFactor <= 1 else {
            throw SchedulerError.invalidParameter(scheduler: "linear", parameter: "end_factor", value: "\(endFactor)", expected: "a value in [0, 1]")
        }
        guard totalIters >= 1 else {
            throw SchedulerError.invalidParameter(scheduler: "linear", parameter: "total_iters", value: "\(totalIters)", expected: "an integer ≥ 1")
        }
        self.startFactor = startFactor
        self.endFactor = endFactor
        self.totalIters = totalIters
    }

    public func learningRate(atEpoch epoch: Int, base: Double) -> Double {
        base * (startFactor + (endFactor - startFactor) * Double(min(totalIters, epoch)) / Double(totalIters))
    }
}
