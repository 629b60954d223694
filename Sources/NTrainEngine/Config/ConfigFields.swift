import Foundation

/// One key of a config section, declared once: its JSON name, schema, an example value, the notes
/// docs/config.md shows, and the property it decodes into and encodes from. A section's list of
/// fields (`ConfigSection.fields`) gives its schema (validation), its decoding and encoding, and
/// its table in docs/config.md (`ConfigSection.markdownTable`, kept in sync by a test), so the
/// four cannot drift apart.
struct ConfigField<Section: ConfigSection> {
    let key: String
    let schema: Schema
    /// For a section whose keys depend on one key's value (`optimizer.type`): the values this key
    /// belongs to; nil: every value.
    var cases: [String]? = nil
    /// Other keys `example` needs to be valid (`nesterov` needs `momentum`), as JSON members.
    var needs: [String: String] = [:]
    /// Whether the key must be given (`conv2d.out`).
    var required = false
    /// A valid JSON value other than the default: the test that every key changes the decoded
    /// config sets it.
    let example: String
    /// The Default column when it is not the default instance's value (e.g. "from monitor").
    let defaultNote: String?
    let notes: String
    let decode: (inout Section, ConfigDecoding) throws -> Void
    let encode: (Section, inout ConfigEncoding) throws -> Void
    /// The value in a default instance (of the field's first variant) as JSON text.
    let defaultText: (Section) -> String

    /// A key whose value is always present (absent or null in the file: the default).
    static func value<V: Codable>(_ key: String, _ path: WritableKeyPath<Section, V>, _ schema: Schema,
                                  example: String, default note: String? = nil, _ notes: String) -> Self {
        Self(key: key, schema: schema, example: example, defaultNote: note, notes: notes,
             decode: { section, c in if let v = try c.optional(key) as V? { section[keyPath: path] = v } },
             encode: { section, c in try c.put(key, section[keyPath: path]) },
             defaultText: { jsonText($0[keyPath: path]) })
    }

    /// A list that is omitted from the resolved config while it is empty.
    static func list<V: Codable>(_ key: String, _ path: WritableKeyPath<Section, [V]>, _ schema: Schema, example: String,
                                 default note: String? = nil, _ notes: String) -> Self {
        Self(key: key, schema: schema, example: example, defaultNote: note, notes: notes,
             decode: { section, c in if let v = try c.optional(key) as [V]? { section[keyPath: path] = v } },
             encode: { section, c in if !section[keyPath: path].isEmpty { try c.put(key, section[keyPath: path]) } },
             defaultText: { jsonText($0[keyPath: path]) })
    }

    /// The Default column of the docs: the note, "required", or the value in `instance`.
    func defaultColumn(in instance: Section) -> String { defaultNote ?? (required ? "required" : "`\(defaultText(instance))`") }

    /// This field, which must be given.
    func isRequired() -> Self { var f = self; f.required = true; return f }

    /// This field, for the variant values `cases` only.
    func only(_ cases: [String]) -> Self { var f = self; f.cases = cases; return f }

    /// This field, whose example needs the other keys `members` (JSON text by key).
    func needing(_ members: [String: String]) -> Self { var f = self; f.needs = members; return f }

    /// A key that may be null (written as an explicit null, so resolved configs show every key).
    /// With `writesNull: false` a nil value is left out, and null is not accepted unless `acceptsNull`.
    static func optional<V: Codable>(_ key: String, _ path: WritableKeyPath<Section, V?>, _ schema: Schema,
                                     example: String, default note: String? = nil, writesNull: Bool = true, acceptsNull: Bool? = nil,
                                     _ notes: String) -> Self {
        Self(key: key, schema: acceptsNull ?? writesNull ? .nullable(schema) : schema, example: example, defaultNote: note, notes: notes,
             decode: { section, c in section[keyPath: path] = try c.optional(key) },
             encode: { section, c in
                 if writesNull { try c.putOptional(key, section[keyPath: path]) } else if let v = section[keyPath: path] { try c.put(key, v) }
             },
             defaultText: { $0[keyPath: path].map { jsonText($0) } ?? "null" })
    }
}

private func jsonText<V: Encodable>(_ value: V) -> String {
    guard let tree = try? JSONValue(encoding: value) else { return "?" }
    if case .string(let s) = tree { return s }
    return tree.serialized()
}

/// A config section made of `fields`: its schema, decoding (`init(from:)` calls
/// `init(fieldsFrom:)`) and encoding (`encodeFields`) come from them.
protocol ConfigSection: Codable, Equatable, Sendable {
    init()
    static var fields: [ConfigField<Self>] { get }
    /// The key whose value selects which other keys apply (`type`), every value it takes and the
    /// value when it is absent; nil for a plain section.
    static var variants: (key: String, values: [String], absent: String?)? { get }
    /// The current value of the variants key.
    var variant: String { get }
    /// A default instance of variant `value` (a dataset's options exist only for it).
    static func instance(for value: String) -> Self
    /// Defaults that depend on the variant, before the fields are decoded (adam's `lr`).
    mutating func startDecoding(_ c: ConfigDecoding) throws
    /// Defaults that depend on other keys, and checks across keys, after the fields are decoded.
    mutating func finishDecoding(_ c: ConfigDecoding) throws
}

extension ConfigSection {
    static var variants: (key: String, values: [String], absent: String?)? { nil }
    var variant: String { "" }
    static func instance(for value: String) -> Self { Self() }
    mutating func startDecoding(_ c: ConfigDecoding) throws {}
    mutating func finishDecoding(_ c: ConfigDecoding) throws {}

    static var schema: Schema {
        guard let v = variants else {
            return .object(Dictionary(uniqueKeysWithValues: fields.map { ($0.key, $0.schema) }), required: Set(fields.filter(\.required).map(\.key)))
        }
        let keyed = fields.filter { $0.key != v.key }
        let common = Dictionary(uniqueKeysWithValues: keyed.filter { $0.cases == nil }.map { ($0.key, $0.schema) })
        var cases: [String: [String: Schema]] = [:]
        for value in v.values {
            cases[value] = Dictionary(uniqueKeysWithValues: keyed.filter { $0.cases?.contains(value) == true }.map { ($0.key, $0.schema) })
        }
        return .variants(key: v.key, defaultCase: v.absent, common: common, cases: cases)
    }

    /// Whether `field` applies to this instance's variant.
    func applies(_ field: ConfigField<Self>) -> Bool { field.cases.map { $0.contains(variant) } ?? true }

    /// `init(from:)` of a section: each field, then `finishDecoding`.
    /// Sections decode and encode through their fields (a section with more to do declares its own).
    public init(from decoder: Decoder) throws { try self.init(fieldsFrom: decoder) }
    public func encode(to encoder: Encoder) throws { try encodeFields(to: encoder) }

    init(fieldsFrom decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: ConfigKey.self)
        try startDecoding(c)
        for field in Self.fields where applies(field) { try field.decode(&self, c) }
        try finishDecoding(c)
    }

    /// `encode(to:)` of a section: each field that applies, in declaration order, but `skipping`.
    func encodeFields(to encoder: Encoder, skipping: Set<String> = []) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        for field in Self.fields where applies(field) && !skipping.contains(field.key) { try field.encode(self, &c) }
    }

    /// The section's table in docs/config.md: key, type, default, notes (and, for a section with
    /// variants, which values of its key each key applies to).
    static var markdownTable: String {
        let variantColumn = variants.map { "`\($0.key)`" }
        var lines = variantColumn == nil ? ["| Key | Type | Default | Notes |", "|---|---|---|---|"]
            : ["| Key | Type | Default | \(variantColumn!) | Notes |", "|---|---|---|---|---|"]
        for f in fields {
            let scope = variantColumn == nil ? "" : " \(f.cases.map { $0.map { $0.isEmpty ? "none" : "`\($0)`" }.joined(separator: ", ") } ?? "any") |"
            let instance = f.cases?.first.map(instance(for:)) ?? Self()
            lines.append("| `\(f.key)` | \(f.schema.docsType) | \(f.defaultColumn(in: instance)) |\(scope) \(f.notes) |")
        }
        return lines.joined(separator: "\n")
    }
}

extension Schema {
    /// The Type column of docs/config.md.
    var docsType: String {
        func range(_ r: NumberRange) -> String {
            r.min == nil && r.max == nil ? "" : " " + r.text.replacingOccurrences(of: ">= ", with: "≥ ").replacingOccurrences(of: "<= ", with: "≤ ")
        }
        switch self {
        case .bool: return "bool"
        case .integer(let r): return "integer" + range(r)
        case .number(let r): return "number" + range(r)
        case .string, .device, .runName: return "string"
        case .choice(let list): return list.map { "`\($0)`" }.joined(separator: ", ")
        case .array(let element, _): return "array of \(element.docsType)"
        case .object, .variants, .tagged: return "object"
        case .nullable(let s): return "\(s.docsType) or null"
        case .either(let list): return list.map(\.docsType).joined(separator: " or ")
        case .deferred: return "object"  // the recursive ones (a layer, a scheduler); calling it here would recurse
        }
    }
}

/// The sections declared with fields, by their path in a config: docs/config.md has one table
/// per entry, between `<!-- fields: PATH -->` and `<!-- /fields -->`.
enum ConfigSections {
    struct Entry {
        let path: String
        let table: String
        /// Each key's example, with the other members it needs (the variant value among them).
        let examples: [(key: String, json: String, needs: [String: String])]
        /// The smallest valid section (its required keys), as JSON members.
        let base: [String: String]
        /// Whether the section is one entry of an array (`optimizer.groups[0]`).
        let inArray: Bool
        /// The section's variants key, and its smallest valid section per value of that key
        /// (JSON text of the value).
        var variantKey: String?
        var variantBases: [String: [String: String]] = [:]

        /// The smallest valid section for a key whose example needs `needs`.
        func base(for needs: [String: String]) -> [String: String] {
            variantKey.flatMap { needs[$0] }.flatMap { variantBases[$0] } ?? base
        }
    }

    /// Every generated table of docs/config.md by its path: the sections' and the layer list's.
    static var docsTables: [(path: String, table: String)] {
        all.map { ($0.path.isEmpty ? "top" : $0.path, $0.table) } + [("model.layers", LayerKinds.markdownTable), ("data.transforms", TransformKinds.markdownTable)]
    }

    static var all: [Entry] {
        [entry("", ExperimentConfig.self), data, model, entry("loss", LossConfig.self, base: ["type": "\"cross_entropy\""]), entry("train", TrainConfig.self), entry("train.early_stopping", EarlyStopping.self), entry("train.ema", EMAConfig.self),
         entry("checkpoint", CheckpointConfig.self), entry("logging", LoggingConfig.self),
         entry("optimizer", OptimizerConfig.self), entry("scheduler", SchedulerConfig.self), entry("optimizer.groups", ParameterGroupConfig.self, base: ["match": #"["*"]"#], inArray: true)]
    }

    private static var model: Entry {
        var e = entry("model", ModelConfig.self, base: ["arch": #""mlp""#])
        e.variantBases = ["": [:]]
        return e
    }

    private static var data: Entry {
        var e = entry("data", DataConfig.self, base: ["dataset": #""mnist""#])
        e.variantBases = [
            #""synthetic_linear""#: ["dataset": #""synthetic_linear""#, "count": "8", "test_count": "4"],
            #""random""#: ["dataset": #""random""#, "count": "8", "shape": "[1, 2, 2]", "classes": "2"],
            #""image_csv""#: ["dataset": #""image_csv""#, "path": #""a.csv""#],
            #""image_folder""#: ["dataset": #""image_folder""#, "path": #""a""#],
        ]
        return e
    }

    private static func entry<S: ConfigSection>(_ path: String, _ type: S.Type, base: [String: String] = [:], inArray: Bool = false) -> Entry {
        let examples = S.fields.map { f -> (String, String, [String: String]) in
            var needs = f.needs
            // An empty variant value (a `layers` model) is the variants key left out, written "".
            if let v = S.variants, let value = f.cases?.first { needs[v.key] = value.isEmpty ? "" : "\"\(value)\"" }
            return (f.key, f.example, needs)
        }
        return Entry(path: path, table: S.markdownTable, examples: examples, base: base, inArray: inArray, variantKey: S.variants?.key)
    }
}
