import NTrainCore

/// Allowed interval of a number, with a readable description ("> 0", "in [0, 1)").
struct NumberRange {
    var min: Double? = nil
    var minInclusive = true
    var max: Double? = nil
    var maxInclusive = true

    static let any = NumberRange()
    static let positive = NumberRange(min: 0, minInclusive: false)
    static let nonNegative = NumberRange(min: 0)
    static let atLeastOne = NumberRange(min: 1)
    static let unitOpen = NumberRange(min: 0, max: 1, maxInclusive: false)  // [0, 1)
    static let unitClosed = NumberRange(min: 0, max: 1)  // [0, 1]
    static let unitPositive = NumberRange(min: 0, minInclusive: false, max: 1)  // (0, 1]
    static let unitExclusive = NumberRange(min: 0, minInclusive: false, max: 1, maxInclusive: false)  // (0, 1)
    // Sizes no real run needs, refused before they reach an allocation.
    /// Batch sizes: 1 to 2^20.
    static let batchSize = NumberRange(min: 1, max: Double(1 << 20))
    /// Layer widths (linear outputs, hidden sizes, features): 1 to 2^24.
    static let width = NumberRange(min: 1, max: Double(1 << 24))
    /// Convolution channels and class counts: 1 to 2^16.
    static let channels = NumberRange(min: 1, max: Double(1 << 16))
    /// Generated dataset sizes: 1 to 2^24 examples.
    static let samples = NumberRange(min: 1, max: Double(1 << 24))
    /// A block's repetitions: 1 to 1,000.
    static let repeats = NumberRange(min: 1, max: 1000)

    func contains(_ v: Double) -> Bool {
        if let lo = min, minInclusive ? v < lo : v <= lo { return false }
        if let hi = max, maxInclusive ? v > hi : v >= hi { return false }
        return true
    }

    var text: String {
        func f(_ d: Double) -> String { d.rounded() == d && abs(d) < 1e15 ? String(Int(d)) : "\(d)" }
        switch (min, max) {
        case (nil, nil): return "any number"
        case (let lo?, nil): return (minInclusive ? ">= " : "> ") + f(lo)
        case (nil, let hi?): return (maxInclusive ? "<= " : "< ") + f(hi)
        case (let lo?, let hi?): return "in \(minInclusive ? "[" : "(")\(f(lo)), \(f(hi))\(maxInclusive ? "]" : ")")"
        }
    }
}

/// The shape of a config section: which keys exist, their types, allowed values and ranges.
/// `ConfigValidator` walks a parsed JSON tree against it before typed decoding, so that unknown
/// keys and bad values are reported with their JSON path.
indirect enum Schema {
    case bool
    case integer(NumberRange)
    case number(NumberRange)
    case string
    /// A string from a fixed list.
    case choice([String])
    /// A device string such as `cpux` or `gpu0`.
    case device
    /// One safe file-name component (a run name: `runs/<name>/...`), see `RunName`.
    case runName
    case array(Schema, minCount: Int)
    case object([String: Schema], required: Set<String>)
    /// An object whose allowed keys depend on the string value of `key` (optimizer `type`,
    /// data `dataset`). When `key` is absent, `defaultCase` is used (nil: `key` is required).
    case variants(key: String, defaultCase: String?, common: [String: Schema], cases: [String: [String: Schema]])
    /// A single-key object naming one of several kinds, e.g. `{"conv2d": {...}}`.
    case tagged([String: Schema])
    case nullable(Schema)
    /// The first alternative whose JSON type matches the value.
    case either([Schema])
    /// Built on use, for recursive schemas (chained schedulers).
    case deferred(() -> Schema)

    static func object(_ keys: [String: Schema]) -> Schema { .object(keys, required: []) }
    static func array(_ element: Schema) -> Schema { .array(element, minCount: 0) }
    static func choice<E: RawRepresentable & CaseIterable>(_ type: E.Type) -> Schema where E.RawValue == String {
        .choice(E.allCases.map(\.rawValue))
    }

    /// Whether `value` has the JSON type this schema expects (used by `either`).
    func acceptsType(of value: JSONValue) -> Bool {
        switch (self, value) {
        case (.bool, .bool), (.string, .string), (.choice, .string), (.device, .string), (.runName, .string): return true
        case (.integer, .integer), (.integer, .unsignedInteger), (.integer, .double): return true
        case (.number, .integer), (.number, .unsignedInteger), (.number, .double): return true
        case (.array, .array): return true
        case (.object, .object), (.variants, .object), (.tagged, .object): return true
        case (.nullable(let s), _): return value == .null || s.acceptsType(of: value)
        case (.either(let list), _): return list.contains { $0.acceptsType(of: value) }
        case (.deferred(let make), _): return make().acceptsType(of: value)
        default: return false
        }
    }

    var expectation: String {
        switch self {
        case .bool: return "true or false"
        case .integer(let r): return r.min == nil && r.max == nil ? "an integer" : "an integer \(r.text)"
        case .number(let r): return r.min == nil && r.max == nil ? "a number" : "a number \(r.text)"
        case .string, .device: return "a string"
        case .runName: return "a name (letters, digits, '-', '_', '.'; no '/')"
        case .choice(let list): return "one of \(list.joined(separator: ", "))"
        case .array: return "an array"
        case .object, .variants, .tagged: return "an object"
        case .nullable(let s): return "\(s.expectation) or null"
        case .either(let list): return list.map(\.expectation).joined(separator: " or ")
        case .deferred(let make): return make().expectation
        }
    }
}

/// Walks JSON against a `Schema`; returns the tree with integral numbers normalised to integers.
struct ConfigValidator {
    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    static func check(_ value: JSONValue, _ schema: Schema, at path: String) throws -> JSONValue {
        func invalid(_ message: String) -> ConfigError { .invalidValue(file: "", path: path, message: message) }
        func typeError() -> ConfigError {
            invalid("expected \(schema.expectation), got \(value.typeDescription) (\(value.serialized().prefix(40)))")
        }
        switch schema {
        case .bool:
            guard case .bool = value else { throw typeError() }
            return value
        case .integer(let range):
            guard let i = value.intValue else { throw typeError() }
            guard range.contains(Double(i)) else { throw invalid("must be \(range.text), got \(i)") }
            return .integer(Int64(i))
        case .number(let range):
            guard let d = value.doubleValue else { throw typeError() }
            guard range.contains(d) else { throw invalid("must be \(range.text), got \(value.serialized())") }
            return value
        case .string:
            guard case .string = value else { throw typeError() }
            return value
        case .choice(let allowed):
            guard case .string(let s) = value else { throw typeError() }
            guard allowed.contains(s) else {
                let hint = nearest(s, in: allowed).map { " (did you mean \($0)?)" } ?? ""
                throw invalid("unknown value \"\(s)\"\(hint); allowed: \(allowed.joined(separator: ", "))")
            }
            return value
        case .device:
            guard case .string(let s) = value else { throw typeError() }
            do { _ = try DeviceSpec(parsing: s) } catch { throw invalid("\(error)") }
            return value
        case .runName:
            guard case .string(let s) = value else { throw typeError() }
            if let problem = RunName.problem(s) { throw invalid(problem) }
            return value
        case .array(let element, let minCount):
            guard case .array(let items) = value else { throw typeError() }
            guard items.count >= minCount else { throw invalid("needs at least \(minCount) entr\(minCount == 1 ? "y" : "ies")") }
            var out: [JSONValue] = [], problems: [ConfigError] = []
            for (i, item) in items.enumerated() {
                do { out.append(try check(item, element, at: "\(path)[\(i)]")) } catch let e as ConfigError { problems += e.problems }
            }
            if let error = ConfigError.combining(problems) { throw error }
            return .array(out)
        case .object(let keys, let required):
            guard case .object(let members) = value else { throw typeError() }
            return .object(try checkMembers(members, keys: keys, required: required, at: path, context: nil))
        case .variants(let key, let defaultCase, let common, let cases):
            guard case .object(let members) = value else { throw typeError() }
            let names = cases.keys.filter { !$0.isEmpty }.sorted()
            let selected: String
            if let v = members[key] {
                _ = try check(v, .choice(names), at: join(path, key))
                selected = v.stringValue ?? ""
            } else if let d = defaultCase {
                selected = d
            } else {
                throw ConfigError.invalidValue(file: "", path: join(path, key), message: "missing; set it to one of \(names.joined(separator: ", "))")
            }
            var keys = common.merging(cases[selected] ?? [:]) { a, _ in a }
            keys[key] = .choice(names)
            let context = (key: key, value: selected, cases: cases)
            return .object(try checkMembers(members, keys: keys, required: [], at: path, context: context))
        case .tagged(let kinds):
            guard case .object(let members) = value, members.count == 1, let (name, argument) = members.first else {
                throw invalid("expected an object with exactly one key naming the kind, e.g. {\"\(kinds.keys.sorted().first ?? "kind")\": {...}}; kinds: \(kinds.keys.sorted().joined(separator: ", "))")
            }
            guard let sub = kinds[name] else {
                throw ConfigError.unknownKey(file: "", path: join(path, name), suggestion: nearest(name, in: Array(kinds.keys)), allowed: kinds.keys.sorted())
            }
            return .object([name: try check(argument, sub, at: join(path, name))])
        case .nullable(let sub):
            return value == .null ? .null : try check(value, sub, at: path)
        case .either(let list):
            guard let match = list.first(where: { $0.acceptsType(of: value) }) else { throw typeError() }
            return try check(value, match, at: path)
        case .deferred(let make):
            return try check(value, make(), at: path)
        }
    }

    private static func checkMembers(
        _ members: [String: JSONValue], keys: [String: Schema], required: Set<String>, at path: String,
        context: (key: String, value: String, cases: [String: [String: Schema]])?
    ) throws -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        var problems: [ConfigError] = []
        for name in members.keys.sorted() {
            do { out[name] = try checkMember(name, members[name]!, keys: keys, at: path, context: context) } catch let e as ConfigError {
                problems += e.problems
            }
        }
        for name in required.sorted() where members[name] == nil {
            problems.append(.invalidValue(file: "", path: join(path, name), message: "missing (required)"))
        }
        if let error = ConfigError.combining(problems) { throw error }
        return out
    }

    private static func checkMember(_ name: String, _ value: JSONValue, keys: [String: Schema], at path: String,
                                    context: (key: String, value: String, cases: [String: [String: Schema]])?) throws -> JSONValue {
        let memberPath = join(path, name)
        guard let sub = keys[name] else {
            // A key that belongs to another variant gets a specific message.
            if let c = context, let owners = Optional(c.cases.filter { $0.value[name] != nil }.keys.sorted()), !owners.isEmpty {
                let which = c.value.isEmpty ? "without \(c.key)" : "when \(c.key) is \"\(c.value)\""
                throw ConfigError.invalidValue(
                    file: "", path: memberPath,
                    message: "not an option \(which) (it applies to \(owners.map { $0.isEmpty ? "configs without \(c.key)" : $0 }.joined(separator: ", "))); allowed here: \(keys.keys.sorted().joined(separator: ", "))")
            }
            throw ConfigError.unknownKey(file: "", path: memberPath, suggestion: nearest(name, in: Array(keys.keys)), allowed: keys.keys.sorted())
        }
        return try check(value, sub, at: memberPath)
    }
}
