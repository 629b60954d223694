import NTrainCore

/// Running loss, top-1/top-k accuracy and confusion matrix over batches of class scores.
public struct ClassificationMetrics: Sendable, Equatable {
    public let classes: Int
    public let topK: Int
    public private(set) var count = 0
    public private(set) var lossSum = 0.0
    public private(set) var correct = 0
    public private(set) var topKCorrect = 0
    /// Row = true class, column = predicted class.
    public private(set) var confusion: [Int]

    /// `topK` is 5 where there are more than 5 classes (DESIGN §1), else 1.
    public init(classes: Int) {
        self.classes = classes
        self.topK = classes > 5 ? 5 : 1
        confusion = [Int](repeating: 0, count: classes * classes)
    }

    /// Adds a batch: `scores` [N, C], int32 `targets` [N], and the batch's mean loss.
    public mutating func add(scores: Tensor, targets: Tensor, meanLoss: Float) {
        let n = scores.shape[0], c = scores.shape[1]
        precondition(c == classes, "metrics for \(classes) classes got scores with \(c)")
        let s = scores.data, t = targets.int32Data
        for i in 0..<n {
            let row = s + i * c
            let target = Int(t[i])
            let best = Self.predictedClass(row, c)
            if best == target { correct += 1 }
            // Rank of the target: how many scores beat it (ties counted against it, like torch.topk).
            var above = 0
            for j in 0..<c where row[j] > row[target] || (row[j] == row[target] && j < target) { above += 1 }
            if above < topK { topKCorrect += 1 }
            confusion[target * c + best] += 1
        }
        count += n
        lossSum += Double(meanLoss) * Double(n)
    }

    /// The index of the highest score in `row[0..<classes]` (the first one on ties, as argmax).
    @inline(__always)
    static func predictedClass(_ row: UnsafePointer<Float>, _ classes: Int) -> Int {
        var best = 0
        for j in 1..<max(1, classes) where row[j] > row[best] { best = j }
        return best
    }

    public var loss: Double { count == 0 ? .nan : lossSum / Double(count) }
    public var accuracy: Double { count == 0 ? .nan : Double(correct) / Double(count) }
    public var topKAccuracy: Double { count == 0 ? .nan : Double(topKCorrect) / Double(count) }

    /// Every running sum, for adding them up over the ranks of a data-parallel run.
    public var sums: [Double] {
        get { [Double(count), lossSum, Double(correct), Double(topKCorrect)] + confusion.map(Double.init) }
        set {
            precondition(newValue.count == 4 + confusion.count, "\(newValue.count) sums for \(classes) classes")
            count = Int(newValue[0]); lossSum = newValue[1]; correct = Int(newValue[2]); topKCorrect = Int(newValue[3])
            confusion = newValue.dropFirst(4).map { Int($0) }
        }
    }

    /// Accuracy of each true class (nan for classes with no examples).
    public var perClassAccuracy: [Double] {
        (0..<classes).map { k in
            let row = confusion[(k * classes)..<((k + 1) * classes)]
            let total = row.reduce(0, +)
            return total == 0 ? .nan : Double(confusion[k * classes + k]) / Double(total)
        }
    }
}

/// Running MSE / MAE over batches of predictions shaped like their targets.
public struct RegressionMetrics: Sendable, Equatable {
    public private(set) var count = 0
    public private(set) var lossSum = 0.0
    public private(set) var squaredError = 0.0
    public private(set) var absoluteError = 0.0

    public init() {}

    public mutating func add(predictions: Tensor, targets: Tensor, meanLoss: Float) {
        let p = predictions.data, t = targets.data
        for i in 0..<predictions.count {
            let d = Double(p[i] - t[i])
            squaredError += d * d
            absoluteError += abs(d)
        }
        let n = predictions.shape.rank > 0 ? predictions.shape[0] : 1
        lossSum += Double(meanLoss) * Double(n)
        count += predictions.count
    }

    /// Every running sum, for adding them up over the ranks of a data-parallel run.
    public var sums: [Double] {
        get { [Double(count), lossSum, squaredError, absoluteError] }
        set {
            precondition(newValue.count == 4, "\(newValue.count) sums")
            count = Int(newValue[0]); lossSum = newValue[1]; squaredError = newValue[2]; absoluteError = newValue[3]
        }
    }

    public var mse: Double { count == 0 ? .nan : squaredError / Double(count) }
    public var mae: Double { count == 0 ? .nan : absoluteError / Double(count) }
    public var rmse: Double { mse.squareRoot() }
}
