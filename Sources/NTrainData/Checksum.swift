import Crypto
import CZlib
import Foundation

/// Streaming MD5 (the checksum the dataset publishers list; used for integrity, not security).
public struct MD5Hasher {
    private var hasher = Insecure.MD5()

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }

    public mutating func update(_ data: Data) { hasher.update(data: data) }

    /// Lower-case hex digest.
    public func finalize() -> String { hasher.finalize().map { String(format: "%02x", $0) }.joined() }

    /// MD5 of a whole buffer.
    public static func hex(of data: Data) -> String {
        var h = MD5Hasher()
        h.update(data)
        return h.finalize()
    }

    /// MD5 of a file, read in 1 MiB chunks.
    public static func hex(ofFile path: String) throws -> String {
        var h = MD5Hasher()
        try FileChunks.forEach(path: path) { h.update($0) }
        return h.finalize()
    }

    /// MD5 of the decompressed content of a gzip file, without holding it all in memory.
    public static func hex(ofGunzippedFile path: String) throws -> String {
        var h = MD5Hasher()
        let stream = try GzipInputStream(path: path)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try stream.read(into: $0) }
            if n == 0 { break }
            buffer.withUnsafeBytes { h.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return h.finalize()
    }
}

/// CRC-32 (IEEE, as in gzip and PNG) through zlib.
public enum CRC32 {
    /// The CRC-32 of `bytes`, continuing from `previous` (0 to start).
    public static func checksum(_ bytes: UnsafeRawBufferPointer, previous: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return previous }
        var crc = UInt(previous)
        var offset = 0
        while offset < bytes.count {
            // zlib takes a uInt length; feed huge buffers in 1 GiB pieces.
            let n = min(bytes.count - offset, 1 << 30)
            crc = crc32(crc, base.advanced(by: offset).assumingMemoryBound(to: Bytef.self), uInt(n))
            offset += n
        }
        return UInt32(truncatingIfNeeded: crc)
    }

    public static func checksum(_ data: Data, previous: UInt32 = 0) -> UInt32 {
        data.withUnsafeBytes { checksum($0, previous: previous) }
    }
}

/// Reads a file in fixed-size chunks through POSIX calls (no Foundation buffering surprises).
enum FileChunks {
    static func forEach(path: String, chunk: Int = 1 << 20, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw DatasetError.io(path: path, reason: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer, chunk)
            if n < 0 {
                if errno == EINTR { continue }
                throw DatasetError.io(path: path, reason: "read failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { return }
            try body(UnsafeRawBufferPointer(start: buffer, count: n))
        }
    }
}
