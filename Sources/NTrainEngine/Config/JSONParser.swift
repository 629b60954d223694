import Foundation

/// A JSON syntax error at a byte offset, with the 1-based line and column it falls on.
public struct JSONParseError: Error, Equatable, CustomStringConvertible {
    public var offset: Int
    public var line: Int
    public var column: Int
    public var message: String

    public var description: String { "line \(line), column \(column): \(message)" }
}

/// A strict RFC 8259 parser into `JSONValue`. Written by hand (rather than `JSONSerialization`)
/// for exact integers, duplicate-key detection, a nesting limit, and line/column positions; it
/// never traps on any input, which the checkpoint reader relies on.
enum JSONParser {
    /// Deeper nesting is refused (guards the recursion).
    static let maxDepth = 256

    static func parse(_ data: Data) throws -> JSONValue {
        let bytes = [UInt8](data)
        var p = State(bytes: bytes)
        // A UTF-8 byte order mark is tolerated, as editors on some systems write one.
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { p.i = 3 }
        p.skipWhitespace()
        let value = try p.parseValue(depth: 0)
        p.skipWhitespace()
        if p.i < bytes.count { throw p.error("unexpected text after the JSON value") }
        return value
    }

    struct State {
        let bytes: [UInt8]
        var i = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        var current: UInt8? { i < bytes.count ? bytes[i] : nil }

        func error(_ message: String, at offset: Int? = nil) -> JSONParseError {
            let end = min(offset ?? i, bytes.count)
            var line = 1
            var column = 1
            var k = 0
            while k < end {
                if bytes[k] == UInt8(ascii: "\n") { line += 1; column = 1 }
                // Count characters, not UTF-8 continuation bytes.
                else if bytes[k] & 0xC0 != 0x80 { column += 1 }
                k += 1
            }
            return JSONParseError(offset: end, line: line, column: column, message: message)
        }

        mutating func skipWhitespace() {
            while let c = current, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 }
        }

        func describeCurrent() -> String {
            guard let c = current else { return "end of input" }
            if c >= 0x21 && c < 0x7F { return "'\(Character(UnicodeScalar(c)))'" }
            return "byte 0x" + String(c, radix: 16)
        }

        mutating func parseValue(depth: Int) throws -> JSONValue {
            guard depth < JSONParser.maxDepth else { throw error("nesting deeper than \(JSONParser.maxDepth) levels") }
            guard let c = current else { throw error("expected a value, found end of input") }
            switch c {
            case UInt8(ascii: "{"): return try parseObject(depth: depth)
            case UInt8(ascii: "["): return try parseArray(depth: depth)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
            case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
            case UInt8(ascii: "n"): try expectLiteral("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
            default: throw error("expected a value, found \(describeCurrent())")
            }
        }

        mutating func expectLiteral(_ word: String) throws {
            let start = i
            for b in word.utf8 {
                guard current == b else { throw error("invalid literal (expected '\(word)')", at: start) }
                i += 1
            }
        }

        mutating func parseObject(depth: Int) throws -> JSONValue {
            i += 1
            var members: [String: JSONValue] = [:]
            skipWhitespace()
            if current == UInt8(ascii: "}") { i += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\"") else { throw error("expected a key in double quotes, found \(describeCurrent())") }
                let keyStart = i
                let key = try parseString()
                if members[key] != nil { throw error("duplicate key \"\(key)\"", at: keyStart) }
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { throw error("expected ':' after key \"\(key)\", found \(describeCurrent())") }
                i += 1
                skipWhitespace()
                members[key] = try parseValue(depth: depth + 1)
                skipWhitespace()
                if current == UInt8(ascii: ",") { i += 1; continue }
                if current == UInt8(ascii: "}") { i += 1; return .object(members) }
                throw error("expected ',' or '}' in object, found \(describeCurrent())")
            }
        }

        mutating func parseArray(depth: Int) throws -> JSONValue {
            i += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") { i += 1; return .array(items) }
            while true {
                skipWhitespace()
                items.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                if current == UInt8(ascii: ",") { i += 1; continue }
                if current == UInt8(ascii: "]") { i += 1; return .array(items) }
                throw error("expected ',' or ']' in array, found \(describeCurrent())")
            }
        }

        mutating func parseHex4() throws -> UInt32 {
            var v: UInt32 = 0
            for _ in 0..<4 {
                guard let c = current else { throw error("unterminated \\u escape") }
                let d: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
                default: throw error("invalid hex digit in \\u escape")
                }
                v = v << 4 | d
                i += 1
            }
            return v
        }

        mutating func parseString() throws -> String {
            let start = i
            i += 1
            var scalars = String.UnicodeScalarView()
            var runStart = i
            // Copies the run of plain bytes since `runStart`, validating it as UTF-8.
            func flush(_ s: inout State, to out: inout String.UnicodeScalarView) throws {
                if s.i > runStart {
                    guard let text = String(validating: s.bytes[runStart..<s.i], as: UTF8.self) else {
                        throw s.error("invalid UTF-8 in string", at: runStart)
                    }
                    out.append(contentsOf: text.unicodeScalars)
                }
            }
            while true {
                guard let c = current else { throw error("unterminated string", at: start) }
                if c == UInt8(ascii: "\"") {
                    try flush(&self, to: &scalars)
                    i += 1
                    return String(scalars)
                }
                if c < 0x20 { throw error("control character in string (escape it)") }
                if c != UInt8(ascii: "\\") { i += 1; continue }
                try flush(&self, to: &scalars)
                i += 1
                guard let e = current else { throw error("unterminated escape") }
                i += 1
                switch e {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    var code = try parseHex4()
                    if (0xD800..<0xDC00).contains(code) {
                        guard current == UInt8(ascii: "\\"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "u") else {
                            throw error("unpaired surrogate in \\u escape")
                        }
                        i += 2
                        let low = try parseHex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("invalid low surrogate in \\u escape") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(code) {
                        throw error("unpaired surrogate in \\u escape")
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
                    scalars.append(scalar)
                default:
                    throw error("invalid escape '\\\(Character(UnicodeScalar(e)))'", at: i - 2)
                }
                runStart = i
            }
        }

        mutating func digits() -> Int {
            let s = i
            while let c = current, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { i += 1 }
            return i - s
        }

        mutating func parseNumber() throws -> JSONValue {
            let start = i
            if current == UInt8(ascii: "-") { i += 1 }
            guard let first = current, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else {
                throw error("expected a digit after '-'")
            }
            if first == UInt8(ascii: "0") {
                i += 1
                if let c = current, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { throw error("leading zeros are not allowed in numbers", at: start) }
            } else {
                _ = digits()
            }
            var isInteger = true
            if current == UInt8(ascii: ".") {
                isInteger = false
                i += 1
                guard digits() > 0 else { throw error("expected a digit after '.'") }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                isInteger = false
                i += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { i += 1 }
                guard digits() > 0 else { throw error("expected a digit in the exponent") }
            }
            let text = String(decoding: bytes[start..<i], as: UTF8.self)
            if isInteger {
                if let v = Int64(text) { return .integer(v) }
                if let u = UInt64(text) { return .unsignedInteger(u) }
            }
            guard let d = Double(text), d.isFinite else { throw error("number \(text) is out of range", at: start) }
            return .double(d)
        }
    }
}
