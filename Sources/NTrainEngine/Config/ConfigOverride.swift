/// A `--set path=value` override, applied to the JSON tree before validation, so overridden
/// values are checked exactly like values from the file.
///
/// The path is dotted keys; array elements are addressed as `milestones[1]` or `milestones.1`
/// (an index equal to the array's length appends). The value is parsed as JSON when it parses
/// (`0.01`, `true`, `[10, 20]`, `{"max_norm": 1}`, `null`), otherwise taken as a string (`adam`).
public struct ConfigOverride: Equatable, Sendable {
    public enum Component: Equatable, Sendable {
        case key(String)
        case index(Int)
    }

    public var argument: String
    public var path: [Component]
    public var value: JSONValue

    public init(parsing argument: String) throws {
        self.argument = argument
        guard let eq = argument.firstIndex(of: "=") else {
            throw ConfigError.invalidOverride(argument: argument, message: "expected path=value")
        }
        let pathText = String(argument[..<eq])
        let valueText = String(argument[argument.index(after: eq)...])
        var components: [Component] = []
        for part in pathText.split(separator: ".", omittingEmptySubsequences: false) {
            var rest = Substring(part)
            // `name[1][2]`: a key followed by bracketed indices.
            let keyEnd = rest.firstIndex(of: "[") ?? rest.endIndex
            let key = rest[..<keyEnd]
            rest = rest[keyEnd...]
            if let i = Int(key), i >= 0, rest.isEmpty {
                components.append(.index(i))
            } else if !key.isEmpty {
                components.append(.key(String(key)))
            } else if rest.isEmpty || components.isEmpty {
                throw ConfigError.invalidOverride(argument: argument, message: "empty key in path \"\(pathText)\"")
            }
            while !rest.isEmpty {
                guard rest.first == "[", let close = rest.firstIndex(of: "]"),
                    let i = Int(rest[rest.index(after: rest.startIndex)..<close]), i >= 0
                else {
                    throw ConfigError.invalidOverride(argument: argument, message: "bad index in \"\(part)\"; write name[0]")
                }
                components.append(.index(i))
                rest = rest[rest.index(after: close)...]
            }
        }
        guard case .key? = components.first else {
            throw ConfigError.invalidOverride(argument: argument, message: "the path must start with a key")
        }
        self.path = components
        self.value = (try? JSONValue(parsing: valueText)) ?? .string(valueText)
    }

    /// The path as validation errors write it: `scheduler.milestones[1]`.
    public var pathText: String {
        path.reduce(into: "") { text, component in
            switch component {
            case .key(let k): text += text.isEmpty ? k : "." + k
            case .index(let i): text += "[\(i)]"
            }
        }
    }

    /// Sets the value in `tree`, creating missing objects (and arrays, for an index) along the way.
    public func apply(to tree: inout JSONValue) throws {
        try set(&tree, at: path[...], walked: "")
    }

    private func set(_ node: inout JSONValue, at rest: ArraySlice<Component>, walked: String) throws {
        guard let head = rest.first else {
            node = value
            return
        }
        let tail = rest.dropFirst()
        switch head {
        case .key(let key):
            if node == .null { node = .object([:]) }
            guard case .object(var members) = node else {
                throw ConfigError.invalidOverride(argument: argument, message: "\(walked.isEmpty ? "the config" : walked) is \(node.typeDescription), not an object, so it has no key \"\(key)\"")
            }
            var child = members[key] ?? .null
            try set(&child, at: tail, walked: ConfigValidator.join(walked, key))
            members[key] = child
            node = .object(members)
        case .index(let i):
            if node == .null { node = .array([]) }
            guard case .array(var items) = node else {
                throw ConfigError.invalidOverride(argument: argument, message: "\(walked) is \(node.typeDescription), not an array, so it has no element [\(i)]")
            }
            guard i <= items.count else {
                throw ConfigError.invalidOverride(argument: argument, message: "\(walked) has \(items.count) elements; index \(i) is out of range (use \(items.count) to append)")
            }
            var child = i < items.count ? items[i] : .null
            try set(&child, at: tail, walked: "\(walked)[\(i)]")
            if i < items.count { items[i] = child } else { items.append(child) }
            node = .array(items)
        }
    }
}
