import Foundation

/// PyTorch's `OneCycleLR` (Smith & Topin's 1cycle), with the optimizer's learning rate as `max_lr`:
/// from `max_lr / divFactor` up to `max_lr` over the first `pctStart` of `totalSteps`, then down to
/// `max_lr / divFactor / finalDivFactor` (cosine or linear). `threePhase` goes back to the start
/// value by 2·pctStart and then anneals to the minimum, as PyTorch's `three_phase=True`.
///
/// With `cycleMomentum` (PyTorch's default) the optimizer's momentum (SGD's momentum, Adam's β1)
/// moves the other way, from `maxMomentum` down to `baseMomentum` while the learning rate rises and
/// back while it falls. Past `totalSteps` the last value holds (PyTorch raises instead).
public struct OneCycleLR: LRSchedule {
    public enum Anneal: String, Sendable { case cos, linear }

    public let totalSteps: Int
    public let pctStart: Double
    public let divFactor: Double
    public let finalDivFactor: Double
    public let anneal: Anneal
    public let threePhase: Bool
    /// nil: momentum is not cycled (`cycle_momentum=False`).
    public let momentumRange: (base: Double, max: Double)?
    public var name: String { "one_cycle" }

    public init(totalSteps: Int, pctStart: Double = 0.3, divFactor: Double = 25, finalDivFactor: Double = 1e4,
                anneal: Anneal = .cos, threePhase: Bool = false, momentumRange: (base: Double, max: Double)? = (0.85, 0.95)) throws {
        func invalid(_ p: String, _ v: Any, _ e: String) -> SchedulerError {
            .invalidParameter(scheduler: "one_cycle", parameter: p, value: "\(v)", expected: e)
        }
        guard totalSteps >= 2 else { throw invalid("total_steps", totalSteps, "an integer ≥ 2") }
        guard pctStart > 0, pctStart < 1 else { throw invalid("pct_start", pctStart, "a value in (0, 1)") }
        guard divFactor > 0 else { throw invalid("div_factor", divFactor, "a value > 0") }
        guard finalDivFactor > 0 else { throw invalid("final_div_factor", finalDivFactor, "a value > 0") }
        // PyTorch divides by each phase's length; a phase of zero steps would divide by zero.
        let firstEnd = pctStart * Double(totalSteps) - 1
        guard firstEnd > 0, Double(totalSteps - 1) > (threePhase ? 2 * firstEnd : firstEnd) else {
            throw invalid("pct_start", pctStart, "a value that leaves every phase at least one step of the \(totalSteps)")
        }
        self.totalSteps = totalSteps
        self.pctStart = pctStart
        self.divFactor = divFactor
        self.finalDivFactor = finalDivFactor
        self.anneal = anneal
        self.threePhase = threePhase
        self.momentumRange = momentumRange
    }

    public func learningRate(atEpoch epoch: Int, base: Double) -> Double {
        let initial = base / divFactor, minimum = initial / finalDivFactor
        return interpolate(epoch, threePhase ? [initial, base, initial, minimum] : [initial, base, minimum])
    }

    /// Momentum moves opposite to the learning rate: max → base → max (→ max in the third phase).
    public func momentum(atEpoch epoch: Int) -> Double? {
        guard let m = momentumRange else { return nil }
        return interpolate(epoch, threePhase ? [m.max, m.base, m.max, m.max] : [m.max, m.base, m.max])
    }

    /// The value at step `epoch` of the curve through `points` at PyTorch's phase ends.
    private func interpolate(_ epoch: Int, _ points: [Double]) -> Double {
        let firstEnd = pctStart * Double(totalSteps) - 1
        let ends = threePhase ? [firstEnd, 2 * pctStart * Double(totalSteps) - 2, Double(totalSteps - 1)] : [firstEnd, Double(totalSteps - 1)]
        let phases = ends.indices.map { (end: ends[$0], from: points[$0], to: points[$0 + 1]) }
        let step = Double(min(epoch, totalSteps))
        var start = 0.0
        for (i, phase) in phases.enumerated() {
            if step <= phase.end || i == phases.count - 1 {
                let pct = (step - start) / (phase.end - start)
                switch anneal {
                case .cos: return phase.to + (phase.from - phase.to) / 2 * (cos(Double.pi * pct) + 1)
                case .linear: return (phase.to - phase.from) * pct + phase.from
                }
            }
            start = phase.end
        }
        return points[points.count - 1]
    }
}
