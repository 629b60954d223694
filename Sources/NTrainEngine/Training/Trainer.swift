import Foundation
import NTrainCore
import NTrainData
import NTrainNN

/// Options of `ntrain train` beyond the config.
public struct TrainOptions {
    public var device: String?
    /// A checkpoint or run folder to continue exactly.
    public var resume: String?
    /// A checkpoint whose model weights start a new run (Caffe's -weights).
    public var weights: String?
    public var out: String?
    public var epochs: Int?

    public init(device: String? = nil, resume: String? = nil, weights: String? = nil, out: String? = nil, epochs: Int? = nil) {
        self.device = device
        self.resume = resume
        self.weights = weights
        self.out = out
        self.epochs = epochs
    }
}

/// The training loop of DESIGN §8: epochs of batches with gradient accumulation, clipping, the
/// NaN guard, schedulers per step or epoch, evaluation, checkpoints, early stopping and Ctrl-C.
public final class Trainer {
    public let config: ExperimentConfig
    public let data: ExperimentData
    public let model: Module
    public let loss: Loss
    public let optimizer: any Optimizer
    public let scheduler: (any LRScheduler)?
    public let device: Device
    /// About how much memory training needs (nil for fixed built-in architectures).
    public let memoryEstimate: ModelMemoryEstimate?
    /// The moving average of the weights (`train.ema`): what is evaluated, and saved as `ema.*`.
    public let ema: ModelEMA?
    public internal(set) var progress = TrainingProgress()
    public let runDirectory: RunDirectory
    let observer: TrainingObserver?
    /// The ranks of a data-parallel run (`SingleProcess` for one process).
    public let group: any ProcessGroup
    let gradients: GradientAverager
    private let resumedFrom: String?
    private let deviceRequest: String

    /// Builds data, model, optimizer and scheduler from `config` (or from the checkpoint when resuming).
    /// With several ranks in `group`, every rank builds the same objects, takes its shard of the
    /// data, starts from rank 0's weights, and only rank 0 writes the run folder.
    public init(config fileConfig: ExperimentConfig?, options: TrainOptions, observer: TrainingObserver? = nil,
                group: any ProcessGroup = SingleProcess()) throws {
        self.observer = observer
        self.group = group
        var resumeCheckpoint: (Checkpoint, String)?
        var config: ExperimentConfig
        var restartFolder: URL?
        if let resume = options.resume {
            switch try ResumeTarget.resolve(resume) {
            case let .checkpoint(checkpoint, path, note):
                config = try TrainingCheckpoint.config(of: checkpoint, path: path)
                resumeCheckpoint = (checkpoint, path)
                if let note { observer?.note(note) }
            case let .restart(folderConfig, folder, note):
                config = folderConfig
                restartFolder = folder
                observer?.note(note)
            }
        } else if let fileConfig {
            config = fileConfig
        } else {
            throw EngineError.invalidData("no config: give CONFIG.json, or --resume a checkpoint or run folder")
        }
        if let epochs = options.epochs { config.train.epochs = epochs }
        self.config = config

        let spec = try DeviceSpec.select(flag: options.device, config: config.device)
        deviceRequest = spec.description
        device = try spec.resolve()
        if group.size > 1 && !device.backend.supportsDataParallel {
            throw DistributedError.unsupported("data-parallel training runs on the CPU (\(device) was chosen); use --device cpux under mpirun (NCCL for GPUs is planned, see docs/distributed.md)")
        }

        let seed = UInt64(config.seed)
        data = try DataFactory.make(config.data, seed: seed) { [weak observer] in observer?.note($0) }
        if group.size > 1 {
            try data.train.use(DataShard(rank: group.rank, count: group.size, padded: true))
            try data.eval.use(DataShard(rank: group.rank, count: group.size, padded: false))
            try data.test?.use(DataShard(rank: group.rank, count: group.size, padded: false))
        }
        // Before any weight is allocated: an oversized model is a config error, not an abort.
        memoryEstimate = ModelMemoryEstimate.of(config.model, input: data.inputShape, outputs: data.outputCount,
                                                batchSize: config.data.batchSize)
        try memoryEstimate?.check(limitGiB: config.train.memoryLimit)
        model = try ModelFactory.make(config.model, input: data.inputShape, outputs: data.outputCount, seed: seed)
        try ModelFactory.checkTrainingBatches(model, config: config.model, input: data.inputShape, batchSize: config.data.batchSize,
                                              sampleCount: data.train.shardSampleCount, dropLast: data.train.dropLast)
        try Trainer.initializeFromData(model, config: config.model, data: data)
        // Parameters move in place, so the optimizer, weight loading and resume below see the GPU copies.
        model.to(device)
        try Trainer.synchronize(device)
        loss = TrainingFactory.loss(config.loss)
        if loss.usesClassTargets == data.isRegression {
            throw EngineError.invalidModel("loss \(config.loss.type.rawValue) does not fit the \(config.data.dataset.rawValue) data (\(data.isRegression ? "regression targets" : "class labels")); use \(data.isRegression ? "mse, l1 or smooth_l1" : "cross_entropy or nll")")
        }
        optimizer = try TrainingFactory.optimizer(config.optimizer, model: model)
        let perEpoch = config.scheduler.interval == .step ? data.train.batchesPerEpoch : 1
        scheduler = config.scheduler.type == .constant ? nil
            : try TrainingFactory.scheduler(config.scheduler, optimizer: optimizer, horizon: config.train.epochs * perEpoch)

        if let weights = options.weights {
            let path = Trainer.checkpointPath(weights)
            if Trainer.isSafetensors(path) {
                let count = try SafetensorsWeights.load(try SafetensorsFile.read(contentsOf: URL(fileURLWithPath: path)), into: model,
                                                        path: path, modelName: config.model.arch.map { "arch \($0.rawValue)" } ?? "model.layers of the config")
                observer?.note("weights: \(count) tensors from \(path)")
            } else {
                try TrainingCheckpoint.loadModel(model, from: try CheckpointReader.read(contentsOf: URL(fileURLWithPath: path)), path: path)
            }
        }
        var runURL = options.out.map { URL(fileURLWithPath: $0, isDirectory: true) }
        if let (checkpoint, path) = resumeCheckpoint {
            try TrainingCheckpoint.loadModel(model, from: checkpoint, path: path)
            progress = try TrainingCheckpoint.restore(optimizer: optimizer, scheduler: scheduler, from: checkpoint, path: path)
            if runURL == nil { runURL = Trainer.runFolder(containing: path) }
        }
        if runURL == nil { runURL = restartFolder }
        resumedFrom = resumeCheckpoint?.1
        if progress.batchInEpoch > 0, (progress.worldSize ?? 1) != group.size {
            // Each rank's batch k holds other samples at another world size: the interrupted epoch restarts.
            observer?.note("the checkpoint was written by \(progress.worldSize ?? 1) rank(s) and this run has \(group.size): epoch \(progress.epoch + 1) restarts from its first batch")
            progress.step -= progress.batchInEpoch
            progress.batchInEpoch = 0
            progress.partialLossSum = 0
            progress.partialCorrect = 0
            progress.partialCount = 0
            progress.partialSeconds = 0
        }
        progress.worldSize = group.size > 1 ? group.size : nil
        // Rank 0's weights (and BN statistics) everywhere: the same start whatever each rank built or read.
        try GradientAverager.broadcast(model.stateDict().map(\.1), group: group)
        // After the broadcast, so every rank averages the same weights.
        let average = config.train.ema.map { [model] in ModelEMA(model, decay: Float($0.decay)) }
        if let average, let (checkpoint, path) = resumeCheckpoint {
            try TrainingCheckpoint.restore(ema: average, from: checkpoint, path: path)
        }
        ema = average
        gradients = GradientAverager(parameters: model.parameters, group: group)
        let runFolder = runURL ?? RunDirectory.defaultURL(name: config.name)
        runDirectory = group.isLeader
            ? try RunDirectory(url: runFolder, configJSON: config.jsonText(),
                               csv: config.logging.csv, tensorboard: config.logging.tensorboard,
                               resumingAtStep: resumeCheckpoint != nil ? progress.step : restartFolder != nil ? 0 : nil)
            : RunDirectory(following: runFolder)
        let removed = runDirectory.removedTemporaries
        if !removed.isEmpty {
            observer?.note("removed \(removed.count) temporary file(s) left by an interrupted write: \(removed.joined(separator: ", "))")
        }
    }

    /// `RUN_DIR` → `RUN_DIR/last.mge`; a file path as given.
    static func checkpointPath(_ path: String) -> String {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            return URL(fileURLWithPath: path).appendingPathComponent("last.mge").path
        }
        return path
    }

    /// Whether `--weights` names a safetensors file (by its extension, or by content: not the .mge
    /// magic and a JSON header after the 8-byte length) rather than an ntrain checkpoint.
    static func isSafetensors(_ path: String) -> Bool {
        if path.hasSuffix(".safetensors") { return true }
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = [UInt8](handle.readData(ofLength: 9))
        return head.count == 9 && Array(head[0..<8]) != CheckpointFormat.magic && head[8] == UInt8(ascii: "{")
    }

    /// The run folder a checkpoint belongs to (its folder, or the parent of `checkpoints/`), if any.
    static func runFolder(containing checkpoint: String) -> URL? {
        var folder = URL(fileURLWithPath: checkpoint).deletingLastPathComponent()
        if folder.lastPathComponent == "checkpoints" { folder.deleteLastPathComponent() }
        return FileManager.default.fileExists(atPath: folder.appendingPathComponent("config.json").path) ? folder : nil
    }

    var epochs: Int { config.train.epochs }

    /// The device's sync point (`Backend.synchronize`): the first op that failed since the last
    /// one, as an engine error (exit 2 for an op the device cannot run, 1 for a device failure).
    static func synchronize(_ device: Device) throws {
        do {
            try device.backend.synchronize(device)
        } catch {
            switch error {
            case .unsupported: throw EngineError.gpu(device: device.description, reason: error.description, unsupported: true)
            case let .failed(_, op, reason): throw EngineError.gpu(device: device.description, reason: "\(op): \(reason)", unsupported: false)
            }
        }
    }

    /// Trains until the configured epochs, early stopping, or Ctrl-C, with subnormal floats
    /// flushed to zero unless `train.flush_denormals` is false (the caller's mode is restored).
    public func run() throws -> TrainingSummary {
        try Denormals.withFlushedToZero(config.train.flushDenormals) { try runEpochs() }
    }

    private func runEpochs() throws -> TrainingSummary {
        let rows = try model.summaryRows(input: Shape([config.data.batchSize] + data.inputShape.dims))
        observer?.trainingStarted(TrainingStart(
            device: device, deviceRequest: deviceRequest, runDirectory: runDirectory.url.path, modelRows: rows,
            parameterCount: model.parameterCount, trainExamples: data.train.sampleCount, evalExamples: data.eval.sampleCount,
            stepsPerEpoch: data.train.batchesPerEpoch, epochs: epochs, startEpoch: progress.epoch, resumedFrom: resumedFrom,
            notes: data.notes, threads: Parallel.threadCount, estimatedMemoryBytes: memoryEstimate?.bytes))
        runDirectory.log("start: device \(device) (\(deviceRequest)), \(model.parameterCount) parameters, epochs \(progress.epoch + 1)...\(epochs)"
            + (resumedFrom.map { ", resumed from \($0) at step \(progress.step)" } ?? ""))
        model.train()
        while progress.epoch < epochs {
            if try !trainEpoch() {
                return summary(.interrupted)
            }
            if shouldStopEarly() {
                observer?.note("early stopping: \(config.train.earlyStopping!.monitor.rawValue) did not improve for \(progress.epochsWithoutImprovement) epochs")
                return summary(.earlyStopped, test: try evaluateTestSplit())
            }
        }
        return summary(.completed, test: try evaluateTestSplit())
    }

    private func summary(_ ending: TrainingSummary.Ending, test: EvaluationResult? = nil) -> TrainingSummary {
        let fm = FileManager.default
        return TrainingSummary(ending: ending, progress: progress, runDirectory: runDirectory.url.path,
                               lastCheckpoint: fm.fileExists(atPath: runDirectory.lastURL.path) ? runDirectory.lastURL.path : nil,
                               bestCheckpoint: fm.fileExists(atPath: runDirectory.bestURL.path) ? runDirectory.bestURL.path : nil,
                               test: test)
    }

    /// Patch whitening of `model.layers[0]` (`"init": "patch_whitening"`) from the first 5,000
    /// training images, before any weights are loaded or resumed over it.
    static func initializeFromData(_ model: Module, config: ModelConfig, data: ExperimentData) throws {
        guard case .conv2d(let o)? = config.layers?.first, o.initialization == .patchWhitening,
              let conv = (model as? Sequential)?.layers.first?.1 as? Conv2d else { return }
        guard let sample = data.unaugmentedTrain else {
            throw EngineError.invalidModel("model.layers[0].conv2d.init: patch_whitening needs image data")
        }
        let images = try sample(5000)
        conv.weight.assign(Tensor(shape: conv.weight.shape, scalars: PatchWhitening.filters(images: images, kernel: conv.kernel)))
    }

    /// With `data.validation`, epochs are evaluated on the held-out part of the training set and
    /// the test split once, here, with the final weights (summed over the ranks' shards).
    private func evaluateTestSplit() throws -> EvaluationResult? {
        guard let test = data.test else { return nil }
        let result = try evaluate(on: test)
        try Trainer.synchronize(device)
        let text = result.value(of: .accuracy).map { String(format: "accuracy %.2f%%", $0 * 100) } ?? String(format: "loss %.4f", result.loss)
        runDirectory.log("test split (final weights, \(test.sampleCount) examples): \(text)")
        return result
    }
}
