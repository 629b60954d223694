import NTrainCore

/// PyTorch's `ReduceLROnPlateau`: multiplies the learning rate by `factor` when the monitored
/// metric has not improved for more than `patience` epochs.
///
/// Each `step(metric:)`: the metric improves on `best` when (mode min, relative threshold)
/// `metric < best·(1 − threshold)` (max: `metric > best·(1 + threshold)`; absolute threshold:
/// `best ∓ threshold`). Otherwise a bad epoch is counted. During `cooldown` epochs after a
/// reduction, bad epochs are not counted. When bad epochs exceed `patience` the learning rate
/// becomes `max(lr·factor, minLR)` (unchanged if that changes it by no more than `eps`).
///
/// Defaults are PyTorch's (patience 10, threshold 1e-4 relative, cooldown 0, min lr 0, eps 1e-8)
/// except `factor`: **0.5** (halve on plateau, ntrain's documented default) where PyTorch uses 0.1.
public final class ReduceLROnPlateau: LRScheduler {
    public enum Mode: String, Codable, Sendable { case min, max }
    public enum ThresholdMode: String, Codable, Sendable { case rel, abs }

    public let optimizer: any Optimizer
    public let mode: Mode
    public let factor: Double
    public let patience: Int
    public let threshold: Double
    public let thresholdMode: ThresholdMode
    public let cooldown: Int
    public let minLR: Double
    public let eps: Double

    public private(set) var lastEpoch = 0
    public private(set) var learningRate: Double
    public private(set) var best: Double
    public private(set) var numBadEpochs = 0
    public private(set) var cooldownCounter = 0
    private let baseLearningRate: Double

    public var needsMetric: Bool { true }

    public init(optimizer: any Optimizer, mode: Mode = .min, factor: Double = 0.5, patience: Int = 10, threshold: Double = 1e-4,
                thresholdMode: ThresholdMode = .rel, cooldown: Int = 0, minLR: Double = 0, eps: Double = 1e-8) throws {
        func bad(_ parameter: String, _ value: Any, _ expected: String) -> SchedulerError {
            .invalidParameter(scheduler: "plateau", parameter: parameter, value: "\(value)", expected: expected)
        }
        guard factor >= 0, factor < 1 else { throw bad("factor", factor, "a value in [0, 1)") }
        guard patience >= 0 else { throw bad("patience", patience, "an integer ≥ 0") }
        guard threshold.isFinite, threshold >= 0 else { throw bad("threshold", threshold, "a finite value ≥ 0") }
        guard cooldown >= 0 else { throw bad("cooldown", cooldown, "an integer ≥ 0") }
        guard minLR.isFinite, minLR >= 0 else { throw bad("min_lr", minLR, "a finite value ≥ 0") }
        guard eps.isFinite, eps >= 0 else { throw bad("eps", eps, "a finite value ≥ 0") }
        self.optimizer = optimizer
        self.mode = mode
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.thresholdMode = thresholdMode
        self.cooldown = cooldown
        self.minLR = minLR
        self.eps = eps
        self.learningRate = Double(optimizer.learningRate)
        self.baseLearningRate = learningRate
        self.best = mode == .min ? .infinity : -.infinity
    }

    /// Whether `metric` improves on `best` by more than the threshold.
    public func isBetter(_ metric: Double, than best: Double) -> Bool {
        switch (mode, thresholdMode) {
        case (.min, .rel): return metric < best * (1 - threshold)
        case (.min, .abs): return metric < best - threshold
        case (.max, .rel): return metric > best * (threshold + 1)
        case (.max, .abs): return metric > best + threshold
        }
    }

    /// A plateau scheduler needs the metric: call `step(metric:)`.
    public func step() {
        preconditionFailure("ReduceLROnPlateau.step() needs the monitored metric: call step(metric:)")
    }

    public func step(metric: Double) {
        lastEpoch += 1
        if isBetter(metric, than: best) {
            best = metric
            numBadEpochs = 0
        } else {
            numBadEpochs += 1
        }
        if cooldownCounter > 0 {
            cooldownCounter -= 1
            numBadEpochs = 0 // bad epochs in cooldown do not count
        }
        if numBadEpochs > patience {
            let reduced = Swift.max(learningRate * factor, minLR)
            if learningRate - reduced > eps {
                learningRate = reduced
                optimizer.learningRate = Float(reduced)
            }
            cooldownCounter = cooldown
            numBadEpochs = 0
        }
    }

    public func stateDict() -> SchedulerState {
        SchedulerState(scheduler: "plateau", lastEpoch: lastEpoch, baseLearningRate: baseLearningRate, learningRate: learningRate,
                       plateau: .init(best: best, numBadEpochs: numBadEpochs, cooldownCounter: cooldownCounter))
    }

    public func load(state: SchedulerState) throws {
        guard state.scheduler == "plateau" else { throw SchedulerError.stateMismatch(expected: "plateau", found: state.scheduler) }
        guard let p = state.plateau else { throw SchedulerError.invalidState(field: "plateau", value: "missing") }
        guard state.lastEpoch >= 0 else { throw SchedulerError.invalidState(field: "lastEpoch", value: "\(state.lastEpoch)") }
        guard state.learningRate.isFinite, state.learningRate >= 0 else {
            throw SchedulerError.invalidState(field: "learningRate", value: "\(state.learningRate)")
        }
        guard p.numBadEpochs >= 0 else { throw SchedulerError.invalidState(field: "plateau.numBadEpochs", value: "\(p.numBadEpochs)") }
        guard p.cooldownCounter >= 0 else { throw SchedulerError.invalidState(field: "plateau.cooldownCounter", value: "\(p.cooldownCounter)") }
        lastEpoch = state.lastEpoch
        learningRate = state.learningRate
        best = p.best
        numBadEpochs = p.numBadEpochs
        cooldownCounter = p.cooldownCounter
        optimizer.learningRate = Float(learningRate)
    }
}
