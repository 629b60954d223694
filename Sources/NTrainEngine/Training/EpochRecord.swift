/// What one epoch produced: the row written to metrics.csv, the history kept in checkpoints.
public struct EpochRecord: Codable, Equatable, Sendable {
    public var epoch: Int
    public var step: Int
    public var trainLoss: Double
    public var trainAccuracy: Double?
    public var evalLoss: Double?
    public var evalAccuracy: Double?
    public var evalTop5: Double?
    public var evalMSE: Double?
    public var evalMAE: Double?
    public var learningRate: Double
    public var seconds: Double
    public var imagesPerSecond: Double

    enum CodingKeys: String, CodingKey {
        case epoch, step, seconds
        case trainLoss = "train_loss", trainAccuracy = "train_accuracy", evalLoss = "eval_loss"
        case evalAccuracy = "eval_accuracy", evalTop5 = "eval_top5", evalMSE = "eval_mse", evalMAE = "eval_mae"
        case learningRate = "lr", imagesPerSecond = "images_per_second"
    }

    /// Fills the eval columns from an evaluation.
    public mutating func set(eval result: EvaluationResult) {
        evalLoss = result.loss
        switch result {
        case .classification(let m):
            evalAccuracy = m.accuracy
            evalTop5 = m.topK == 5 ? m.topKAccuracy : nil
        case .regression(let m):
            evalMSE = m.mse
            evalMAE = m.mae
        }
    }

    /// The value of a monitored metric from the eval columns (train loss when not evaluated).
    public func value(of metric: MonitoredMetric) -> Double? {
        switch metric {
        case .loss: return evalLoss ?? trainLoss
        case .accuracy: return evalAccuracy
        case .top5: return evalTop5
        case .mse: return evalMSE
        case .mae: return evalMAE
        case .rmse: return evalMSE.map { $0.squareRoot() }
        }
    }
}
