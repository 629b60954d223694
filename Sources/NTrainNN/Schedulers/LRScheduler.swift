import NTrainCore

/// A learning-rate schedule as a pure function of the epoch (or step) counter and the base learning
/// rate: PyTorch's closed forms (`_get_closed_form_lr`). Schedules hold only their settings; the
/// counter lives in the `ScheduledLR` that drives an optimizer, so composition (`ChainedScheduler`,
/// `SequentialLR`) and exact resumption need no hidden state.
public protocol LRSchedule: Sendable {
    /// The schedule kind (`"step"`, `"cosine"`, `"chain(linear,exponential)"`), recorded in saved
    /// state: a resumed run refuses state saved for another kind. Settings are not part of it, so a
    /// resumed run may change them (e.g. a longer cosine period when `--epochs` is raised).
    var name: String { get }
    /// The learning rate at counter value `epoch` (0 = before the first `step()`), for a schedule
    /// that starts from `base`.
    func learningRate(atEpoch epoch: Int, base: Double) -> Double
    /// The momentum the schedule sets at counter value `epoch`, for schedules that cycle it
    /// (OneCycleLR); nil leaves the optimizer's momentum alone.
    func momentum(atEpoch epoch: Int) -> Double?
}

extension LRSchedule {
    public func momentum(atEpoch epoch: Int) -> Double? { nil }
}

/// A stateful scheduler bound to an optimizer: each `step()` advances its counter and sets the
/// optimizer's `learningRate`. As in PyTorch, constructing it sets the epoch-0 learning rate, and
/// `step()` is called after the optimizer's step, once per epoch or per iteration.
///
/// The counter and everything else needed to continue exactly are in `stateDict()`.
public protocol LRScheduler: AnyObject {
    /// PyTorch's `last_epoch`: how many times `step()` has been called.
    var lastEpoch: Int { get }
    /// The learning rate this scheduler last set (double precision; the optimizer holds it as Float).
    var learningRate: Double { get }
    /// Whether `step(metric:)` must be used (ReduceLROnPlateau).
    var needsMetric: Bool { get }
    /// Advances the schedule by one epoch (or step).
    func step()
    /// Advances with the monitored metric of the epoch just finished. Schedulers that do not use a
    /// metric ignore it.
    func step(metric: Double)
    func stateDict() -> SchedulerState
    /// Restores the counter (and plateau bookkeeping) and sets the optimizer's learning rate.
    /// Throws `SchedulerError` if the state belongs to another kind of scheduler or is invalid.
    func load(state: SchedulerState) throws
}

extension LRScheduler {
    public var needsMetric: Bool { false }
    public func step(metric: Double) { step() }
}

/// Invalid scheduler settings or saved state.
public enum SchedulerError: Error, CustomStringConvertible, Equatable {
    case invalidParameter(scheduler: String, parameter: String, value: String, expected: String)
    case stateMismatch(expected: String, found: String)
    case invalidState(field: String, value: String)

    public var description: String {
        switch self {
        case let .invalidParameter(scheduler, parameter, value, expected):
            return "scheduler \(scheduler): invalid \(parameter) \(value); expected \(expected). Fix scheduler.\(parameter) in the config"
        case let .stateMismatch(expected, found):
            return "scheduler state was saved for '\(found)' but the scheduler is '\(expected)'; resume with the config the checkpoint was saved with, or start a fresh run"
        case let .invalidState(field, value):
            return "scheduler state field '\(field)' = \(value) is invalid; the checkpoint is corrupt"
        }
    }
}

/// Closed-form helper: `base · gammaᵏ` computed as PyTorch does (`gamma ** k` in double).
@inline(__always)
func decayed(_ base: Double, _ gamma: Double, _ k: Int) -> Double {
    base * pow(gamma, Double(k))
}

import Foundation
