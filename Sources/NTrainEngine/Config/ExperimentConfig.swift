import Foundation

/// One experiment, as described by a JSON config file (DESIGN §2, docs/config.md). Every field
/// except `model` and `data.dataset` has a default; decoding fills them in, so an encoded config is
/// fully resolved.
public struct ExperimentConfig: ConfigSection {
    /// Run name, used for `runs/<name>/`; defaults to the config file's base name.
    public var name = "experiment"
    public var seed = 0
    /// Device string (`cpux`, `gpu0`, `xpux`, ...); nil: `MGE_DEFAULT_DEVICE`, else `xpux`.
    public var device: String? = nil
    public var data: DataConfig
    public var model: ModelConfig
    /// Default cross_entropy, or mse for the regression dataset synthetic_linear.
    public var loss: LossConfig
    public var optimizer = OptimizerConfig()
    public var scheduler = SchedulerConfig()
    public var train = TrainConfig()
    public var checkpoint = CheckpointConfig()
    public var logging = LoggingConfig()

    public init(data: DataConfig, model: ModelConfig) {
        self.data = data
        self.model = model
        self.loss = LossConfig(type: data.dataset == .syntheticLinear ? .mse : .crossEntropy)
    }

    public init() { self.init(data: DataConfig(dataset: .mnist), model: ModelConfig(arch: .mlp)) }

    static let defaultNameKey = CodingUserInfoKey(rawValue: "ntrain.defaultName")!

    public init(from decoder: Decoder) throws {
        try self.init(fieldsFrom: decoder)
        if !(try decoder.container(keyedBy: ConfigKey.self)).has("name") { name = (decoder.userInfo[Self.defaultNameKey] as? String) ?? name }
    }

    static var fields: [ConfigField<Self>] {
        [
            .value("name", \.name, .runName, example: #""other""#, default: "the config file's base name",
                   "run folder `runs/<name>/<time>/`; one folder name: no `/` or `\\`, not `.` or `..`, no control characters, 1-100 bytes"),
            .value("seed", \.seed, .integer(.nonNegative), example: "7", "seeds init, shuffling, dropout, augmentation"),
            .optional("device", \.device, .device, example: #""cpux""#,
                      "`cpux`, `cpu0`, `gpux`, `gpu1`, `xpux`; null: `MGE_DEFAULT_DEVICE`, else `xpux` (GPU 0 where one is usable, else the CPU). `--device` wins. GPU requirements and limits: [gpu.md](gpu.md)"),
            .value("data", \.data, DataConfig.schema, example: #"{"dataset": "cifar10"}"#, default: "required", "below").isRequired(),
            .value("model", \.model, ModelConfig.schema, example: #"{"arch": "linear"}"#, default: "required", "below").isRequired(),
            .value("loss", \.loss, LossConfig.schemaWithShorthand, example: #""nll""#, default: "`cross_entropy` (`mse` for `synthetic_linear`)",
                   "below"),
            .value("optimizer", \.optimizer, OptimizerConfig.schema, example: #"{"type": "adam"}"#, default: "`{\"type\": \"sgd\"}`", "below"),
            .value("scheduler", \.scheduler, SchedulerConfig.schema(nested: false), example: #"{"type": "exponential"}"#,
                   default: "`{\"type\": \"constant\"}`", "below"),
            .value("train", \.train, TrainConfig.schema, example: #"{"epochs": 2}"#, default: "all defaults", "below"),
            .value("checkpoint", \.checkpoint, CheckpointConfig.schema, example: #"{"every": 0}"#, default: "all defaults", "below"),
            .value("logging", \.logging, LoggingConfig.schema, example: #"{"csv": false}"#, default: "all defaults", "below"),
        ]
    }

    /// The loss defaults by dataset: mse for the regression dataset synthetic_linear.
    mutating func startDecoding(_ c: ConfigDecoding) throws {
        guard c.has("data") else { throw c.error("data", "missing; the config needs a data section with at least \"dataset\"") }
        guard c.has("model") else { throw c.error("model", "missing; the config needs a model section with \"arch\" or \"layers\"") }
    }

    mutating func finishDecoding(_ c: ConfigDecoding) throws {
        if !c.has("loss") { loss = LossConfig(type: data.dataset == .syntheticLinear ? .mse : .crossEntropy) }
    }

    // MARK: Loading

    /// Reads, overrides (`--set a.b=value`), validates and decodes a config file.
    public static func load(contentsOf url: URL, overrides: [String] = []) throws -> ExperimentConfig {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            let exists = FileManager.default.fileExists(atPath: url.path)
            throw ConfigError.unreadable(file: url.path, reason: exists ? error.localizedDescription : "no such file")
        }
        let stem = url.deletingPathExtension().lastPathComponent
        return try decode(data, file: url.path, overrides: overrides, defaultName: stem)
    }

    /// Validates and decodes config text. `file` names the source in errors.
    public static func decode(
        _ data: Data, file: String = "<config>", overrides: [String] = [], defaultName: String? = nil
    ) throws -> ExperimentConfig {
        let tree: JSONValue
        do {
            tree = try JSONValue(parsing: data)
        } catch let e as JSONParseError {
            throw ConfigError.syntax(file: file, line: e.line, column: e.column, message: e.message)
        }
        return try decode(tree, file: file, overrides: overrides, defaultName: defaultName)
    }

    /// Validates and decodes a parsed config (e.g. the `config` stored in a checkpoint).
    public static func decode(
        _ tree: JSONValue, file: String = "<config>", overrides: [String] = [], defaultName: String? = nil
    ) throws -> ExperimentConfig {
        var tree = tree
        let parsed = try overrides.map(ConfigOverride.init(parsing:))
        for o in parsed { try o.apply(to: &tree) }
        do {
            let normalised = try ConfigValidator.check(tree, schema, at: "")
            let decoder = JSONDecoder()
            if let defaultName { decoder.userInfo[defaultNameKey] = defaultName }
            return try decoder.decode(ExperimentConfig.self, from: Data(normalised.serialized().utf8))
        } catch let e as ConfigError {
            throw e.attributed(file: file, overrides: parsed)
        } catch let e as DecodingError {
            throw ConfigError.invalidValue(file: file, path: Self.path(of: e), message: Self.message(of: e)).attributed(file: file, overrides: parsed)
        }
    }

    /// The resolved config as deterministic pretty JSON (sorted keys), for `config.json`.
    public func jsonText() -> String { jsonValue.serialized(pretty: true) + "\n" }

    /// The resolved config as a JSON tree, for checkpoint metadata.
    public var jsonValue: JSONValue {
        do {
            return try JSONValue(encoding: self)
        } catch {
            // Only a NaN/Inf set in code (never one decoded from JSON) can make encoding fail.
            preconditionFailure("config cannot be encoded as JSON: \(error)")
        }
    }

    private static func path(of error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): return configPath(c.codingPath)
        case .keyNotFound(let key, let c): return configPath(c.codingPath + [key])
        @unknown default: return ""
        }
    }

    private static func message(of error: DecodingError) -> String {
        switch error {
        case .typeMismatch(let type, _): return "expected a value of type \(type)"
        case .valueNotFound(let type, _): return "expected a value of type \(type), got null"
        case .keyNotFound: return "missing (required)"
        case .dataCorrupted(let c): return c.debugDescription
        @unknown default: return "\(error)"
        }
    }
}
