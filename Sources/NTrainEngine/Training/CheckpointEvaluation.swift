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
    /// The test-time augmentation used (the flag's, else the config's `train.tta`).
    public var tta: TestTimeAugmentation = .none

    /// `dataRoot` and `batchSize` override the stored config's `data.root` / `data.eval_batch_size`.
    public static func run(checkpoint path: String, split: DatasetSplit = .test, dataRoot: String? = nil, batchSize: Int? = nil,
                           device deviceFlag: String? = nil, tta: TestTimeAugmentation? = nil, log: @escaping (String) -> Void = { _ in }) throws -> CheckpointEvaluation {
        let checkpoint = try CheckpointReader.read(contentsOf: URL(fileURLWithPath: path))
        var config = try TrainingCheckpoint.config(of: checkpoint, path: path)
        let device = try DeviceSpec.select(flag: deviceFlag, config: config.device).resolve()
        if let dataRoot { config.data.root = dataRoot }
        // A training run's validation fraction is for choosing best.mge; eval reads the whole split asked for.
        config.data.validation = nil
        if let batchSize {
            guard batchSize >= 1 else { throw EngineError.invalidData("--batch-size must be at least 1, got \(batchSize)") }
            config.data.evalBatchSize = batchSize
        }
        let clock = ContinuousClock()
        let start = clock.now
        let data = try DataFactory.make(config.data, seed: UInt64(config.seed), evalSplit: split, log: log)
        let model = try ModelFactory.make(config.model, input: data.inputShape, outputs: data.outputCount, seed: UInt64(config.seed))
        // The weights training evaluated: the moving average where the run kept one.
        try TrainingCheckpoint.loadModel(model, from: checkpoint, path: path, preferAverage: true)
        var notes = data.notes
        if !checkpoint.tensors(withPrefix: "ema.").isEmpty { notes.append("weights: the moving average (train.ema) saved with the checkpoint") }
        if let warning = nonFiniteWarning(model) {
            log("warning: " + warning)
            notes.append(warning)
        }
        model.to(device)
        let loader = data.eval
        // In the floating-point mode the model was trained in.
        let result = Denormals.withFlushedToZero(config.train.flushDenormals) {
            Evaluator.evaluate(model, loader: loader, loss: TrainingFactory.loss(config.loss),
                               classes: data.isRegression ? 0 : data.classNames.count, tta: tta ?? config.train.tta)
        }
        try Trainer.synchronize(device)
        return CheckpointEvaluation(checkpoint: path, split: split, device: device, examples: loader.sampleCount,
                                    classNames: data.classNames, result: result, seconds: (clock.now - start).seconds, notes: notes,
                                    tta: tta ?? config.train.tta)
    }

    /// Nil when every weight and buffer is finite, else which tensors hold NaN/Inf and how many.
    static func nonFiniteWarning(_ model: Module) -> String? {
        var bad: [(name: String, count: Int, total: Int)] = []
        for (name, tensor) in model.stateDict() where tensor.dtype == .float32 {
            let count = tensor.to(.cpu).scalars.lazy.filter { !$0.isFinite }.count
            if count > 0 { bad.append((name, count, tensor.count)) }
        }
        guard !bad.isEmpty else { return nil }
        let total = bad.reduce(0) { $0 + $1.count }
        let listed = bad.prefix(3).map { "\($0.name) \($0.count) of \($0.total)" }.joined(separator: ", ")
        return "the checkpoint holds \(total) NaN/Inf weight value(s) (\(listed)\(bad.count > 3 ? ", ..." : "")): "
            + "its training diverged, so the results below mean nothing; evaluate an earlier checkpoint (checkpoints/epoch-NNNN.mge or best.mge)"
    }
}
