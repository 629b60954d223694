import NTrainCore
import NTrainNN

/// What the CLI is told before the first step.
public struct TrainingStart {
    public var device: Device
    public var deviceRequest: String
    public var runDirectory: String
    public var modelRows: [ModelSummaryRow]
    public var parameterCount: Int
    public var trainExamples: Int
    public var evalExamples: Int
    public var stepsPerEpoch: Int
    public var epochs: Int
    public var startEpoch: Int
    public var resumedFrom: String?
    public var notes: [String]
    public var threads: Int
    /// About how many bytes training needs (`ModelMemoryEstimate`); nil when not estimated.
    public var estimatedMemoryBytes: Double? = nil
}

/// Progress inside an epoch, reported every `log_every` steps.
public struct StepProgress {
    public var epoch: Int
    public var epochs: Int
    public var batch: Int
    public var batches: Int
    public var step: Int
    /// Mean loss over the steps since the last report.
    public var loss: Double
    public var learningRate: Double
    public var imagesPerSecond: Double
    public var etaSeconds: Double
}

/// Receives training progress; the CLI renders it (bar, plain lines or JSON).
public protocol TrainingObserver: AnyObject {
    func trainingStarted(_ start: TrainingStart)
    func stepFinished(_ progress: StepProgress)
    func epochFinished(_ record: EpochRecord, evaluation: EvaluationResult?, epochs: Int)
    func note(_ message: String)
}

/// How a run ended.
public struct TrainingSummary {
    public enum Ending: String { case completed, earlyStopped = "early_stopped", interrupted }
    public var ending: Ending
    public var progress: TrainingProgress
    public var runDirectory: String
    public var lastCheckpoint: String?
    public var bestCheckpoint: String?
    /// The test split's result with the final weights, when epochs were evaluated on `data.validation`.
    public var test: EvaluationResult? = nil
}
