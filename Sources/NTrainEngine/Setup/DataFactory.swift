import Foundation
import NTrainCore
import NTrainData

/// The loaders and shapes an experiment's data section resolves to.
public struct ExperimentData {
    public let train: DataLoader
    /// Test split (or the held-out validation fraction of the training set).
    public let eval: DataLoader
    /// With a validation fraction: the test split, evaluated once training ends (nil otherwise).
    public var test: DataLoader? = nil
    /// The first `count` training images with the eval transforms only (no augmentation), as one
    /// batch: what data-dependent initialisation (patch whitening) reads. Nil for regression data.
    public var unaugmentedTrain: ((Int) throws -> Tensor)? = nil
    /// One example's shape: [C, H, W] for images (after transforms), [F] for features.
    public let inputShape: Shape
    /// Class names; empty for regression.
    public let classNames: [String]
    /// Notes worth printing (partial test sets, held-out splits).
    public let notes: [String]

    public var isRegression: Bool { classNames.isEmpty }
    /// Outputs the model needs: classes, or the regression target width.
    public var outputCount: Int { isRegression ? 1 : classNames.count }
}

/// Builds datasets and loaders from a `DataConfig`, downloading missing built-in datasets.
public enum DataFactory {
    /// `split` picks what `eval` holds when there is no validation fraction (ntrain eval --split).
    public static func make(_ config: DataConfig, seed: UInt64, evalSplit: DatasetSplit = .test,
                            log: @escaping (String) -> Void = { _ in }) throws -> ExperimentData {
        // A resize happens as the images are read (they may differ in size); the rest run per batch.
        let readSize = TransformSpec.readSize(config.transforms)
        let transforms = config.transforms.compactMap(transform)
        func loaders(train fullTrain: ImageDataset, eval fullEval: ImageDataset, test fullTest: ImageDataset?, notes: [String]) throws -> ExperimentData {
            func sized(_ d: ImageDataset) -> ImageDataset { readSize.map { d.resized(height: $0.height, width: $0.width) } ?? d }
            let train = sized(config.limit.map { fullTrain.prefix($0) } ?? fullTrain)
            let eval = sized(config.evalLimit.map { fullEval.prefix($0) } ?? fullEval)
            let test = fullTest.map(sized)
            for other in [eval] + (test.map { [$0] } ?? []) where (other.channels, other.height, other.width) != (train.channels, train.height, train.width) {
                throw EngineError.invalidData("the evaluation images are \(other.channels)x\(other.height)x\(other.width) but the training images "
                    + "\(train.channels)x\(train.height)x\(train.width); add {\"resize\": [\(train.height), \(train.width)]} to data.transforms to read both at one size")
            }
            let trainLoader = try DataLoader(images: train, transforms: transforms, batchSize: config.batchSize,
                                             shuffle: config.shuffle, dropLast: config.dropLast, seed: seed, training: true)
            let evalLoader = try DataLoader(images: eval, transforms: transforms, batchSize: config.evalBatchSize,
                                            shuffle: false, dropLast: false, seed: seed, training: false)
            var data = ExperimentData(train: trainLoader, eval: evalLoader, inputShape: Shape(evalLoader.sampleShape),
                                      classNames: train.classNames, notes: notes)
            data.unaugmentedTrain = { count in
                let first = train.prefix(Swift.min(count, train.count))
                let loader = try DataLoader(images: first, transforms: transforms, batchSize: first.count, shuffle: false,
                                            dropLast: false, seed: seed, training: false)
                return loader.batch(epoch: 0, index: 0).inputs
            }
            if let test {
                let limited = config.evalLimit.map { test.prefix($0) } ?? test
                data.test = try DataLoader(images: limited, transforms: transforms, batchSize: config.evalBatchSize,
                                           shuffle: false, dropLast: false, seed: seed, training: false)
            }
            return data
        }
        switch config.dataset {
        case .mnist, .fashionMNIST, .cifar10:
            let kind: DatasetKind = config.dataset == .mnist ? .mnist : config.dataset == .cifar10 ? .cifar10 : .fashionMNIST
            let root = DatasetRoot.resolve(explicit: config.root)
            let train = try loadOrDownload(kind, split: .train, root: root, log: log)
            let (fit, eval, test, note) = try split(train, config.validation, evalSplit) { try loadOrDownload(kind, split: evalSplit, root: root, log: log) }
            return try loaders(train: fit, eval: eval, test: test, notes: (test ?? eval).notes + note)
        case .random:
            let o = config.random ?? RandomDataOptions()
            guard o.shape.count == 3 else { throw EngineError.invalidData("data.random.shape must be [C, H, W], got \(o.shape)") }
            let bytes = Double(o.count + o.testCount) * o.shape.reduce(1.0) { $0 * Double($1) }
            guard bytes <= Double(1 << 32) else {
                throw EngineError.invalidData("data.random: \(o.count) + \(o.testCount) images of shape \(o.shape) are "
                    + "\(ModelMemoryEstimate.format(bytes)) of data, over the 4 GiB limit for generated data; lower data.random.count or the shape")
            }
            let train = try SyntheticDatasets.randomImages(count: o.count, channels: o.shape[0], height: o.shape[1], width: o.shape[2], classes: o.classes, seed: seed)
            let (fit, eval, test, note) = try split(train, config.validation, evalSplit) {
                try SyntheticDatasets.randomImages(count: o.testCount, channels: o.shape[0], height: o.shape[1], width: o.shape[2], classes: o.classes, seed: seed &+ 1)
            }
            return try loaders(train: fit, eval: eval, test: test, notes: note)
        case .imageCSV:
            guard let o = config.imageFiles else { throw EngineError.invalidData("data.image_csv.path is required for the image_csv dataset") }
            let train = try ImageCSVDataset.load(csvPath: o.path, classes: o.classes, channels: o.channels, size: readSize)
            let (fit, eval, test, note) = try split(train, config.validation, evalSplit) {
                guard let testPath = o.testPath else { return train }
                return try ImageCSVDataset.load(csvPath: testPath, classes: o.classes ?? train.classCount, channels: train.channels, size: readSize)
            }
            let extra = config.validation == nil && o.testPath == nil ? ["no data.image_csv.test_path: evaluating on the training images"] : []
            return try loaders(train: fit, eval: eval, test: o.testPath == nil ? nil : test, notes: note + extra)
        case .imageFolder:
            guard let o = config.imageFiles else { throw EngineError.invalidData("data.image_folder.path is required for the image_folder dataset") }
            // Read class by class, then shuffled with the seed so that a validation fraction (the last
            // part) takes every class.
            let train = try ImageFolderDataset.load(folder: o.path, channels: o.channels, size: readSize).shuffled(seed: seed)
            let (fit, eval, test, note) = try split(train, config.validation, evalSplit) {
                guard let testPath = o.testPath else { return train }
                return try ImageFolderDataset.load(folder: testPath, channels: train.channels, size: readSize, classNames: train.classNames)
            }
            let extra = config.validation == nil && o.testPath == nil ? ["no data.test_path: evaluating on the training images"] : []
            return try loaders(train: fit, eval: eval, test: o.testPath == nil ? nil : test, notes: note + extra)
        case .syntheticLinear:
            let o = config.syntheticLinear ?? SyntheticLinearOptions()
            let range = Float(o.range[0])...Float(o.range[1])
            func make(_ count: Int, _ s: UInt64) throws -> RegressionDataset {
                try SyntheticDatasets.linear(count: count, weights: o.weight.map(Float.init), bias: Float(o.bias),
                                             noiseStd: Float(o.noise), range: range, seed: s)
            }
            let train = try make(config.limit.map { Swift.min($0, o.count) } ?? o.count, seed)
            let eval = evalSplit == .train ? train : try make(config.evalLimit.map { Swift.min($0, o.testCount) } ?? o.testCount, seed &+ 1)
            let trainLoader = try DataLoader(regression: train, batchSize: config.batchSize, shuffle: config.shuffle,
                                             dropLast: config.dropLast, seed: seed, training: true)
            let evalLoader = try DataLoader(regression: eval, batchSize: config.evalBatchSize, shuffle: false, seed: seed, training: false)
            return ExperimentData(train: trainLoader, eval: evalLoader, inputShape: [train.featureCount], classNames: [], notes: [])
        }
    }

    /// Holds out the last `fraction` of `train` for evaluation, or evaluates on `testSet()` (on the
    /// training set itself for `evalSplit == .train`, without augmentation).
    /// With a fraction, the test set is returned too, for the evaluation after training.
    private static func split(_ train: ImageDataset, _ fraction: Double?, _ evalSplit: DatasetSplit,
                              testSet: () throws -> ImageDataset) throws -> (ImageDataset, ImageDataset, ImageDataset?, [String]) {
        guard let fraction else { return (train, evalSplit == .train ? train : try testSet(), nil, []) }
        let held = Int((Double(train.count) * fraction).rounded())
        guard held >= 1, held < train.count else {
            throw EngineError.invalidData("data.validation = \(fraction) leaves no training or no validation examples out of \(train.count)")
        }
        let keep = train.count - held
        return (subset(train, 0..<keep), subset(train, keep..<train.count), try testSet(),
                ["validation: the last \(held) of \(train.count) training examples (data.validation = \(fraction)); the test split is evaluated once training ends"])
    }

    static func subset(_ d: ImageDataset, _ range: Range<Int>) -> ImageDataset {
        let size = d.sampleSize
        return ImageDataset(name: d.name, images: Array(d.images[(range.lowerBound * size)..<(range.upperBound * size)]),
                            labels: Array(d.labels[range]), channels: d.channels, height: d.height, width: d.width,
                            classNames: d.classNames)
    }

    /// Loads a built-in dataset, downloading it first (mirrors from `NTRAIN_MIRROR`) when missing.
    public static func loadOrDownload(_ kind: DatasetKind, split: DatasetSplit, root: URL,
                                      log: @escaping (String) -> Void) throws -> ImageDataset {
        do {
            return try BuiltinDatasets.load(kind, split: split, root: root)
        } catch DatasetError.missingFile {
            log("\(kind.rawValue) is not in \(root.path); downloading it")
            let options = DownloadOptions(mirrors: DownloadOptions.mirrors([]))
            try DatasetDownloader(root: root, options: options) { event in
                switch event {
                case let .verified(file, how): log("  \(file): verified (\(how))")
                case let .extracted(file, archive): log("  \(file): extracted from \(archive) and verified")
                case let .sourceFailed(file, source, reason): log("  \(file): \(source) failed (\(reason)); trying the next source")
                default: break
                }
            }.download(kind)
            return try BuiltinDatasets.load(kind, split: split, root: root)
        }
    }

    /// The per-batch transform of a config entry (nil for `resize`, done as the images are read).
    static func transform(_ spec: TransformSpec) -> Transform? {
        switch spec {
        case .resize: return nil
        case let .normalize(mean, std):
            let m = mean.map(Float.init), s = std.map(Float.init)
            return .normalize(mean: m, std: s, units: NormalizeUnits.infer(mean: m, std: s))
        case .scale(let f): return .scale(Float(f))
        case .pad(let n): return .pad(amount: n, fill: 0)
        case let .randomCrop(size, padding): return .randomCrop(height: size.first, width: size.second, padding: padding)
        case .randomHorizontalFlip(let p): return .randomHorizontalFlip(p: Float(p))
        case .toCHW: return .toCHW
        }
    }
}
