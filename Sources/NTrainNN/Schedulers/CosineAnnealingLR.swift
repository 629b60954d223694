import Foundation

/// PyTorch's `CosineAnnealingLR` (SGDR without restarts), in its closed form:
///
/// lr(t) = etaMin + (base − etaMin) · (1 + cos(π·t / tMax)) / 2
///
/// PyTorch's `step()` uses an equivalent recursive form; the closed form gives the same values
/// without accumulated rounding. Past `tMax` the cosine continues (the lr rises again), as in
/// PyTorch. Default etaMin is PyTorch's 0.
public struct CosineAnnealingLR: LRSchedule {
    public let tMax: Int
    public let etaMin: Double
    public var name: String { "cosine" }

    public init(tMax: Int, etaMin: Double = 0) throws {
        guard tMax >= 1 else {
            throw SchedulerError.invalidParameter(scheduler: "cosine", parameter: "T_max", value: "\(tMax)", expected: "an integer ≥ 1")
        }
        guard etaMin.isFinite, etaMin >= 0 else {
            throw SchedulerError.invalidParameter(scheduler: "cosine", parameter: "eta_min", value: "\(etaMin)", expected: "a finite value ≥ 0")
        }
        self.tMax = tMax
        self.etaMin = etaMin
    }

    public func learningRate(atEpoch epoch: Int, base: Double) -> Double {
        etaMin + (base - etaMin) * (1 + cos(Double.pi * Double(epoch) / Double(tMax))) / 2
    }
}
