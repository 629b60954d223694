import Foundation

/// Inverse-time ("reciprocal") decay: lr(t) = base · (1 + t / decaySteps)^(−power).
///
/// This is Caffe's `"inv"` policy, `base · (1 + γ·t)^(−power)` with γ = 1 / decaySteps (the policy
/// MegEngine's and Caffe's LeNet examples use, there per iteration with γ = 1e-4, power 0.75), and
/// TensorFlow's `InverseTimeDecay` when power = 1. PyTorch has no class for it; it equals
/// `LambdaLR(lambda t: (1 + t / decay_steps) ** -power)`. Default power 1.
public struct InverseTimeLR: LRSchedule {
    public let decaySteps: Double
    public let power: Double
    public var name: String { "inverse_time" }

    public init(decaySteps: Double, power: Double = 1) throws {
        guard decaySteps.isFinite, decaySteps > 0 else {
            throw SchedulerError.invalidParameter(scheduler: "inverse_time", parameter: "decay_steps", value: "\(decaySteps)", expected: "a finite value > 0")
        }
        guard power.isFinite, power >= 0 else {
            throw SchedulerError.invalidParameter(scheduler: "inverse_time", parameter: "power", value: "\(power)", expected: "a finite value ≥ 0")
        }
        self.decaySteps = decaySteps
        self.power = power
    }

    public func learningRate(atEpoch epoch: Int, base: Double) -> Double {
        base * pow(1 + Double(epoch) / decaySteps, -power)
    }
}
