import Foundation

/// Anything bytes can be read from in order (a file, a gzip stream, a buffer).
public protocol ByteStream: AnyObject {
    /// Fills up to `buffer.count` bytes; returns 0 only at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

extension GzipInputStream: ByteStream {}

/// A `ByteStream` over an in-memory buffer.
public final class DataByteStream: ByteStream {
    private let data: Data
    private var offset = 0

    public init(_ data: Data) { self.data = data }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, data.count - offset)
        guard n > 0, let base = buffer.baseAddress else { return 0 }
        data.withUnsafeBytes { src in base.copyMemory(from: src.baseAddress! + offset, byteCount: n) }
        offset += n
        return n
    }
}

/// Extracts chosen members of a (ustar/GNU/pax) tar stream as regular files.
///
/// It is deliberately strict: any member with an absolute path or a `..` component, and any
/// symbolic link, hard link or device node, rejects the whole archive, so a hostile archive can
/// never write outside the destination or redirect a later write through a link.
public enum TarReader {
    /// Reads the whole archive from `stream`. Each regular member whose name (after an optional
    /// leading `./`) is a key of `members` is written to the path it maps to; others are skipped.
    /// Returns the names of the members written.
    @discardableResult
    public static func extract(from stream: ByteStream, archiveName: String,
                               members: [String: String]) throws -> [String] {
        var reader = BlockReader(stream: stream, name: archiveName)
        var written: [String] = []
        var pendingName: String?
        var header = [UInt8](repeating: 0, count: 512)
        var sawZeroBlock = false
        while true {
            let got = try reader.readFully(&header, count: 512)
            if got == 0 { break }  // end of stream without the two zero blocks: accepted, as GNU tar does
            if got < 512 { throw DatasetError.invalidTar(path: archiveName, reason: "truncated header block") }
            if header.allSatisfy({ $0 == 0 }) {
                if sawZeroBlock { break }
                sawZeroBlock = true
                continue
            }
            sawZeroBlock = false
            try verifyChecksum(header, archiveName: archiveName)
            let size = try parseSize(header, archiveName: archiveName)
            let type = header[156]
            var name = pendingName ?? headerName(header)
            pendingName = nil
            switch type {
            case UInt8(ascii: "L"):  // GNU long name: the data is the next member's name
                let data = try reader.readData(size: size, limit: 1 << 16)
                pendingName = String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)
                continue
            case UInt8(ascii: "x"):  // pax extended header: may carry `path=`
                let data = try reader.readData(size: size, limit: 1 << 20)
                pendingName = paxPath(data)
                continue
            case UInt8(ascii: "g"), UInt8(ascii: "K"):  // global pax header, GNU long link name: not needed
                try reader.skip(size: size)
                continue
            default:
                break
            }
            if name.hasPrefix("./") { name.removeFirst(2) }
            try checkSafe(name, archiveName: archiveName)
            switch type {
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                if let destination = members[name] {
                    try reader.copy(size: size, toFile: destination)
                    written.append(name)
                } else {
                    try reader.skip(size: size)
                }
            case UInt8(ascii: "5"):
                try reader.skip(size: size)
            case UInt8(ascii: "1"), UInt8(ascii: "2"):
                throw DatasetError.invalidTar(path: archiveName, reason: "member '\(name)' is a \(type == UInt8(ascii: "1") ? "hard" : "symbolic") link; links are not extracted")
            default:
                throw DatasetError.invalidTar(path: archiveName, reason: "member '\(name)' has unsupported type '\(Character(Unicode.Scalar(type)))' (only regular files and folders are allowed)")
            }
        }
        return written
    }

    static func headerName(_ h: [UInt8]) -> String {
        let name = cString(h, 0, 100)
        let magic = cString(h, 257, 6)
        let prefix = magic.hasPrefix("ustar") ? cString(h, 345, 155) : ""
        return prefix.isEmpty ? name : prefix + "/" + name
    }

    static func cString(_ h: [UInt8], _ offset: Int, _ length: Int) -> String {
        let field = h[offset..<offset + length]
        return String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }

    static func checkSafe(_ name: String, archiveName: String) throws {
        if name.isEmpty { throw DatasetError.invalidTar(path: archiveName, reason: "member with an empty name") }
        if name.hasPrefix("/") {
            throw DatasetError.invalidTar(path: archiveName, reason: "member '\(name)' has an absolute path")
        }
        if name.split(separator: "/", omittingEmptySubsequences: false).contains("..") {
            throw DatasetError.invalidTar(path: archiveName, reason: "member '\(name)' contains '..' (path traversal)")
        }
    }

    static func verifyChecksum(_ h: [UInt8], archiveName: String) throws {
        let stored = cString(h, 148, 8).trimmingCharacters(in: .whitespaces)
        guard let expected = Int(stored, radix: 8) else {
            throw DatasetError.invalidTar(path: archiveName, reason: "header checksum field '\(stored)' is not an octal number")
        }
        var unsigned = 0
        var signed = 0
        for i in 0..<512 {
            let b = (148..<156).contains(i) ? UInt8(ascii: " ") : h[i]
            unsigned += Int(b)
            signed += Int(Int8(bitPattern: b))
        }
        if expected != unsigned && expected != signed {
            throw DatasetError.invalidTar(path: archiveName, reason: "header checksum mismatch (stored \(expected), computed \(unsigned))")
        }
    }

    static func parseSize(_ h: [UInt8], archiveName: String) throws -> Int {
        if h[124] & 0x80 != 0 {  // GNU base-256 encoding for sizes ≥ 8 GiB
            var v = 0
            for i in 125..<136 {
                if v > (Int.max >> 8) { throw DatasetError.invalidTar(path: archiveName, reason: "member size overflows") }
                v = (v << 8) | Int(h[i])
            }
            return v
        }
        let text = cString(h, 124, 12).trimmingCharacters(in: .whitespaces)
        if text.isEmpty { return 0 }
        guard let v = Int(text, radix: 8), v >= 0 else {
            throw DatasetError.invalidTar(path: archiveName, reason: "member size field '\(text)' is not an octal number")
        }
        return v
    }

    static func paxPath(_ data: Data) -> String? {
        // Records are "LEN key=value\n".
        var result: String?
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let space = line.firstIndex(of: " ") else { continue }
            let record = line[line.index(after: space)...]
            if record.hasPrefix("path=") { result = String(record.dropFirst(5)) }
        }
        return result
    }
}

/// Reads a tar stream in 512-byte-padded pieces.
private struct BlockReader {
    let stream: ByteStream
    let name: String
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)

    init(stream: ByteStream, name: String) {
        self.stream = stream
        self.name = name
    }

    /// Reads up to `count` bytes into `out`, stopping early only at the end of the stream.
    func readFully(_ out: inout [UInt8], count: Int) throws -> Int {
        var got = 0
        while got < count {
            let n = try out.withUnsafeMutableBytes { try stream.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[got..<count])) }
            if n == 0 { break }
            got += n
        }
        return got
    }

    /// Passes `size` bytes (plus padding to 512) to `body` in chunks.
    mutating func forEachChunk(size: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let padded = size.addingReportingOverflow(511)
        if padded.overflow { throw DatasetError.invalidTar(path: name, reason: "member size overflows") }
        let total = padded.partialValue & ~511
        var remaining = total
        var payloadLeft = size
        while remaining > 0 {
            let want = min(remaining, buffer.count)
            var chunk = buffer
            buffer = []  // hand the storage over so it is not copied
            let got = try readFully(&chunk, count: want)
            buffer = chunk
            if got < want { throw DatasetError.invalidTar(path: name, reason: "truncated: a member's data ends early") }
            let useful = min(payloadLeft, got)
            if useful > 0 { try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<useful])) } }
            payloadLeft -= useful
            remaining -= got
        }
    }

    mutating func skip(size: Int) throws { try forEachChunk(size: size) { _ in } }

    mutating func readData(size: Int, limit: Int) throws -> Data {
        if size > limit { throw DatasetError.invalidTar(path: name, reason: "extended header of \(size) bytes is too large") }
        var data = Data()
        try forEachChunk(size: size) { data.append(contentsOf: $0) }
        return data
    }

    mutating func copy(size: Int, toFile path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw DatasetError.io(path: path, reason: "cannot create: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try forEachChunk(size: size) { chunk in
            var offset = 0
            while offset < chunk.count {
                let n = write(fd, chunk.baseAddress! + offset, chunk.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DatasetError.io(path: path, reason: "write failed: \(String(cString: strerror(errno)))")
                }
                offset += n
            }
        }
    }
}
