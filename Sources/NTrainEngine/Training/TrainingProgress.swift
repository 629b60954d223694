import Foundation
import NTrainCore
import NTrainNN

/// Where a run stands: saved in every checkpoint so `--resume` continues exactly.
public struct TrainingProgress: Codable, Equatable, Sendable {
    /// Completed epochs.
    public var epoch = 0
    /// Batches already consumed in the current (incomplete) epoch.
    public var batchInEpoch = 0
    /// Batches consumed since the run began.
    public var step = 0
    /// Optimizer updates applied.
    public var optimizerSteps = 0
    /// Steps dropped by nan_policy "skip".
    public var skippedSteps = 0
    public var history: [EpochRecord] = []
    /// Best monitored value so far and its epoch.
    public var best: Double?
    public var bestEpoch: Int?
    /// Epochs since the early-stopping metric last improved.
    public var epochsWithoutImprovement = 0
    /// Best value of the early-stopping metric.
    public var earlyStoppingBest: Double?
    /// Training loss/accuracy sums of the incomplete epoch (so its row is right after a resume).
    public var partialLossSum = 0.0
    public var partialCorrect = 0
    public var partialCount = 0
    public var partialSeconds = 0.0
    /// The ranks of the data-parallel run that wrote the checkpoint (nil: one process), so that a
    /// resume with another number knows the position within the epoch does not carry over.
    public var worldSize: Int?

    enum CodingKeys: String, CodingKey {
        case epoch, step, history, best
        case batchInEpoch = "batch_in_epoch", optimizerSteps = "optimizer_steps", skippedSteps = "skipped_steps"
        case bestEpoch = "best_epoch", epochsWithoutImprovement = "epochs_without_improvement"
        case earlyStoppingBest = "early_stopping_best", partialLossSum = "partial_loss_sum"
        case partialCorrect = "partial_correct", partialCount = "partial_count", partialSeconds = "partial_seconds"
        case worldSize = "world_size"
    }

    public init() {}
}

/// Packs and unpacks the training checkpoint: `model.*` and `optimizer.*` tensors plus metadata
/// (config, progress, optimizer and scheduler state, device, version).
public enum TrainingCheckpoint {
    public static func make(config: ExperimentConfig, model: Module, optimizer: any Optimizer, scheduler: (any LRScheduler)?,
                            progress: TrainingProgress, device: Device, data: ExperimentData, ema: ModelEMA? = nil) throws -> Checkpoint {
        let optState = optimizer.stateDict()
        // Checkpoints hold host tensors whatever the training device (device-independent files).
        var tensors: [(name: String, tensor: Tensor)] = model.stateDict().map { ("model." + $0.0, $0.1.to(.cpu)) }
        tensors += optState.tensors.keys.sorted().map { ("optimizer." + $0, optState.tensors[$0]!.to(.cpu)) }
        tensors += (ema?.state ?? []).map { ("ema." + $0.0, $0.1.to(.cpu)) }
        var metadata: [String: JSONValue] = [
            "format": "ntrain-checkpoint",
            "config": config.jsonValue,
            "progress": try JSONValue(encoding: progress),
            "optimizer": try JSONValue(encoding: optState.metadata),
            "rng": ["seed": .integer(Int64(config.seed)),
                    "note": "data order and augmentation are keyed by (seed, epoch, batch); dropout generators are model buffers"],
            "epoch": .integer(Int64(progress.epoch)),
            "step": .integer(Int64(progress.step)),
            "device": .string(device.description),
            "ntrain_version": .string(NTrainVersion.string),
            "created": .string(ISO8601DateFormatter().string(from: Date())),
            "input_shape": .array(data.inputShape.dims.map { .integer(Int64($0)) }),
            "class_names": .array(data.classNames.map { .string($0) }),
        ]
        if let image = data.eval.imageShape { metadata["image_shape"] = .array(image.map { .integer(Int64($0)) }) }
        if let scheduler { metadata["scheduler"] = try JSONValue(encoding: scheduler.stateDict()) }
        if let last = progress.history.last { metadata["metrics"] = try JSONValue(encoding: last) }
        return Checkpoint(tensors: tensors, metadata: metadata)
    }

    /// The experiment config stored in a checkpoint.
    public static func config(of checkpoint: Checkpoint, path: String) throws -> ExperimentConfig {
        guard let tree = checkpoint.metadata["config"] else {
            throw EngineError.unusableCheckpoint(path: path, reason: "it holds no experiment config (metadata.config); it was not written by ntrain train")
        }
        return try ExperimentConfig.decode(tree, file: path + " (metadata.config)")
    }

    /// Copies the `model.*` tensors into `model` (exact names and shapes); with `preferAverage`,
    /// the `ema.*` tensors (the moving average of `train.ema`) where the checkpoint has them.
    public static func loadModel(_ model: Module, from checkpoint: Checkpoint, path: String, preferAverage: Bool = false) throws {
        let averaged = checkpoint.tensors(withPrefix: "ema.")
        let chosen = preferAverage && !averaged.isEmpty ? averaged : checkpoint.tensors(withPrefix: "model.")
        let state = Dictionary(chosen.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        do {
            try model.load(stateDict: state)
        } catch let error as ModuleError {
            throw EngineError.unusableCheckpoint(path: path, reason: error.description)
        }
    }

    /// Restores the moving average for `--resume` (a checkpoint without one restarts it at the weights).
    public static func restore(ema: ModelEMA, from checkpoint: Checkpoint, path: String) throws {
        let saved = checkpoint.tensors(withPrefix: "ema.")
        guard !saved.isEmpty else { return }
        do {
            try ema.load(Dictionary(saved.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a }))
        } catch let error as ModuleError {
            throw EngineError.unusableCheckpoint(path: path, reason: "ema: \(error)")
        }
    }

    /// Restores optimizer, scheduler and progress for `--resume`.
    public static func restore(optimizer: any Optimizer, scheduler: (any LRScheduler)?, from checkpoint: Checkpoint,
                               path: String) throws -> TrainingProgress {
        func field<T: Decodable>(_ key: String, _ type: T.Type) throws -> T {
            guard let value = checkpoint.metadata[key] else {
                throw EngineError.unusableCheckpoint(path: path, reason: "metadata.\(key) is missing, so the run cannot be resumed; use --weights to start a new run from its model")
            }
            do { return try value.decode(T.self) } catch {
                throw EngineError.unusableCheckpoint(path: path, reason: "metadata.\(key) is malformed: \(error)")
            }
        }
        let progress = try field("progress", TrainingProgress.self)
        let meta = try field("optimizer", OptimizerState.Metadata.self)
        let tensors = Dictionary(checkpoint.tensors(withPrefix: "optimizer.").map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        do {
            try optimizer.load(state: try OptimizerState(metadata: meta, tensors: tensors))
            if let scheduler { try scheduler.load(state: try field("scheduler", SchedulerState.self)) }
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError.unusableCheckpoint(path: path, reason: "\(error)")
        }
        return progress
    }
}
