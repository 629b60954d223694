import CZlib
import Foundation

/// A streaming gzip decoder over a file or an in-memory buffer (zlib's inflate, which also checks
/// each member's CRC-32 and length). Concatenated members are read as one stream, as `gunzip` does.
public final class GzipInputStream {
    private var z = z_stream()
    private let name: String
    private let fd: Int32
    private let input: UnsafeMutablePointer<UInt8>
    private let inputCapacity: Int
    private var memory: Data?
    private var sourceExhausted = false
    private var finished = false
    private var sawAnyInput = false

    /// Decodes the gzip file at `path`.
    public init(path: String) throws {
        fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw DatasetError.io(path: path, reason: "cannot open: \(String(cString: strerror(errno)))") }
        name = path
        inputCapacity = 1 << 18
        input = .allocate(capacity: inputCapacity)
        try start()
    }

    /// Decodes `data`; `name` is used in error messages.
    public init(data: Data, name: String) throws {
        fd = -1
        self.name = name
        inputCapacity = max(1, data.count)
        input = .allocate(capacity: inputCapacity)
        data.copyBytes(to: input, count: data.count)
        memory = data
        try start()
    }

    private func start() throws {
        // 15 + 16: a 32 KiB window and gzip framing only (a bare zlib stream is not a .gz file).
        let rc = inflateInit2_(&z, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            if fd >= 0 { close(fd) }
            input.deallocate()
            throw DatasetError.invalidGzip(path: name, reason: "zlib could not start (code \(rc))")
        }
    }

    deinit {
        inflateEnd(&z)
        if fd >= 0 { close(fd) }
        input.deallocate()
    }

    private func refill() throws {
        guard z.avail_in == 0, !sourceExhausted else { return }
        if let data = memory {
            z.next_in = input
            z.avail_in = uInt(data.count)
            memory = nil
            sourceExhausted = true
            if data.count > 0 { sawAnyInput = true }
            return
        }
        var n: Int
        repeat { n = Foundation.read(fd, input, inputCapacity) } while n < 0 && errno == EINTR
        if n < 0 { throw DatasetError.io(path: name, reason: "read failed: \(String(cString: strerror(errno)))") }
        if n == 0 { sourceExhausted = true }
        if n > 0 { sawAnyInput = true }
        z.next_in = input
        z.avail_in = uInt(n)
    }

    /// Fills `buffer` with decompressed bytes; returns how many (0 only at the end of the stream).
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0, !finished else { return 0 }
        z.next_out = base.assumingMemoryBound(to: Bytef.self)
        z.avail_out = uInt(min(buffer.count, Int(UInt32.max)))
        let wanted = Int(z.avail_out)
        while z.avail_out > 0 && !finished {
            try refill()
            if z.avail_in == 0 && sourceExhausted {
                let reason = sawAnyInput ? "truncated (the stream ends before its end marker)" : "empty file"
                throw DatasetError.invalidGzip(path: name, reason: reason)
            }
            let rc = inflate(&z, Z_NO_FLUSH)
            switch rc {
            case Z_OK:
                continue
            case Z_BUF_ERROR where z.avail_in == 0:
                continue  // needs more input: refilled at the top of the loop
            case Z_STREAM_END:
                try endOfMember()
            default:
                let msg = z.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
                throw DatasetError.invalidGzip(path: name, reason: msg)
            }
        }
        return wanted - Int(z.avail_out)
    }

    /// After a member ends: another member follows, zero padding follows, or nothing.
    private func endOfMember() throws {
        try refill()
        if z.avail_in == 0 && sourceExhausted {
            finished = true
            return
        }
        let next = z.next_in[0]
        if next == 0x1F {
            inflateReset(&z)
        } else if next == 0 {
            finished = true  // padding after the last member (tape-style blocks) is ignored, as gunzip does
        } else {
            throw DatasetError.invalidGzip(path: name, reason: "unexpected bytes after the end of the gzip stream")
        }
    }

    /// Reads everything that is left.
    public func readAll(limit: Int = Int.max) throws -> Data {
        var out = Data()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
            if out.count > limit {
                throw DatasetError.invalidGzip(path: name, reason: "decompresses to more than \(limit) bytes")
            }
        }
    }
}

/// gzip helpers over whole buffers.
public enum Gzip {
    /// True when `data` starts with the gzip magic bytes 1f 8b.
    public static func isGzip(_ data: Data) -> Bool { data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B }

    /// Decompresses a whole gzip buffer.
    public static func decompress(_ data: Data, name: String = "<memory>") throws -> Data {
        try GzipInputStream(data: data, name: name).readAll()
    }

    /// Compresses `data` as one gzip member (`zlibFormat: true` writes a bare zlib stream, as PNG uses).
    public static func compress(_ data: Data, level: Int32 = 6, zlibFormat: Bool = false) -> Data {
        var z = z_stream()
        let bits: Int32 = zlibFormat ? 15 : 15 + 16
        let rc = deflateInit2_(&z, level, Z_DEFLATED, bits, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(rc == Z_OK, "deflateInit2 failed: \(rc)")
        defer { deflateEnd(&z) }
        var source = [UInt8](data)
        let bound = Int(deflateBound(&z, uLong(source.count)))
        var out = [UInt8](repeating: 0, count: bound + 64)
        source.withUnsafeMutableBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                z.next_in = src.baseAddress
                z.avail_in = uInt(src.count)
                z.next_out = dst.baseAddress
                z.avail_out = uInt(dst.count)
                let done = deflate(&z, Z_FINISH)
                precondition(done == Z_STREAM_END, "deflate did not finish: \(done)")
            }
        }
        return Data(out[0..<Int(z.total_out)])
    }
}
