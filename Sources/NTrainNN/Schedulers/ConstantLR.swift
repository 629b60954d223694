/// PyTorch's `ConstantLR`: the base learning rate times `factor` until `totalIters` steps have
/// passed, then the base learning rate. `ConstantLR(factor: 1)` is a plain constant schedule.
///
/// lr(t) = base · (t < totalIters ? factor : 1). Defaults are PyTorch's: factor 1/3, 5 iterations.
public struct ConstantLR: LRSchedule {
    public let factor: Double
    public let totalIters: Int
    public var name: String { "constant" }

    public init(factor: Double = 1.0 / 3.0, totalIters: Int = 5) throws {
        guard factor >= 0, factor <= 1 else {
            throw SchedulerError.invalidParameter(scheduler: "constant", parameter: "factor", value: "\(factor)", expected: "a value in [0, 1]")
        }
        guard totalIters >= 0 else {
            throw SchedulerError.invalidParameter(scheduler: "constant", parameter: "total_iters", value: "\(totalIters)", expected: "an integer ≥ 0")
        }
        self.factor = factor
        self.totalIters = totalIters
    }

    public func learningRate(atEpoch epoch: Int, base: Double) -> Double {
        epoch < totalIters ? base * factor : base
    }
}
