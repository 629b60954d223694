import NTrainCore

/// Float features with float targets (regression), held in memory.
public struct RegressionDataset: Sendable {
    public let name: String
    /// `count * featureCount` values, row-major.
    public let features: [Float]
    public let targets: [Float]
    public let featureCount: Int

    public init(name: String, features: [Float], targets: [Float], featureCount: Int) {
        precondition(features.count == targets.count * featureCount, "features and targets disagree")
        self.name = name
        self.features = features
        self.targets = targets
        self.featureCount = featureCount
    }

    public var count: Int { targets.count }
}

/// Generated datasets for examples and tests.
public enum SyntheticDatasets {
    /// `y = w·x + b + N(0, noiseStd)` with `x` uniform in `range` per feature (MindSpore's linear
    /// regression tutorial uses w = [2], b = 3, noise 1, x in [-10, 10]).
    public static func linear(count: Int, weights: [Float], bias: Float, noiseStd: Float,
                              range: ClosedRange<Float> = -10...10, seed: UInt64) throws -> RegressionDataset {
        guard count > 0, !weights.isEmpty else {
            throw DatasetError.invalidParameter(name: "synthetic_linear", reason: "count and the number of weights must be positive")
        }
        guard noiseStd >= 0, noiseStd.isFinite else {
            throw DatasetError.invalidParameter(name: "synthetic_linear.noise", reason: "must be a finite value ≥ 0")
        }
        var g = RandomGenerator(seed: seed)
        let d = weights.count
        var features = [Float](repeating: 0, count: count * d)
        var targets = [Float](repeating: 0, count: count)
        for i in 0..<count {
            var y = bias
            for j in 0..<d {
                let x = g.uniform(range.lowerBound, range.upperBound)
                features[i * d + j] = x
                y += weights[j] * x
            }
            targets[i] = noiseStd > 0 ? y + g.normal(mean: 0, std: noiseStd) : y
        }
        return RegressionDataset(name: "synthetic_linear", features: features, targets: targets, featureCount: d)
    }

    /// Uniformly random uint8 images with uniformly random labels (MXNet's Module example data):
    /// for smoke tests and throughput measurements, where nothing should be learnable.
    public static func randomImages(count: Int, channels: Int, height: Int, width: Int, classes: Int,
                                    seed: UInt64) throws -> ImageDataset {
        guard count > 0, channels > 0, height > 0, width > 0, classes > 0,
              count.multipliedReportingOverflow(by: channels * height * width).partialValue <= 1 << 32 else {
            throw DatasetError.invalidParameter(name: "random", reason: "count, channels, height, width and classes must be positive (and the data at most 4 GiB)")
        }
        var g = RandomGenerator(seed: seed)
        let size = count * channels * height * width
        var images = [UInt8](repeating: 0, count: size)
        var i = 0
        while i < size {
            var bits = g.next()
            for _ in 0..<min(8, size - i) {
                images[i] = UInt8(truncatingIfNeeded: bits)
                bits >>= 8
                i += 1
            }
        }
        let labels = (0..<count).map { _ in Int32(g.int(below: classes)) }
        return ImageDataset(name: "random", images: images, labels: labels, channels: channels, height: height,
                            width: width, classNames: (0..<classes).map(String.init))
    }
}
