/// A coding key built from any string, so config sections can decode keys by name.
struct ConfigKey: CodingKey, Hashable {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

typealias ConfigDecoding = KeyedDecodingContainer<ConfigKey>
typealias ConfigEncoding = KeyedEncodingContainer<ConfigKey>

extension KeyedDecodingContainer where K == ConfigKey {
    /// The value of `key`, or `fallback` when the key is absent or null.
    func value<T: Decodable>(_ key: String, default fallback: @autoclosure () -> T) throws -> T {
        try decodeIfPresent(T.self, forKey: ConfigKey(key)) ?? fallback()
    }

    /// The value of `key`, or nil when it is absent or null.
    func optional<T: Decodable>(_ key: String) throws -> T? {
        try decodeIfPresent(T.self, forKey: ConfigKey(key))
    }

    func has(_ key: String) -> Bool { contains(ConfigKey(key)) }

    /// A cross-field validation error at `key` below this container's path.
    func error(_ key: String?, _ message: String) -> ConfigError {
        var path = configPath(codingPath)
        if let key { path = ConfigValidator.join(path, key) }
        return .invalidValue(file: "", path: path, message: message)
    }
}

extension KeyedEncodingContainer where K == ConfigKey {
    mutating func put<T: Encodable>(_ key: String, _ value: T) throws { try encode(value, forKey: ConfigKey(key)) }
    /// Writes `value`, or an explicit null when it is nil (so resolved configs show every key).
    mutating func putOptional<T: Encodable>(_ key: String, _ value: T?) throws {
        if let value { try encode(value, forKey: ConfigKey(key)) } else { try encodeNil(forKey: ConfigKey(key)) }
    }
}

/// `data.transforms[0].pad` from a Codable coding path.
func configPath(_ codingPath: [CodingKey]) -> String {
    var out = ""
    for key in codingPath {
        if let i = key.intValue { out += "[\(i)]" } else { out = ConfigValidator.join(out, key.stringValue) }
    }
    return out
}

/// A pair of sizes such as a kernel or stride, written as one integer (both) or `[h, w]`.
public struct IntPair: Codable, Equatable, Sendable {
    public var first: Int
    public var second: Int

    public init(_ first: Int, _ second: Int) {
        self.first = first
        self.second = second
    }

    public init(_ both: Int) { self.init(both, both) }

    public var tuple: (Int, Int) { (first, second) }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(Int.self) {
            self.init(v)
        } else {
            let list = try c.decode([Int].self)
            guard list.count == 2 else {
                throw ConfigError.invalidValue(file: "", path: configPath(decoder.codingPath), message: "expected an integer or a pair [h, w], got \(list.count) values")
            }
            self.init(list[0], list[1])
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if first == second { try c.encode(first) } else { try c.encode([first, second]) }
    }
}

extension Schema {
    /// An integer or `[h, w]` pair, each in `range`.
    static func pair(_ range: NumberRange) -> Schema {
        .either([.integer(range), .array(.integer(range), minCount: 2)])
    }
}
