/// Run names become a folder under `runs/`, so they must be one path component that every file
/// system accepts: no `/`, not `.` or `..`, no control characters, at most 100 bytes of UTF-8.
enum RunName {
    static let maxBytes = 100

    /// Nil when `name` is usable, else why not and what to do.
    static func problem(_ name: String) -> String? {
        let fix = "use a short name such as \"lenet-try2\" (letters, digits, '-', '_', '.')"
        if name.isEmpty { return "is empty; \(fix)" }
        if name == "." || name == ".." { return "\"\(name)\" is not a folder name; \(fix)" }
        if name.contains("/") || name.contains("\\") { return "\"\(name)\" contains a path separator, so the run would be written outside runs/; \(fix)" }
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) { return "contains control characters; \(fix)" }
        if name.utf8.count > maxBytes { return "is \(name.utf8.count) bytes long, over the \(maxBytes)-byte limit for a folder name; \(fix)" }
        return nil
    }
}
