import Foundation
import NTrainCore

/// A safetensors file (https://github.com/huggingface/safetensors): an 8-byte little-endian header
/// length, a JSON header mapping each tensor name to `{dtype, shape, data_offsets}` plus an optional
/// `__metadata__` object of strings, then the tensors' bytes back to back (row-major, little-endian).
public struct SafetensorsFile {
    /// One tensor as stored: its dtype name (`F32`, `I64`, ...), shape and raw bytes.
    public struct Entry: Equatable {
        public var name: String
        public var dtype: String
        public var shape: [Int]
        public var bytes: Data
    }

    /// Tensors in file order (by data offset).
    public var entries: [Entry]
    /// `__metadata__`: free-form string pairs.
    public var metadata: [String: String]

    public init(entries: [Entry] = [], metadata: [String: String] = [:]) {
        self.entries = entries
        self.metadata = metadata
    }

    /// Bytes per element of the dtypes safetensors defines (BOOL through F64).
    static let elementSizes: [String: Int] = [
        "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
        "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8,
    ]
    /// Largest header accepted (the reference implementation's limit is 100 MB).
    static let maxHeaderLength = 100_000_000

    /// Adds a CPU tensor under `name` (F32, I64, I32 or U8 as stored).
    public mutating func append(_ name: String, _ tensor: Tensor) {
        let host = tensor.to(.cpu)
        let bytes = Data(bytes: host.storage.bytes, count: host.byteCount)
        entries.append(Entry(name: name, dtype: host.dtype.shortName, shape: host.shape.dims, bytes: bytes))
    }

    /// The file image. The header is padded with spaces to a multiple of 8 bytes, as the reference
    /// writer does, so the data that follows is aligned.
    public func serialized() throws -> Data {
        var header: [String: JSONValue] = [:]
        var offset = 0
        for entry in entries {
            guard header[entry.name] == nil, entry.name != "__metadata__" else {
                throw InteropError.invalidFile(path: "<export>", format: "safetensors", problem: "tensor name \(entry.name) appears twice")
            }
            header[entry.name] = .object([
                "dtype": .string(entry.dtype),
                "shape": .array(entry.shape.map { .integer(Int64($0)) }),
                "data_offsets": .array([.integer(Int64(offset)), .integer(Int64(offset + entry.bytes.count))]),
            ])
            offset += entry.bytes.count
        }
        if !metadata.isEmpty { header["__metadata__"] = .object(metadata.mapValues { .string($0) }) }
        var json = Array(JSONValue.object(header).serialized().utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: json)
        for entry in entries { out.append(entry.bytes) }
        return out
    }

    /// Reads and validates a file: every tensor's byte range must lie in the data region, match its
    /// dtype and shape, and the ranges must cover the region without gaps or overlaps (the
    /// reference reader's rules), so a truncated or hand-edited file is refused, not half-read.
    public static func read(contentsOf url: URL) throws -> SafetensorsFile {
        let path = url.path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InteropError.invalidFile(path: path, format: "safetensors", problem: "cannot read the file (missing or not readable)")
        }
        return try parse(data, path: path)
    }

    public static func parse(_ data: Data, path: String) throws -> SafetensorsFile {
        func bad(_ problem: String) -> InteropError { .invalidFile(path: path, format: "safetensors", problem: problem) }
        // Offsets below are from the file's first byte (a Data slice may not start at index 0).
        let start = data.startIndex, size = data.count
        func slice(_ range: Range<Int>) -> Data { data.subdata(in: (start + range.lowerBound)..<(start + range.upperBound)) }
        guard size >= 8 else { throw bad("\(size) bytes, shorter than the 8-byte header length") }
        let length = (0..<8).reduce(UInt64(0)) { $0 | UInt64(data[start + $1]) << (8 * UInt64($1)) }
        guard length <= UInt64(maxHeaderLength), Int(length) <= size - 8 else {
            throw bad("the header length \(length) does not fit the file's \(size) bytes (truncated, or not a safetensors file)")
        }
        let headerEnd = 8 + Int(length)
        guard length >= 2, data[start + 8] == UInt8(ascii: "{") else { throw bad("the header does not start with a JSON object") }
        let tree: JSONValue
        do { tree = try JSONValue(parsing: slice(8..<headerEnd)) } catch { throw bad("the JSON header is malformed: \(error)") }
        guard let header = tree.objectValue else { throw bad("the JSON header is not an object") }
        var metadata: [String: String] = [:]
        if let meta = header["__metadata__"] {
            guard let object = meta.objectValue else { throw bad("__metadata__ is not an object") }
            for (key, value) in object {
                guard let text = value.stringValue else { throw bad("__metadata__.\(key) is not a string") }
                metadata[key] = text
            }
        }
        let dataLength = size - headerEnd
        var ranges: [(begin: Int, end: Int, entry: Entry)] = []
        for (name, value) in header where name != "__metadata__" {
            guard let dtype = value["dtype"]?.stringValue, let size = elementSizes[dtype] else {
                throw bad("\(name): dtype \(value["dtype"]?.serialized() ?? "missing") is not a safetensors dtype")
            }
            guard let dims = value["shape"]?.arrayValue?.map({ $0.intValue }), dims.allSatisfy({ ($0 ?? -1) >= 0 }) else {
                throw bad("\(name): shape must be a list of non-negative integers")
            }
            let shape = dims.map { $0! }
            var count = 1
            for d in shape {
                let (p, o) = count.multipliedReportingOverflow(by: d)
                guard !o, p <= dataLength else { throw bad("\(name): shape \(shape) is larger than the file") }
                count = p
            }
            guard let offsets = value["data_offsets"]?.arrayValue?.compactMap({ $0.intValue }), offsets.count == 2,
                  offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataLength else {
                throw bad("\(name): data_offsets must be [begin, end] within the \(dataLength) data bytes")
            }
            guard offsets[1] - offsets[0] == count * size else {
                throw bad("\(name): \(dtype) \(shape) needs \(count * size) bytes, data_offsets give \(offsets[1] - offsets[0])")
            }
            ranges.append((offsets[0], offsets[1], Entry(name: name, dtype: dtype, shape: shape,
                                                        bytes: slice((headerEnd + offsets[0])..<(headerEnd + offsets[1])))))
        }
        ranges.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var cursor = 0
        for r in ranges {
            guard r.begin == cursor else {
                throw bad(r.begin < cursor ? "\(r.entry.name) overlaps the tensor before it" : "a gap of \(r.begin - cursor) bytes before \(r.entry.name)")
            }
            cursor = r.end
        }
        guard cursor == dataLength else { throw bad("\(dataLength - cursor) bytes after the last tensor belong to none") }
        return SafetensorsFile(entries: ranges.map(\.entry), metadata: metadata)
    }

    /// The entry's values as float32 (from F32, F64, F16 or BF16), or nil for another dtype.
    public static func floats(of entry: Entry) -> [Float]? {
        entry.bytes.withUnsafeBytes { raw -> [Float]? in
            switch entry.dtype {
            case "F32": return (0..<raw.count / 4).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self).littleEndian) }
            case "F64": return (0..<raw.count / 8).map { Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self).littleEndian)) }
            case "BF16": return (0..<raw.count / 2).map { Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self).littleEndian) << 16) }
            case "F16":
                #if arch(x86_64) || arch(arm64)
                return (0..<raw.count / 2).map { Float(Float16(bitPattern: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self).littleEndian)) }
                #else
                return nil
                #endif
            default: return nil
            }
        }
    }

    /// The entry's values as int64 (from I64, I32 or U8), or nil for another dtype.
    public static func integers(of entry: Entry) -> [Int64]? {
        entry.bytes.withUnsafeBytes { raw -> [Int64]? in
            switch entry.dtype {
            case "I64": return (0..<raw.count / 8).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
            case "I32": return (0..<raw.count / 4).map { Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
            case "U8": return raw.map { Int64($0) }
            default: return nil
            }
        }
    }
}
