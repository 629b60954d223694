import Foundation

/// Writes TensorBoard scalar summaries: `events.out.tfevents.*` files of TFRecords (length, masked
/// CRC32C, an `Event` protobuf, masked CRC32C). The few protobuf fields needed are encoded here
/// rather than pulling in a protobuf runtime.
public final class TensorBoardWriter {
    public let url: URL
    private let handle: FileHandle

    /// Creates `events.out.tfevents.<time>.<host>` in `directory` and writes the file-version record.
    public init(directory: URL, now: Date = Date()) throws {
        let host = ProcessInfo.processInfo.hostName.isEmpty ? "localhost" : ProcessInfo.processInfo.hostName
        url = directory.appendingPathComponent("events.out.tfevents.\(Int(now.timeIntervalSince1970)).\(host)")
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
        handle = try FileHandle(forWritingTo: url)
        var event = Protobuf()
        event.double(field: 1, now.timeIntervalSince1970)
        event.bytes(field: 3, Array("brain.Event:2".utf8))
        try write(record: event.bytes)
    }

    deinit { try? handle.close() }

    /// Appends one scalar (`tag` such as "train/loss") at `step`.
    public func add(scalar value: Float, tag: String, step: Int, wallTime: Date = Date()) throws {
        var v = Protobuf()
        v.bytes(field: 1, Array(tag.utf8))
        v.float(field: 2, value)
        var summary = Protobuf()
        summary.bytes(field: 1, v.bytes)
        var event = Protobuf()
        event.double(field: 1, wallTime.timeIntervalSince1970)
        event.varint(field: 2, UInt64(bitPattern: Int64(step)))
        event.bytes(field: 5, summary.bytes)
        try write(record: event.bytes)
    }

    public func flush() throws { try handle.synchronize() }

    private func write(record data: [UInt8]) throws {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 16)
        let length = withUnsafeBytes(of: UInt64(data.count).littleEndian, Array.init)
        out += length
        out += withUnsafeBytes(of: CRC32C.masked(length).littleEndian, Array.init)
        out += data
        out += withUnsafeBytes(of: CRC32C.masked(data).littleEndian, Array.init)
        try handle.write(contentsOf: out)
    }
}

/// Minimal protobuf wire-format encoder (varint, 64-bit, 32-bit and length-delimited fields).
struct Protobuf {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func varint(field: Int, _ v: UInt64) { varint(UInt64(field << 3)); varint(v) }
    mutating func double(field: Int, _ v: Double) {
        varint(UInt64(field << 3 | 1))
        bytes += withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init)
    }
    mutating func float(field: Int, _ v: Float) {
        varint(UInt64(field << 3 | 5))
        bytes += withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init)
    }
    mutating func bytes(field: Int, _ v: [UInt8]) {
        varint(UInt64(field << 3 | 2))
        varint(UInt64(v.count))
        bytes += v
    }
}

/// CRC-32C (Castagnoli), as TFRecord framing requires; zlib only offers CRC-32.
enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    static func checksum(_ data: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in data { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    /// TFRecord's masked form: rotate right by 15 and add a constant.
    static func masked(_ data: [UInt8]) -> UInt32 {
        let c = checksum(data)
        return ((c >> 15) | (c << 17)) &+ 0xA282_EAD8
    }
}
