import Foundation
import NTrainCore

/// Reads and fully validates `.mge` checkpoints (docs/mge-format.md). Every length and offset is
/// checked with overflow-safe arithmetic before use, so any input, however damaged or hostile,
/// yields either a checkpoint or a `CheckpointError`, never a crash.
public enum CheckpointReader {
    /// Reads the checkpoint at `url`.
    public static func read(contentsOf url: URL) throws -> Checkpoint {
        try read(try load(url), file: url.path)
    }

    /// Validates the checkpoint at `url` and returns its header (for `ntrain inspect`).
    public static func info(contentsOf url: URL) throws -> CheckpointInfo {
        try info(try load(url), file: url.path)
    }

    /// Decodes a checkpoint file image. `file` names the source in errors.
    public static func read(_ data: Data, file: String = "<memory>") throws -> Checkpoint {
        let header = try info(data, file: file)
        var tensors: [(name: String, tensor: Tensor)] = []
        tensors.reserveCapacity(header.entries.count)
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            for entry in header.entries {
                let tensor = Tensor(uninitialized: Shape(entry.shape), dtype: entry.dtype)
                if entry.length > 0, let base = raw.baseAddress {
                    // Bounds were checked in `info`: dataStart + offset + length <= count - 4.
                    tensor.storage.bytes.copyMemory(from: base + header.dataStart + entry.offset, byteCount: entry.length)
                }
                tensors.append((entry.name, tensor))
            }
        }
        return Checkpoint(tensors: tensors, metadata: header.metadata)
    }

    /// Validates a checkpoint file image and returns its header without copying tensors.
    public static func info(_ data: Data, file: String = "<memory>") throws -> CheckpointInfo {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            try validate(raw, file: file)
        }
    }

    private static func load(_ url: URL) throws -> Data {
        do {
            return try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            let reason = FileManager.default.fileExists(atPath: url.path) ? "\(error.localizedDescription)" : "no such file"
            throw CheckpointError.io(file: url.path, operation: "read checkpoint", reason: reason)
        }
    }

    // MARK: Validation

    private static func validate(_ bytes: UnsafeRawBufferPointer, file: String) throws -> CheckpointInfo {
        let size = bytes.count
        guard size > 0 else { throw CheckpointError.malformed(file: file, offset: 0, problem: "the file is empty (0 bytes)") }
        if let kind = foreignKind(bytes) { throw CheckpointError.foreignFormat(file: file, kind: kind) }
        let magic = CheckpointFormat.magic
        let prefixMatches = (0..<min(size, magic.count)).allSatisfy { bytes[$0] == magic[$0] }
        guard prefixMatches else { throw CheckpointError.notACheckpoint(file: file) }
        let minimum = CheckpointFormat.prefixLength + 4
        guard size >= minimum else {
            throw CheckpointError.malformed(file: file, offset: size, problem: "file ends after \(size) bytes, expected at least \(minimum) (truncated)")
        }
        let version = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard version == CheckpointFormat.version else {
            throw CheckpointError.malformed(
                file: file, offset: 8,
                problem: "format version \(version), expected \(CheckpointFormat.version) (written by a newer ntrain? upgrade ntrain)")
        }
        let flags = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        guard flags == CheckpointFormat.flags else {
            throw CheckpointError.malformed(file: file, offset: 12, problem: "flags 0x\(String(flags, radix: 16)), expected 0")
        }
        let rawHeaderLength = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        guard rawHeaderLength <= UInt64(CheckpointFormat.maxHeaderLength) else {
            throw CheckpointError.malformed(
                file: file, offset: 16, problem: "header length \(rawHeaderLength) is over the 16 MiB limit (\(CheckpointFormat.maxHeaderLength))")
        }
        let headerLength = Int(rawHeaderLength)
        let headerEnd = CheckpointFormat.prefixLength + headerLength  // no overflow: both small
        let dataStart = CheckpointFormat.aligned(headerEnd)!
        let dataEnd = size - 4
        guard dataStart <= dataEnd else {
            throw CheckpointError.malformed(
                file: file, offset: size,
                problem: "header of \(headerLength) bytes needs the file to be at least \(dataStart + 4) bytes, it is \(size) (truncated)")
        }
        let storedCRC = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: dataEnd, as: UInt32.self))
        let actualCRC = CheckpointFormat.crc32(bytes.baseAddress, count: dataEnd)
        guard storedCRC == actualCRC else {
            throw CheckpointError.checksumMismatch(file: file, what: "the whole file (last 4 bytes)", expected: storedCRC, actual: actualCRC)
        }
        for k in headerEnd..<dataStart where bytes[k] != 0 {
            throw CheckpointError.malformed(file: file, offset: k, problem: "non-zero byte in the padding after the header")
        }

        let json: JSONValue
        do {
            json = try JSONParser.parse(Data(bytes: bytes.baseAddress! + CheckpointFormat.prefixLength, count: headerLength))
        } catch let e as JSONParseError {
            throw CheckpointError.malformed(
                file: file, offset: CheckpointFormat.prefixLength + e.offset, problem: "invalid JSON header: \(e.message)")
        }
        guard case .object(let top) = json else {
            throw CheckpointError.malformed(file: file, offset: CheckpointFormat.prefixLength, problem: "the JSON header is \(json.typeDescription), expected an object")
        }
        for key in top.keys where key != "tensors" && key != "metadata" {
            throw CheckpointError.malformed(file: file, offset: CheckpointFormat.prefixLength, problem: "unknown header key \"\(key)\", expected only \"tensors\" and \"metadata\"")
        }
        guard case .object(let tensorTable)? = top["tensors"] else {
            throw CheckpointError.malformed(file: file, offset: CheckpointFormat.prefixLength, problem: "header \"tensors\" is missing or not an object")
        }
        guard case .object(let metadata)? = top["metadata"] else {
            throw CheckpointError.malformed(file: file, offset: CheckpointFormat.prefixLength, problem: "header \"metadata\" is missing or not an object")
        }

        let dataLength = dataEnd - dataStart
        var entries: [CheckpointEntry] = []
        entries.reserveCapacity(tensorTable.count)
        for (name, value) in tensorTable {
            entries.append(try entry(name: name, value: value, dataLength: dataLength, file: file))
        }
        entries.sort { ($0.offset, $0.length, $0.name) < ($1.offset, $1.length, $1.name) }
        var previous: CheckpointEntry?
        for e in entries where e.length > 0 {
            if let p = previous, e.offset < p.offset + p.length {
                throw CheckpointError.badTensor(
                    file: file, tensor: e.name,
                    problem: "its bytes [\(e.offset), \(e.offset + e.length)) overlap tensor \"\(p.name)\" at [\(p.offset), \(p.offset + p.length))")
            }
            previous = e
        }
        for e in entries {
            let crc = CheckpointFormat.crc32(bytes.baseAddress.map { $0 + dataStart + e.offset }, count: e.length)
            guard crc == e.crc32 else {
                throw CheckpointError.checksumMismatch(file: file, what: "tensor \"\(e.name)\" at byte \(dataStart + e.offset)", expected: e.crc32, actual: crc)
            }
        }
        return CheckpointInfo(
            version: version, fileSize: size, headerLength: headerLength, dataStart: dataStart,
            entries: entries, metadata: metadata, fileCRC: storedCRC)
    }

    /// Checks one header entry: known dtype, sane shape, length = elements × dtype size, an
    /// aligned range inside the data region.
    private static func entry(name: String, value: JSONValue, dataLength: Int, file: String) throws -> CheckpointEntry {
        func bad(_ problem: String) -> CheckpointError { .badTensor(file: file, tensor: name, problem: problem) }
        guard !name.isEmpty else { throw bad("empty tensor name") }
        guard case .object(let fields) = value else { throw bad("header entry is \(value.typeDescription), expected an object") }
        let known: Set<String> = ["dtype", "shape", "offset", "length", "crc32"]
        for key in fields.keys where !known.contains(key) {
            throw bad("unknown field \"\(key)\", expected dtype, shape, offset, length, crc32")
        }
        guard case .string(let dtypeName)? = fields["dtype"] else { throw bad("\"dtype\" is missing or not a string") }
        guard let dtype = DType(shortName: dtypeName) else {
            throw bad("unknown dtype \"\(dtypeName)\", expected one of \(DType.allCases.map(\.shortName).joined(separator: ", "))")
        }
        guard case .array(let dimValues)? = fields["shape"] else { throw bad("\"shape\" is missing or not an array") }
        guard dimValues.count <= CheckpointFormat.maxRank else { throw bad("rank \(dimValues.count) is over the limit of \(CheckpointFormat.maxRank)") }
        var shape: [Int] = []
        // Product of max(dim, 1) bounds every partial product and stride, so none can overflow later.
        var bound = 1
        var elements = 1
        for d in dimValues {
            guard case .integer(let v) = d, v >= 0, let dim = Int(exactly: v) else {
                throw bad("shape \(JSONValue.array(dimValues).serialized()) has an entry that is not a non-negative integer")
            }
            let (b, o) = bound.multipliedReportingOverflow(by: max(dim, 1))
            guard !o else { throw bad("shape \(JSONValue.array(dimValues).serialized()) is too large") }
            bound = b
            elements = dim == 0 ? 0 : elements &* dim  // ≤ bound, no overflow
            shape.append(dim)
        }
        let (expectedLength, o1) = bound.multipliedReportingOverflow(by: dtype.byteSize)
        guard !o1 else { throw bad("shape \(shape) is too large") }
        let length = try field("length", fields, bad)
        let needed = elements == 0 ? 0 : expectedLength
        guard length == needed else {
            throw bad("length is \(length) bytes but shape \(shape) of \(dtypeName) needs \(needed)")
        }
        let offset = try field("offset", fields, bad)
        guard offset % CheckpointFormat.alignment == 0 else { throw bad("offset \(offset) is not a multiple of \(CheckpointFormat.alignment)") }
        let (end, o2) = offset.addingReportingOverflow(length)
        guard !o2, end <= dataLength else {
            throw bad("bytes [\(offset), \(offset) + \(length)) run past the end of the data region (\(dataLength) bytes)")
        }
        let crcValue = try field("crc32", fields, bad)
        guard let crc = UInt32(exactly: crcValue) else { throw bad("crc32 \(crcValue) is not a 32-bit value") }
        return CheckpointEntry(name: name, dtype: dtype, shape: shape, offset: offset, length: length, crc32: crc)
    }

    private static func field(_ key: String, _ fields: [String: JSONValue], _ bad: (String) -> CheckpointError) throws -> Int {
        guard case .integer(let v)? = fields[key], v >= 0, let i = Int(exactly: v) else {
            throw bad("\"\(key)\" is missing or not a non-negative integer")
        }
        return i
    }

    /// Names a file format that is not ours but commonly mistaken for it.
    static func foreignKind(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard bytes.count >= 1 else { return nil }
        if bytes[0] == 0x80 {
            let proto = bytes.count >= 2 ? " (protocol \(bytes[1]))" : ""
            return "a Python pickle\(proto), as written by MegEngine's mge.save or torch.save"
        }
        if bytes.count >= 4 {
            let head = String(decoding: bytes[0..<4], as: UTF8.self)
            if head == "MGBS" || head == "MGBC" {
                return "a MegEngine graph dump (\(head), from trace.dump or megbrain)"
            }
            // Local file header, empty archive (end of central directory only), spanned archive.
            if bytes[0] == 0x50, bytes[1] == 0x4B, [(0x03, 0x04), (0x05, 0x06), (0x07, 0x08)].contains(where: { bytes[2] == $0.0 && bytes[3] == $0.1 }) {
                return bytes[2] == 0x05 ? "an empty zip archive (the container of PyTorch's torch.save format, with nothing in it)"
                    : "a zip archive (PyTorch's torch.save format)"
            }
        }
        if isOldPickle(bytes) {
            return "a Python pickle (protocol 0 or 1, the old text-based pickle of Python 2), as written by torch.save or pickle.dump"
        }
        return nil
    }

    /// Pickle protocols 0 and 1 have no header: they open with MARK + DICT/LIST/TUPLE (`(dp0`),
    /// EMPTY_DICT/EMPTY_LIST + BINPUT or MARK (`}q\0`, `](`), MARK + anything up to a final STOP
    /// (`(I1\n…t.`), or GLOBAL `cmodule\nname\n`.
    static func isOldPickle(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= 2 else { return false }
        let (b0, b1) = (bytes[0], bytes[1])
        if b0 == UInt8(ascii: "("), "dlt".utf8.contains(b1) || bytes.last == UInt8(ascii: ".") { return true }
        if "}]".utf8.contains(b0), "q(r".utf8.contains(b1) { return true }
        if b0 == UInt8(ascii: "c") {
            let head = bytes.prefix(64)
            guard let newline = head.firstIndex(of: UInt8(ascii: "\n")), newline > 1 else { return false }
            return head[1..<newline].allSatisfy { $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || (0x30...0x39).contains($0)
                || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
        }
        return false
    }
}
