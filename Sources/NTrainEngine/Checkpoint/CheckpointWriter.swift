import Foundation
import NTrainCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes `.mge` checkpoints (docs/mge-format.md), atomically: a crash or kill at any moment
/// leaves either the previous file or the complete new one under the final name.
public enum CheckpointWriter {
    /// The complete file image of `checkpoint`. `file` only names the target in errors.
    public static func encode(_ checkpoint: Checkpoint, file: String = "<memory>") throws -> Data {
        var entries: [String: JSONValue] = [:]
        var layout: [(offset: Int, tensor: Tensor)] = []
        var cursor = 0
        for (name, onDevice) in checkpoint.tensors {
            let tensor = onDevice.to(.cpu)  // the file holds host bytes whatever the device
            guard !name.isEmpty else { throw CheckpointError.invalidContents(file: file, problem: "a tensor has an empty name") }
            guard entries[name] == nil else {
                throw CheckpointError.invalidContents(file: file, problem: "tensor name \"\(name)\" appears twice; names must be unique")
            }
            let length = tensor.byteCount
            let crc = CheckpointFormat.crc32(UnsafeRawPointer(tensor.storage.bytes), count: length)
            entries[name] = .object([
                "dtype": .string(tensor.dtype.shortName),
                "shape": .array(tensor.shape.dims.map { .integer(Int64($0)) }),
                "offset": .integer(Int64(cursor)),
                "length": .integer(Int64(length)),
                "crc32": .integer(Int64(crc)),
            ])
            layout.append((cursor, tensor))
            cursor = CheckpointFormat.aligned(cursor + length) ?? cursor + length
        }
        let dataLength = layout.last.map { $0.offset + $0.tensor.byteCount } ?? 0
        let header = JSONValue.object(["tensors": .object(entries), "metadata": .object(checkpoint.metadata)])
        let headerBytes = Array(header.serialized().utf8)
        guard headerBytes.count <= CheckpointFormat.maxHeaderLength else {
            throw CheckpointError.invalidContents(
                file: file,
                problem: "the JSON header would be \(headerBytes.count) bytes, over the 16 MiB limit; store large data as tensors, not metadata")
        }
        let dataStart = CheckpointFormat.aligned(CheckpointFormat.prefixLength + headerBytes.count)!
        let total = dataStart + dataLength + 4

        var out = Data(count: total)  // zero-filled: padding and gaps are zeros
        out.withUnsafeMutableBytes { (raw: UnsafeMutableRawBufferPointer) in
            let base = raw.baseAddress!
            base.copyMemory(from: CheckpointFormat.magic, byteCount: 8)
            base.storeBytes(of: CheckpointFormat.version.littleEndian, toByteOffset: 8, as: UInt32.self)
            base.storeBytes(of: CheckpointFormat.flags.littleEndian, toByteOffset: 12, as: UInt32.self)
            base.storeBytes(of: UInt64(headerBytes.count).littleEndian, toByteOffset: 16, as: UInt64.self)
            headerBytes.withUnsafeBytes { h in
                if let hb = h.baseAddress { (base + CheckpointFormat.prefixLength).copyMemory(from: hb, byteCount: h.count) }
            }
            for (offset, tensor) in layout where tensor.byteCount > 0 {
                (base + dataStart + offset).copyMemory(from: tensor.storage.bytes, byteCount: tensor.byteCount)
            }
            let crc = CheckpointFormat.crc32(UnsafeRawPointer(base), count: total - 4)
            base.storeBytes(of: crc.littleEndian, toByteOffset: total - 4, as: UInt32.self)
        }
        return out
    }

    /// Writes `checkpoint` to `url` atomically: temp file in the same folder, fsync, rename over
    /// the target, fsync the folder. On error the target is untouched and the temp file removed.
    public static func write(_ checkpoint: Checkpoint, to url: URL) throws {
        let data = try encode(checkpoint, file: url.path)
        try writeAtomically(data, to: url)
    }

    /// Atomically replaces the file at `url` with `data` (see `write(_:to:)`).
    public static func writeAtomically(_ data: Data, to url: URL) throws {
        let path = url.path
        let folder = url.deletingLastPathComponent().path
        let tempPath = folder + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        func fail(_ operation: String, _ target: String) -> CheckpointError {
            .io(file: path, operation: "\(operation) \(target)", reason: String(cString: strerror(errno)))
        }

        let fd = open(tempPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw fail("create temporary file", tempPath) }
        var ok = false
        defer { if !ok { unlink(tempPath) } }
        do {
            defer { close(fd) }
            try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                var done = 0
                while done < raw.count {
                    let n = systemWrite(fd, raw.baseAddress! + done, raw.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw fail("write", tempPath)
                    }
                    done += n
                }
            }
            guard fsync(fd) == 0 else { throw fail("fsync", tempPath) }
        }
        guard rename(tempPath, path) == 0 else { throw fail("rename temporary file to", path) }
        ok = true
        // Make the rename itself durable.
        let dfd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            defer { close(dfd) }
            guard fsync(dfd) == 0 else { throw fail("fsync folder", folder) }
        }
    }
}

#if canImport(Glibc)
private let systemWrite = Glibc.write
#else
private let systemWrite = Darwin.write
#endif
