import CZlib
import Foundation
import NTrainCore

#if _endian(big)
#error("the .mge format is little-endian; big-endian hosts would need byte swapping")
#endif

/// The contents of a `.mge` checkpoint: named tensors in file order plus open JSON metadata
/// (config, epoch, step, optimizer/scheduler state, RNG state, metrics history, device, version).
/// See docs/mge-format.md.
public struct Checkpoint {
    /// Tensors in the order they are stored (names unique, e.g. `model.conv1.weight`).
    public var tensors: [(name: String, tensor: Tensor)]
    /// Free-form metadata; written with sorted keys.
    public var metadata: [String: JSONValue]

    public init(tensors: [(name: String, tensor: Tensor)] = [], metadata: [String: JSONValue] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Tensor names in file order.
    public var names: [String] { tensors.map(\.name) }

    /// The tensor called `name`, if present.
    public func tensor(named name: String) -> Tensor? {
        tensors.first(where: { $0.name == name })?.tensor
    }

    /// Tensors whose names start with `prefix`, with the prefix removed (e.g. `"model."` gives a
    /// module's state dict).
    public func tensors(withPrefix prefix: String) -> [(name: String, tensor: Tensor)] {
        tensors.compactMap { $0.name.hasPrefix(prefix) ? (String($0.name.dropFirst(prefix.count)), $0.tensor) : nil }
    }
}

/// One tensor's entry in a checkpoint header.
public struct CheckpointEntry: Equatable, Sendable {
    public var name: String
    public var dtype: DType
    public var shape: [Int]
    /// Offset from the start of the data region (a multiple of 64).
    public var offset: Int
    /// Bytes of data (element count × dtype size).
    public var length: Int
    /// CRC32 (zlib) of the tensor's bytes.
    public var crc32: UInt32
}

/// A validated checkpoint header, for `ntrain inspect`.
public struct CheckpointInfo: Equatable, Sendable {
    public var version: UInt32
    public var fileSize: Int
    public var headerLength: Int
    /// Absolute byte offset of the data region.
    public var dataStart: Int
    /// Entries sorted by offset (file order).
    public var entries: [CheckpointEntry]
    public var metadata: [String: JSONValue]
    /// The CRC32 stored in the last four bytes.
    public var fileCRC: UInt32
}

/// Constants of the `.mge` layout (DESIGN §6).
public enum CheckpointFormat {
    public static let magic: [UInt8] = Array("NTRNMGE1".utf8)
    public static let version: UInt32 = 1
    public static let flags: UInt32 = 0
    /// Bytes before the JSON header: magic, version, flags, header length.
    public static let prefixLength = 24
    /// Largest JSON header accepted (16 MiB).
    public static let maxHeaderLength = 16 << 20
    /// Alignment of the data region and of every tensor in it.
    public static let alignment = 64
    /// Largest rank accepted for a stored tensor.
    public static let maxRank = 32

    /// `n` rounded up to a multiple of `alignment`, or nil on overflow.
    static func aligned(_ n: Int) -> Int? {
        let (sum, overflow) = n.addingReportingOverflow(alignment - 1)
        return overflow ? nil : sum & ~(alignment - 1)
    }

    /// zlib CRC32 of raw bytes (in chunks, since zlib takes 32-bit lengths).
    static func crc32(_ base: UnsafeRawPointer?, count: Int, seed: UInt32 = 0) -> UInt32 {
        var crc = UInt(seed)
        guard let base, count > 0 else { return seed }
        var done = 0
        while done < count {
            let n = min(count - done, 1 << 30)
            crc = CZlib.crc32(crc, base.advanced(by: done).assumingMemoryBound(to: Bytef.self), uInt(n))
            done += n
        }
        return UInt32(truncatingIfNeeded: crc)
    }

    static func crc32(_ data: Data) -> UInt32 {
        data.withUnsafeBytes { crc32($0.baseAddress, count: $0.count) }
    }
}
