/// An explicit learning rate per epoch: lr(t) = values[t], and the last value from then on.
/// The values are absolute (the base learning rate is not used), like Caffe's and MXNet's
/// hand-written schedules. PyTorch equivalent: `LambdaLR(lambda t: values[min(t, n − 1)] / base)`.
public struct PiecewiseLR: LRSchedule {
    public let values: [Double]
    public var name: String { "piecewise" }

    public init(values: [Double]) throws {
        guard !values.isEmpty else {
            throw SchedulerError.invalidParameter(scheduler: "piecewise", parameter: "values", value: "[]", expected: "at least one learning rate")
        }
        if let bad = values.first(where: { !($0.isFinite && $0 >= 0) }) {
            throw SchedulerError.invalidParameter(scheduler: "piecewise", parameter: "values", value: "\(bad)", expected: "finite learning rates ≥ 0")
        }
        self.values = values
    }

    public func learningRate(atEpoch epoch: Int, base: Double) -> Double {
        values[min(max(epoch, 0), values.count - 1)]
    }
}
