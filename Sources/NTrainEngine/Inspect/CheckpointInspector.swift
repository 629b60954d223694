import Foundation
import NTrainCore

/// What `ntrain inspect` shows about a checkpoint: the validated header, a summary of the
/// metadata and the tensor table. Building one fully validates the file (every CRC included).
public struct CheckpointInspection: Equatable, Sendable {
    /// The file as named by the user.
    public var file: String
    public var info: CheckpointInfo
    public var summary: CheckpointMetadataSummary

    public init(file: String, info: CheckpointInfo) {
        self.file = file
        self.info = info
        self.summary = CheckpointMetadataSummary(info.metadata)
    }

    /// Bytes of the data region (between the padded header and the trailing CRC).
    public var dataSize: Int { info.fileSize - info.dataStart - 4 }

    /// Total elements of the `model.*` tensors (parameters and buffers).
    public var modelElements: Int {
        info.entries.filter { $0.name.hasPrefix("model.") }.reduce(0) { $0 + elements(of: $1) }
    }

    private func elements(of entry: CheckpointEntry) -> Int {
        entry.length / entry.dtype.byteSize
    }

    // MARK: Text

    /// The human-readable report: header, metadata summary, tensor table.
    public func text() -> String {
        var lines: [String] = []
        lines.append("checkpoint  \(file)")
        lines.append("format      \(String(decoding: CheckpointFormat.magic, as: UTF8.self)) version \(info.version), flags 0x0")
        lines.append("file        \(info.fileSize) bytes, CRC32 \(Self.hex(info.fileCRC))")
        lines.append("header      \(info.headerLength) bytes (data starts at byte \(info.dataStart))")
        lines.append("data        \(dataSize) bytes in \(info.entries.count) tensor(s)")
        lines.append("")
        lines.append(contentsOf: summary.textLines())
        lines.append("")
        lines.append(contentsOf: tableLines())
        let modelCount = info.entries.filter { $0.name.hasPrefix("model.") }.count
        if modelCount > 0 {
            lines.append("")
            lines.append("model: \(modelCount) tensor(s), \(Self.grouped(modelElements)) elements")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func tableLines() -> [String] {
        let header = ["name", "dtype", "shape", "bytes", "crc32", "offset"]
        let rows = info.entries.map { e in
            [e.name, e.dtype.shortName, "[" + e.shape.map(String.init).joined(separator: ", ") + "]",
             String(e.length), Self.hex(e.crc32), String(e.offset)]
        }
        guard !rows.isEmpty else { return ["tensors     (none)"] }
        let numeric: Set<Int> = [3, 5]  // right-aligned columns
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func format(_ row: [String]) -> String {
            var cells: [String] = []
            for (i, cell) in row.enumerated() {
                let fill = String(repeating: " ", count: widths[i] - cell.count)
                cells.append(numeric.contains(i) ? fill + cell : cell + fill)
            }
            // Trailing spaces of the last column are noise.
            return cells.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        return [format(header)] + rows.map(format)
    }

    // MARK: JSON

    /// One machine-readable object with the same content as `text()`.
    public func json() -> JSONValue {
        let tensors: [JSONValue] = info.entries.map { e in
            .object([
                "name": .string(e.name), "dtype": .string(e.dtype.shortName),
                "shape": .array(e.shape.map { .integer(Int64($0)) }),
                "bytes": .integer(Int64(e.length)), "crc32": .integer(Int64(e.crc32)),
                "offset": .integer(Int64(e.offset)),
            ])
        }
        return .object([
            "file": .string(file),
            "header": .object([
                "magic": .string(String(decoding: CheckpointFormat.magic, as: UTF8.self)),
                "version": .integer(Int64(info.version)),
                "flags": .integer(Int64(CheckpointFormat.flags)),
                "header_length": .integer(Int64(info.headerLength)),
                "data_start": .integer(Int64(info.dataStart)),
                "data_size": .integer(Int64(dataSize)),
                "file_size": .integer(Int64(info.fileSize)),
                "file_crc32": .integer(Int64(info.fileCRC)),
            ]),
            "summary": summary.json(),
            "tensors": .array(tensors),
            "model_elements": .integer(Int64(modelElements)),
        ])
    }

    static func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - s.count)) + s
    }

    /// 61706 → "61,706".
    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n.magnitude))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out += "," }
            out.append(d)
        }
        return (n < 0 ? "-" : "") + out
    }
}

/// Reads checkpoints for `ntrain inspect`.
public enum CheckpointInspector {
    /// Validates the checkpoint at `path` (named as given in the report and in errors) and
    /// describes it. Throws `CheckpointError`: `.io` for a missing file, a folder or a read
    /// failure, the reader's errors for anything invalid.
    public static func inspect(path: String) throws -> CheckpointInspection {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw CheckpointError.io(file: path, operation: "read checkpoint", reason: "no such file")
        }
        if isFolder.boolValue {
            let hint = ["last.mge", "checkpoints/last.mge", "best.mge", "checkpoints/best.mge"]
                .map { (path as NSString).appendingPathComponent($0) }
                .first { FileManager.default.fileExists(atPath: $0) }
            throw CheckpointError.io(
                file: path, operation: "read checkpoint",
                reason: "it is a folder; pass a .mge file" + (hint.map { " such as \($0)" } ?? ""))
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            throw CheckpointError.io(file: path, operation: "read checkpoint", reason: error.localizedDescription)
        }
        return try inspect(data, file: path)
    }

    /// Describes an in-memory file image; `file` names it in the report and in errors.
    public static func inspect(_ data: Data, file: String) throws -> CheckpointInspection {
        CheckpointInspection(file: file, info: try CheckpointReader.info(data, file: file))
    }
}
