import Foundation
import NTrainCore
import NTrainData
import NTrainNN

/// `ntrain eval`: rebuilds model and data from a checkpoint alone and evaluates it.
public struct CheckpointEvaluation {
    public var checkpoint: String
    public var split: DatasetSplit
    public var device: Device
    public var examples: Int
    public var classNames: [String]
    public var result: EvaluationResult
    public var seconds: Double
    public var notes: [String]

    /// `dataRoot` and `batchSize` override the stored config's `data.root` / `data.eval_batch_size`.
    public static func run(checkpoint path: String, split: DatasetSplit = .test, dataRoot: String? = nil, batchSize: Int? = nil,
                           device deviceFlag: String? = nil, log: @escaping (String) -> Void = { _ in }) throws -> CheckpointEvaluation {
        let checkpoint = try CheckpointReader.read(contentsOf: URL(fileURLWithPath: path))
        var config = try TrainingCheckpoint.config(of: checkpoint, path: path)
        let device = try DeviceSpec.select(flag: deviceFlag, config: config.device).resolve()
        if let dataRoot { config.data.root = dataRoot }
        if let batchSize {
            guard batchSize >= 1 else { throw EngineError.invalidData("--batch-size must be at least 1, got \(batchSize)") }
            config.data.evalBatchSize = batchSize
        }
        let clock = ContinuousClock()
        let start = clock.now
        let data = try DataFactory.make(config.data, seed: UInt64(config.seed), evalSplit: split, log: log)
        let model = try ModelFactory.make(config.model, input: data.inputShape, outputs: data.outputCount, seed: UInt64(config.seed))
        try TrainingCheckpoint.loadModel(model, from: checkpoint, path: path)
        model.to(device)
        let loader = data.eval
        // In the floating-point mode the model was trained in.
        let result = Denormals.withFlushedToZero(config.train.flushDenormals) {
            Evaluator.evaluate(model, loader: loader, loss: TrainingFactory.loss(config.loss),
                               classes: data.isRegression ? 0 : data.classNames.count)
        }
        try Trainer.checkGPU(device)
        return CheckpointEvaluation(checkpoint: path, split: split, device: device, examples: loader.sampleCount,
                                    classNames: data.classNames, result: result, seconds: (clock.now - start).seconds, notes: data.notes)
    }
}
