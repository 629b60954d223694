import Foundation

/// The parts of a checkpoint's free-form `metadata` that `ntrain inspect` summarises. Every field
/// is read defensively: a missing key or an unexpected type leaves it nil, never fails, so
/// checkpoints from older or newer trainers still inspect.
public struct CheckpointMetadataSummary: Equatable, Sendable {
    /// One metric value of the last recorded epoch, e.g. `eval.accuracy = 0.98`.
    public struct Metric: Equatable, Sendable {
        public var name: String
        public var value: Double
    }

    /// `metadata.name`, else the config's name.
    public var name: String?
    public var epoch: Int?
    public var step: Int?
    public var device: String?
    public var ntrainVersion: String?
    /// `metadata.config.name`.
    public var configName: String?
    /// `metadata.config.model.arch`, or "layers (N)" for a layer list.
    public var model: String?
    /// `metadata.config.data.dataset`.
    public var dataset: String?
    /// `metadata.input_shape`: one sample's shape, e.g. [1, 32, 32].
    public var inputShape: [Int]?
    /// Number of entries in `metadata.class_names` (nil when empty, as for regression).
    public var classCount: Int?
    /// `metadata.created` (ISO 8601).
    public var created: String?
    /// `metadata.progress.best` and `best_epoch`: the best monitored value so far.
    public var best: Double?
    public var bestEpoch: Int?
    /// The last epoch's metrics, from `metrics` (or `history` / `metrics_history`).
    public var lastMetrics: [Metric]
    /// Top-level metadata keys not shown above (optimizer and scheduler state, RNG, ...), sorted.
    public var otherKeys: [String]

    /// Keys this summary reads; the others are listed in `otherKeys`.
    static let summarisedKeys: Set<String> = [
        "name", "epoch", "step", "global_step", "device", "ntrain_version", "version", "config",
        "metrics", "history", "metrics_history", "created", "input_shape", "class_names",
    ]
    static let metricsKeys = ["metrics", "history", "metrics_history"]
    /// Bookkeeping fields of a per-epoch record that are not metrics.
    static let recordFields: Set<String> = ["epoch", "step", "time", "timestamp"]

    public init(_ metadata: [String: JSONValue]) {
        let config = metadata["config"]
        configName = config?["name"]?.stringValue
        name = metadata["name"]?.stringValue ?? configName
        epoch = metadata["epoch"]?.intValue
        step = (metadata["step"] ?? metadata["global_step"])?.intValue
        device = metadata["device"]?.stringValue
        ntrainVersion = (metadata["ntrain_version"] ?? metadata["version"])?.stringValue
        if let arch = config?["model"]?["arch"]?.stringValue {
            model = arch
        } else if let layers = config?["model"]?["layers"]?.arrayValue {
            model = "layers (\(layers.count))"
        }
        dataset = config?["data"]?["dataset"]?.stringValue
        if let dims = metadata["input_shape"]?.arrayValue {
            let ints = dims.compactMap(\.intValue)
            inputShape = ints.count == dims.count ? ints : nil
        }
        // Regression checkpoints store an empty list: no classes to show.
        classCount = (metadata["class_names"]?.arrayValue?.count).flatMap { $0 > 0 ? $0 : nil }
        created = metadata["created"]?.stringValue
        best = metadata["progress"]?["best"]?.doubleValue
        bestEpoch = metadata["progress"]?["best_epoch"]?.intValue
        var metrics: [Metric] = []
        if let source = Self.metricsKeys.lazy.compactMap({ metadata[$0] }).first {
            Self.collect(source, prefix: "", depth: 0, into: &metrics)
        }
        lastMetrics = metrics
        otherKeys = metadata.keys.filter { !Self.summarisedKeys.contains($0) }.sorted()
    }

    /// Flattens the latest values of a metrics tree: a number is a metric; an array contributes its
    /// last element (a history); an object contributes each member under `prefix.key`.
    private static func collect(_ value: JSONValue, prefix: String, depth: Int, into out: inout [Metric]) {
        guard depth < 6, out.count < 64 else { return }
        switch value {
        case .integer, .unsignedInteger, .double:
            if let d = value.doubleValue, !prefix.isEmpty { out.append(Metric(name: prefix, value: d)) }
        case .array(let items):
            // Histories may end in null (a non-finite value); take the last present entry.
            if let last = items.last(where: { !$0.isNull }) { collect(last, prefix: prefix, depth: depth + 1, into: &out) }
        case .object(let members):
            for key in members.keys.sorted() where !(recordFields.contains(key)) {
                collect(members[key]!, prefix: prefix.isEmpty ? key : prefix + "." + key, depth: depth + 1, into: &out)
            }
        default:
            break
        }
    }

    func textLines() -> [String] {
        func row(_ label: String, _ value: String?) -> String {
            label.padding(toLength: 12, withPad: " ", startingAt: 0) + (value ?? "-")
        }
        var lines = [
            row("name", name),
            row("epoch", epoch.map(String.init)),
            row("step", step.map(String.init)),
            row("device", device),
            row("ntrain", ntrainVersion),
            row("config", configName),
            row("model", model),
            row("dataset", dataset),
            row("input", inputShape.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" }),
            row("classes", classCount.map(String.init)),
            row("created", created),
        ]
        if let best {
            lines.append(row("best", Self.format(best) + (bestEpoch.map { " (epoch \($0))" } ?? "")))
        }
        if lastMetrics.isEmpty {
            lines.append(row("metrics", nil))
        } else {
            let width = lastMetrics.map(\.name.count).max() ?? 0
            lines.append("metrics     (last epoch)")
            for m in lastMetrics {
                lines.append("  " + m.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + Self.format(m.value))
            }
        }
        if !otherKeys.isEmpty { lines.append(row("also", otherKeys.joined(separator: ", "))) }
        return lines
    }

    /// Compact metric text: up to 6 significant digits.
    static func format(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        var s = String(format: "%.6g", v)
        if s.hasPrefix("-0") && Double(s) == 0 { s = "0" }
        return s
    }

    func json() -> JSONValue {
        func opt(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        func opt(_ i: Int?) -> JSONValue { i.map { .integer(Int64($0)) } ?? .null }
        var metrics: [String: JSONValue] = [:]
        for m in lastMetrics { metrics[m.name] = .double(m.value) }
        return .object([
            "name": opt(name), "epoch": opt(epoch), "step": opt(step), "device": opt(device),
            "ntrain_version": opt(ntrainVersion), "config_name": opt(configName), "model": opt(model),
            "dataset": opt(dataset), "last_metrics": .object(metrics),
            "input_shape": inputShape.map { .array($0.map { .integer(Int64($0)) }) } ?? .null,
            "classes": opt(classCount), "created": opt(created),
            "best": best.map(JSONValue.double) ?? .null, "best_epoch": opt(bestEpoch),
            "other_keys": .array(otherKeys.map(JSONValue.string)),
        ])
    }
}
