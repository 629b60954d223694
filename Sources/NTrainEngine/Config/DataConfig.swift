/// The `data` section: which dataset, where, batching and transforms (docs/config.md).
public struct DataConfig: ConfigSection {
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

    public init() { self.init(dataset: .mnist) }


    static var variants: (key: String, values: [String], absent: String?)? { ("dataset", DatasetName.allCases.map(\.rawValue), nil) }

    var variant: String { dataset.rawValue }

    static func instance(for value: String) -> DataConfig { DataConfig(dataset: DatasetName(rawValue: value) ?? .mnist) }

    static var fields: [ConfigField<Self>] {
        let samples = Schema.integer(.samples), linear = ["synthetic_linear"], random = ["random"], csv = ["image_csv"], folder = ["image_folder"]
        return [
            .value("dataset", \.dataset, .choice(DatasetName.self), example: "\"synthetic_linear\"", default: "required", ""),
            .optional("root", \.root, .string, example: #""/data""#, "dataset root; null: `NTRAIN_DATA`, else `~/.cache/ntrain/datasets`"),
            .value("batch_size", \.batchSize, .integer(.batchSize), example: "4", ""),
            .value("shuffle", \.shuffle, .bool, example: "false", "seeded, epoch-indexed order"),
            .value("drop_last", \.dropLast, .bool, example: "true", "drop the last incomplete training batch"),
            .value("transforms", \.transforms, .array(TransformSpec.schema), example: #"[{"normalize": {"mean": [0.5], "std": [0.5]}}]"#,
                   "applied in order; see *Transforms* below"),
            .value("eval_batch_size", \.evalBatchSize, .integer(.batchSize), example: "8", ""),
            .optional("validation", \.validation, .number(.unitExclusive), example: "0.25",
                      "fraction of the training set (its last examples) held out: every epoch is evaluated on it, so `best.mge`, early stopping and `plateau` schedules use it, and the test split is evaluated once, with the final weights, when training ends (printed as `test accuracy`, logged in `train.log`). `ntrain eval` always reads the whole split it is asked for. null: epochs are evaluated on the test split"),
            .optional("limit", \.limit, .integer(.atLeastOne), example: "4",
                      "train on only the first `limit` examples (PyTorch's `Subset(ds, range(limit))`); null: all"),
            .optional("eval_limit", \.evalLimit, .integer(.atLeastOne), example: "4", "evaluate on only the first `eval_limit` examples; null: all"),
            .value("count", \.syntheticLinear!.count, samples, example: "10", "training samples; y = weight·x + bias + N(0, noise²)").only(linear),
            .value("test_count", \.syntheticLinear!.testCount, samples, example: "10", "").only(linear),
            .value("features", \.syntheticLinear!.features, .integer(.channels), example: "2", "").only(linear),
            .value("weight", \.syntheticLinear!.weight, .array(.number(.any), minCount: 1), example: "[1.5]", default: "`2.0` per feature",
                   "one per feature").only(linear),
            .value("bias", \.syntheticLinear!.bias, .number(.any), example: "-1", "").only(linear),
            .value("noise", \.syntheticLinear!.noise, .number(.nonNegative), example: "0.5", "standard deviation").only(linear),
            .value("range", \.syntheticLinear!.range, .array(.number(.any), minCount: 2), example: "[0, 1]", "`[low, high]`: x is uniform in it")
                .only(linear),
            .value("count", \.random!.count, samples, example: "10",
                   "uniform random images, random labels; `count` + `test_count` images at most 4 GiB").only(random),
            .value("test_count", \.random!.testCount, samples, example: "10", "").only(random),
            .value("shape", \.random!.shape, .array(.integer(.channels), minCount: 1), example: "[1, 4, 4]", "`[C, H, W]`").only(random),
            .value("classes", \.random!.classes, .integer(.channels), example: "3", "").only(random),
            .value("path", \.imageFiles!.path, .string, example: #""train.csv""#, default: "required",
                   "CSV of `image_path,label` rows; PNG/JPEG/PGM; paths relative to the CSV").only(csv),
            .optional("test_path", \.imageFiles!.testPath, .string, example: #""test.csv""#,
                      "test CSV; null: use `validation` or the training set").only(csv),
            .optional("classes", \.imageFiles!.classes, .integer(.channels), example: "12", "null: largest label + 1").only(csv),
            .value("path", \.imageFiles!.path, .string, example: #""train""#, default: "required",
                   "torchvision's `ImageFolder` layout: one subfolder per class (class names = the subfolder names, sorted; index = position), PNG/JPEG/PGM files anywhere below each, sorted by path; other files and hidden folders are skipped. The images are shuffled with `seed` after reading, so a `validation` fraction takes every class")
                .only(folder),
            .optional("test_path", \.imageFiles!.testPath, .string, example: #""test""#,
                      "a test folder with the same class subfolders (a different set is an error naming the differences); null: use `validation` or the training set")
                .only(folder),
            .optional("channels", \.imageFiles!.channels, .integer(NumberRange(min: 1, max: 3)), example: "3",
                      "1 or 3; null: as stored in the first image; others are converted (RGB to gray with ITU-R 601-2 luma as PIL's `convert(\"L\")`, gray to RGB by repetition)")
                .only(csv + folder),
        ]
    }

    mutating func startDecoding(_ c: ConfigDecoding) throws {
        guard let dataset: DatasetName = try c.optional("dataset") else {
            throw c.error("dataset", "missing; set it to one of \(DatasetName.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = DataConfig(dataset: dataset)
    }

    mutating func finishDecoding(_ c: ConfigDecoding) throws {
        try syntheticLinear?.check(c)
        try random?.check(c)
        try imageFiles?.check(c, dataset: dataset)
    }
}

/// `synthetic_linear`: x uniform in `range`, y = weight·x + bias + N(0, noise²) (MindSpore's tutorial).
public struct SyntheticLinearOptions: Equatable, Sendable {
    public var count = 1600
    public var testCount = 200
    public var features = 1
    /// One weight per feature; default 2.0 each.
    public var weight: [Double] = [2]
    public var bias = 3.0
    public var noise = 1.0
    public var range: [Double] = [-10, 10]

    public init() {}

    /// The weights' default (2 per feature) and the checks across keys, after decoding.
    mutating func check(_ c: ConfigDecoding) throws {
        if !c.has("weight") { weight = [Double](repeating: 2, count: features) }
        guard weight.count == features else { throw c.error("weight", "has \(weight.count) values but features is \(features); give one weight per feature") }
        guard range.count == 2, range[0] < range[1] else { throw c.error("range", "expected [low, high] with low < high") }
    }
}

/// `random`: uniform random images with random labels (MXNet's Module example).
public struct RandomDataOptions: Equatable, Sendable {
    public var count = 1000
    public var testCount = 200
    /// Image shape [C, H, W].
    public var shape = [3, 32, 32]
    public var classes = 10

    public init() {}

    func check(_ c: ConfigDecoding) throws {
        guard shape.count == 3 else { throw c.error("shape", "expected [channels, height, width], got \(shape.count) values") }
    }
}

/// Options of the datasets read from image files: `image_csv` (a CSV of `image_path,label` rows,
/// paths relative to the CSV) and `image_folder` (torchvision's ImageFolder layout, one subfolder of
/// images per class).
public struct ImageFileOptions: Equatable, Sendable {
    /// The training CSV or folder (required).
    public var path: String
    /// The test CSV or folder; nil: evaluate on `data.validation` or on the training set.
    public var testPath: String? = nil
    /// `image_csv` only: number of classes; nil: one more than the largest label.
    public var classes: Int? = nil
    /// Load images with this many channels (1 gray, 3 RGB); nil: as stored in the first image.
    public var channels: Int? = nil

    public init(path: String) { self.path = path }

    func check(_ c: ConfigDecoding, dataset: DatasetName) throws {
        guard !path.isEmpty else {
            throw c.error("path", dataset == .imageCSV ? "missing; image_csv needs the path of a CSV file with image_path,label rows"
                                                       : "missing; image_folder needs the path of a folder with one subfolder of images per class")
        }
        if let ch = channels, ch != 1, ch != 3 { throw c.error("channels", "must be 1 (gray) or 3 (RGB), got \(ch)") }
    }
}
