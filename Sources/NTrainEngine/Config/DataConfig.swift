/// The `data` section: which dataset, where, batching and transforms (docs/config.md).
public struct DataConfig: Codable, Equatable, Sendable {
    public var dataset: DatasetName
    /// Dataset root folder; nil: `NTRAIN_DATA` or `~/.cache/ntrain/datasets`.
    public var root: String? = nil
    public var batchSize = 64
    public var shuffle = true
    public var dropLast = false
    public var transforms: [TransformSpec] = []
    public var evalBatchSize = 1000
    /// Fraction of the training set held out for evaluation; nil evaluates on the test split.
    public var validation: Double? = nil
    /// Use only the first `limit` training examples (PyTorch's `Subset(range(limit))`); nil: all.
    public var limit: Int? = nil
    /// Evaluate on only the first `eval_limit` examples; nil: all.
    public var evalLimit: Int? = nil
    /// Options of `synthetic_linear` (non-nil exactly for that dataset).
    public var syntheticLinear: SyntheticLinearOptions? = nil
    /// Options of `random` (non-nil exactly for that dataset).
    public var random: RandomDataOptions? = nil
    /// Options of `image_csv` and `image_folder` (non-nil exactly for those datasets).
    public var imageFiles: ImageFileOptions? = nil

    public init(dataset: DatasetName) {
        self.dataset = dataset
        switch dataset {
        case .syntheticLinear: syntheticLinear = SyntheticLinearOptions()
        case .random: random = RandomDataOptions()
        case .imageCSV, .imageFolder: imageFiles = ImageFileOptions(path: "")
        default: break
        }
    }

    static var schema: Schema {
        .variants(
            key: "dataset", defaultCase: nil,
            common: [
                "root": .nullable(.string), "batch_size": .integer(.batchSize), "shuffle": .bool, "drop_last": .bool,
                "transforms": .array(TransformSpec.schema), "eval_batch_size": .integer(.batchSize),
                "validation": .nullable(.number(.unitExclusive)),
                "limit": .nullable(.integer(.atLeastOne)), "eval_limit": .nullable(.integer(.atLeastOne)),
            ],
            cases: [
                "mnist": [:], "fashion-mnist": [:], "cifar10": [:],
                "synthetic_linear": SyntheticLinearOptions.schema, "random": RandomDataOptions.schema,
                "image_csv": ImageFileOptions.schema(.imageCSV), "image_folder": ImageFileOptions.schema(.imageFolder),
            ])
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        guard let dataset: DatasetName = try c.optional("dataset") else { throw c.error("dataset", "missing; set it to one of \(DatasetName.allCases.map(\.rawValue).joined(separator: ", "))") }
        self.init(dataset: dataset)
        root = try c.optional("root")
        batchSize = try c.value("batch_size", default: batchSize)
        shuffle = try c.value("shuffle", default: shuffle)
        dropLast = try c.value("drop_last", default: dropLast)
        transforms = try c.value("transforms", default: transforms)
        evalBatchSize = try c.value("eval_batch_size", default: evalBatchSize)
        validation = try c.optional("validation")
        limit = try c.optional("limit")
        evalLimit = try c.optional("eval_limit")
        switch dataset {
        case .syntheticLinear: syntheticLinear = try SyntheticLinearOptions(from: decoder)
        case .random: random = try RandomDataOptions(from: decoder)
        case .imageCSV, .imageFolder: imageFiles = try ImageFileOptions(from: decoder, dataset: dataset)
        default: break
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        try c.put("dataset", dataset)
        try c.putOptional("root", root)
        try c.put("batch_size", batchSize)
        try c.put("shuffle", shuffle)
        try c.put("drop_last", dropLast)
        try c.put("transforms", transforms)
        try c.put("eval_batch_size", evalBatchSize)
        try c.putOptional("validation", validation)
        try c.putOptional("limit", limit)
        try c.putOptional("eval_limit", evalLimit)
        try syntheticLinear?.encode(to: encoder)
        try random?.encode(to: encoder)
        try imageFiles?.encode(to: encoder)
    }
}

/// `synthetic_linear`: x uniform in `range`, y = weight·x + bias + N(0, noise²) (MindSpore's tutorial).
public struct SyntheticLinearOptions: Codable, Equatable, Sendable {
    public var count = 1600
    public var testCount = 200
    public var features = 1
    /// One weight per feature; default 2.0 each.
    public var weight: [Double] = [2]
    public var bias = 3.0
    public var noise = 1.0
    public var range: [Double] = [-10, 10]

    public init() {}

    static let schema: [String: Schema] = [
        "count": .integer(.samples), "test_count": .integer(.samples), "features": .integer(.channels),
        "weight": .array(.number(.any), minCount: 1), "bias": .number(.any), "noise": .number(.nonNegative),
        "range": .array(.number(.any), minCount: 2),
    ]

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        count = try c.value("count", default: count)
        testCount = try c.value("test_count", default: testCount)
        features = try c.value("features", default: features)
        weight = try c.value("weight", default: [Double](repeating: 2, count: features))
        guard weight.count == features else { throw c.error("weight", "has \(weight.count) values but features is \(features); give one weight per feature") }
        bias = try c.value("bias", default: bias)
        noise = try c.value("noise", default: noise)
        range = try c.value("range", default: range)
        guard range.count == 2, range[0] < range[1] else { throw c.error("range", "expected [low, high] with low < high") }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        try c.put("count", count)
        try c.put("test_count", testCount)
        try c.put("features", features)
        try c.put("weight", weight)
        try c.put("bias", bias)
        try c.put("noise", noise)
        try c.put("range", range)
    }
}

/// `random`: uniform random images with random labels (MXNet's Module example).
public struct RandomDataOptions: Codable, Equatable, Sendable {
    public var count = 1000
    public var testCount = 200
    /// Image shape [C, H, W].
    public var shape = [3, 32, 32]
    public var classes = 10

    public init() {}

    static let schema: [String: Schema] = [
        "count": .integer(.samples), "test_count": .integer(.samples),
        "shape": .array(.integer(.channels), minCount: 1), "classes": .integer(.channels),
    ]

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        count = try c.value("count", default: count)
        testCount = try c.value("test_count", default: testCount)
        shape = try c.value("shape", default: shape)
        guard shape.count == 3 else { throw c.error("shape", "expected [channels, height, width], got \(shape.count) values") }
        classes = try c.value("classes", default: classes)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        try c.put("count", count)
        try c.put("test_count", testCount)
        try c.put("shape", shape)
        try c.put("classes", classes)
    }
}

/// Options of the datasets read from image files: `image_csv` (a CSV of `image_path,label` rows,
/// paths relative to the CSV) and `image_folder` (torchvision's ImageFolder layout, one subfolder of
/// images per class).
public struct ImageFileOptions: Codable, Equatable, Sendable {
    /// The training CSV or folder (required).
    public var path: String
    /// The test CSV or folder; nil: evaluate on `data.validation` or on the training set.
    public var testPath: String? = nil
    /// `image_csv` only: number of classes; nil: one more than the largest label.
    public var classes: Int? = nil
    /// Load images with this many channels (1 gray, 3 RGB); nil: as stored in the first image.
    public var channels: Int? = nil

    public init(path: String) { self.path = path }

    static func schema(_ dataset: DatasetName) -> [String: Schema] {
        var keys: [String: Schema] = ["path": .string, "test_path": .nullable(.string), "channels": .nullable(.integer(NumberRange(min: 1, max: 3)))]
        if dataset == .imageCSV { keys["classes"] = .nullable(.integer(.channels)) }
        return keys
    }

    public init(from decoder: Decoder, dataset: DatasetName) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        guard let path: String = try c.optional("path"), !path.isEmpty else {
            throw c.error("path", dataset == .imageCSV ? "missing; image_csv needs the path of a CSV file with image_path,label rows"
                                                       : "missing; image_folder needs the path of a folder with one subfolder of images per class")
        }
        self.path = path
        testPath = try c.optional("test_path")
        if dataset == .imageCSV { classes = try c.optional("classes") }
        channels = try c.optional("channels")
        if let ch = channels, ch != 1, ch != 3 { throw c.error("channels", "must be 1 (gray) or 3 (RGB), got \(ch)") }
    }

    public init(from decoder: Decoder) throws { try self.init(from: decoder, dataset: .imageCSV) }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        try c.put("path", path)
        try c.putOptional("test_path", testPath)
        if let classes { try c.put("classes", classes) }  // image_csv only; image_folder has no such key
        try c.putOptional("channels", channels)
    }
}
