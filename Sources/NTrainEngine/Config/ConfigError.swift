/// Why an experiment config was rejected. Messages name the file, the JSON path (`data.batch_size`,
/// `model.layers[2].conv2d.kernel`), what was expected, and a fix.
public enum ConfigError: Error, Equatable, CustomStringConvertible {
    case unreadable(file: String, reason: String)
    /// JSON syntax error at a 1-based line and column.
    case syntax(file: String, line: Int, column: Int, message: String)
    /// A key the schema does not know, with the nearest known key when one is close.
    case unknownKey(file: String, path: String, suggestion: String?, allowed: [String])
    /// Wrong type, out of range, unknown enum value, missing required key, inconsistent settings.
    case invalidValue(file: String, path: String, message: String)
    /// A `--set path=value` argument that cannot be applied.
    case invalidOverride(argument: String, message: String)
    /// Every problem the schema found, when there is more than one.
    indirect case several([ConfigError])

    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            return "\(file): cannot read config: \(reason)"
        case .syntax(let file, let line, let column, let message):
            return "\(file):\(line):\(column): invalid JSON: \(message)"
        case .unknownKey(let file, let path, let suggestion, let allowed):
            let hint = suggestion.map { "did you mean \($0)?" } ?? "allowed keys: \(allowed.joined(separator: ", "))"
            return "\(file): \(path): unknown key; \(hint)"
        case .invalidValue(let file, let path, let message):
            return "\(file): \(path.isEmpty ? "(top level)" : path): \(message)"
        case .invalidOverride(let argument, let message):
            return "--set \(argument): \(message) (use --set section.key=value, e.g. --set optimizer.lr=0.01)"
        case .several(let errors):
            return "the config has \(errors.count) problems:\n" + errors.map { "  " + $0.description }.joined(separator: "\n")
        }
    }

    /// The problems one by one (a `several` unpacked).
    var problems: [ConfigError] {
        if case .several(let errors) = self { return errors.flatMap(\.problems) }
        return [self]
    }

    /// One error for a list of problems: the problem itself when there is one.
    static func combining(_ problems: [ConfigError]) -> ConfigError? {
        problems.count <= 1 ? problems.first : .several(problems.flatMap(\.problems))
    }

    /// The path a problem is at (nil for problems of the whole file or an override).
    var path: String? {
        switch self {
        case .unknownKey(_, let p, _, _), .invalidValue(_, let p, _): return p
        default: return nil
        }
    }

    /// The error attributed to where its value came from: the `--set` argument that wrote the
    /// value at its path (or above it), else `file`.
    func attributed(file: String, overrides: [ConfigOverride]) -> ConfigError {
        if case .several(let errors) = self { return .several(errors.map { $0.attributed(file: file, overrides: overrides) }) }
        guard let path else { return inFile(file) }
        let source = overrides.last { o in
            let set = o.pathText
            return path == set || path.hasPrefix(set + ".") || path.hasPrefix(set + "[")
        }
        return inFile(source.map { "--set \($0.argument)" } ?? file)
    }

    /// The same error attributed to `file`.
    func inFile(_ file: String) -> ConfigError {
        switch self {
        case .unreadable(_, let r): return .unreadable(file: file, reason: r)
        case .syntax(_, let l, let c, let m): return .syntax(file: file, line: l, column: c, message: m)
        case .unknownKey(_, let p, let s, let a): return .unknownKey(file: file, path: p, suggestion: s, allowed: a)
        case .invalidValue(_, let p, let m): return .invalidValue(file: file, path: p, message: m)
        case .invalidOverride: return self
        case .several(let errors): return .several(errors.map { $0.inFile(file) })
        }
    }
}

/// Levenshtein distance, for "did you mean" suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a.lowercased()), y = Array(b.lowercased())
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var previous = Array(0...y.count)
    var current = [Int](repeating: 0, count: y.count + 1)
    for i in 1...x.count {
        current[0] = i
        for j in 1...y.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[y.count]
}

/// The candidate closest to `word` when it is close enough to be a plausible typo.
public func nearest(_ word: String, in candidates: [String]) -> String? {
    let scored = candidates.map { (candidate: $0, distance: editDistance(word, $0)) }
    guard let best = scored.min(by: { ($0.distance, $0.candidate) < ($1.distance, $1.candidate) }) else { return nil }
    let limit = max(1, min(3, word.count / 2))
    if best.distance <= limit { return best.candidate }
    // "lr_rate" → "lr": one name containing the other is also a likely mix-up.
    if word.count >= 3, let c = candidates.first(where: { $0.count >= 2 && (word.contains($0) || $0.contains(word)) }) { return c }
    return nil
}
