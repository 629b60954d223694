import Foundation

/// One experiment, as described by a JSON config file (DESIGN §2, docs/config.md). Every field
/// except `model` and `data.dataset` has a default; decoding fills them in, so an encoded config is
/// fully resolved.
public struct ExperimentConfig: Codable, Equatable, Sendable {
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

    static var schema: Schema {
        .object(
            [
                "name": .runName, "seed": .integer(.nonNegative), "device": .nullable(.device),
                "data": DataConfig.schema, "model": ModelConfig.schema, "loss": LossConfig.schemaWithShorthand,
                "optimizer": OptimizerConfig.schema, "scheduler": SchedulerConfig.schema(nested: false),
                "train": TrainConfig.schema, "checkpoint": CheckpointConfig.schema, "logging": LoggingConfig.schema,
            ], required: ["data", "model"])
    }

    static let defaultNameKey = CodingUserInfoKey(rawValue: "ntrain.defaultName")!

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        guard c.has("data") else { throw c.error("data", "missing; the config needs a data section with at least \"dataset\"") }
        guard c.has("model") else { throw c.error("model", "missing; the config needs a model section with \"arch\" or \"layers\"") }
        self.init(data: try c.value("data", default: DataConfig(dataset: .mnist)), model: try c.value("model", default: ModelConfig(arch: .lenet)))
        name = try c.value("name", default: (decoder.userInfo[Self.defaultNameKey] as? String) ?? name)
        seed = try c.value("seed", default: seed)
        device = try c.optional("device")
        loss = try c.value("loss", default: loss)
        optimizer = try c.value("optimizer", default: optimizer)
        scheduler = try c.value("scheduler", default: scheduler)
        train = try c.value("train", default: train)
        checkpoint = try c.value("checkpoint", default: checkpoint)
        logging = try c.value("logging", default: logging)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        try c.put("name", name)
        try c.put("seed", seed)
        try c.putOptional("device", device)
        try c.put("data", data)
        try c.put("model", model)
        try c.put("loss", loss)
        try c.put("optimizer", optimizer)
        try c.put("scheduler", scheduler)
        try c.put("train", train)
        try c.put("checkpoint", checkpoint)
        try c.put("logging", logging)
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
