import NTrainCore
import NTrainData
import NTrainNN

/// Metrics of one pass over a loader: classification or regression.
public enum EvaluationResult: Equatable, Sendable {
    case classification(ClassificationMetrics)
    case regression(RegressionMetrics)

    public var loss: Double {
        switch self {
        case .classification(let m): return m.loss
        case .regression(let m): return m.lossSum / Double(max(1, m.count))
        }
    }

    /// The value of a monitored metric (nil where it does not apply, e.g. accuracy for regression).
    public func value(of metric: MonitoredMetric) -> Double? {
        switch (self, metric) {
        case (_, .loss): return loss
        case (.classification(let m), .accuracy): return m.accuracy
        case (.classification(let m), .top5): return m.topK == 5 ? m.topKAccuracy : nil
        case (.regression(let m), .mse): return m.mse
        case (.regression(let m), .mae): return m.mae
        case (.regression(let m), .rmse): return m.rmse
        default: return nil
        }
    }
}

/// Runs a model over a loader without recording gradients, in eval mode, restoring the mode after.
public enum Evaluator {
    /// With `tta: .flip` the output for each image is the mean of the model's outputs for it and
    /// for its mirror image (the last axis reversed); loss and metrics are taken on that mean.
    public static func evaluate(_ model: Module, loader: DataLoader, loss: Loss, classes: Int, tta: TestTimeAugmentation = .none,
                                progress: (Int, Int) -> Void = { _, _ in }) -> EvaluationResult {
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        var classification = ClassificationMetrics(classes: max(1, classes))
        var regression = RegressionMetrics()
        let total = loader.batchesPerEpoch
        let device = model.device
        noGrad {
            for batch in loader.batches(epoch: 0) {
                // Metrics and the loss are computed on the host from the model's output.
                let inputs = batch.inputs.to(device)
                var output = model(inputs)
                if tta == .flip, inputs.rank == 4 { output = (output + model(inputs.flipped(axis: 3))) * 0.5 }
                output = output.to(.cpu)
                let value = loss(output, batch.targets).item()
                if classes > 0 {
                    classification.add(scores: output, targets: batch.targets, meanLoss: value)
                } else {
                    regression.add(predictions: output, targets: batch.targets, meanLoss: value)
                }
                progress(batch.index + 1, total)
            }
        }
        return classes > 0 ? .classification(classification) : .regression(regression)
    }
}
