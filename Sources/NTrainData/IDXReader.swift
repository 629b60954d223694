import Foundation

/// A `ByteStream` over a plain file.
public final class FileByteStream: ByteStream {
    private let fd: Int32
    public let path: String

    public init(path: String) throws {
        fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw DatasetError.io(path: path, reason: "cannot open: \(String(cString: strerror(errno)))") }
        self.path = path
    }

    deinit { close(fd) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let n = Foundation.read(fd, base, buffer.count)
            if n >= 0 { return n }
            if errno != EINTR { throw DatasetError.io(path: path, reason: "read failed: \(String(cString: strerror(errno)))") }
        }
    }

    /// Opens `path`, decompressing on the fly when the file starts with the gzip magic.
    public static func openMaybeGzip(path: String) throws -> ByteStream {
        let probe = try FileByteStream(path: path)
        var magic: [UInt8] = [0, 0]
        let n = try magic.withUnsafeMutableBytes { try readUpTo(probe, $0) }
        if n == 2 && magic == [0x1F, 0x8B] { return try GzipInputStream(path: path) }
        return try FileByteStream(path: path)
    }
}

/// Reads until `buffer` is full or the stream ends; returns the count read.
func readUpTo(_ stream: ByteStream, _ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
    var got = 0
    while got < buffer.count {
        let n = try stream.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[got...]))
        if n == 0 { break }
        got += n
    }
    return got
}

/// An unsigned-byte array read from an IDX file (the MNIST format, http://yann.lecun.com/exdb/mnist/).
public struct IDXArray {
    /// The dimensions, outermost first (e.g. [60000, 28, 28]).
    public let dims: [Int]
    /// The values in row-major order.
    public let values: [UInt8]
}

/// Reader for IDX files of unsigned bytes, plain or gzip-compressed.
public enum IDXReader {
    /// The magic number of a 3-dimensional ubyte file (images).
    public static let imagesMagic: UInt32 = 0x0000_0803
    /// The magic number of a 1-dimensional ubyte file (labels).
    public static let labelsMagic: UInt32 = 0x0000_0801
    /// Refuse headers that promise more than this many values (4 GiB) before allocating anything.
    public static let maxValues = 1 << 32

    /// Reads the IDX file at `path` (decompressing it if it is gzip) and checks that it has
    /// `expectedMagic` when given, sane dimensions and exactly the size its header promises.
    public static func read(path: String, expectedMagic: UInt32? = nil, expectedDims: [Int]? = nil) throws -> IDXArray {
        let stream = try FileByteStream.openMaybeGzip(path: path)
        return try read(stream: stream, name: path, expectedMagic: expectedMagic, expectedDims: expectedDims)
    }

    /// Reads an IDX array from a stream; `name` is used in error messages.
    /// With `expectedDims` (a built-in dataset's known shape), a header with other dimensions is
    /// refused before any content is read.
    public static func read(stream: ByteStream, name: String, expectedMagic: UInt32? = nil, expectedDims: [Int]? = nil) throws -> IDXArray {
        var header = [UInt8](repeating: 0, count: 4)
        let n = try header.withUnsafeMutableBytes { try readUpTo(stream, $0) }
        guard n == 4 else { throw DatasetError.invalidIDX(path: name, reason: "file is \(n) bytes, shorter than the 4-byte magic number") }
        let magic = header.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard header[0] == 0, header[1] == 0 else {
            throw DatasetError.invalidIDX(path: name, reason: String(format: "magic number 0x%08X does not start with two zero bytes", magic))
        }
        guard header[2] == 0x08 else {
            throw DatasetError.invalidIDX(path: name, reason: String(format: "element type 0x%02X is not unsigned byte (0x08)", header[2]))
        }
        if let expected = expectedMagic, magic != expected {
            throw DatasetError.invalidIDX(path: name, reason: String(format: "magic number 0x%08X, expected 0x%08X (%@)", magic, expected,
                                                                     expected == imagesMagic ? "an images file" : "a labels file"))
        }
        let rank = Int(header[3])
        guard rank >= 1 else { throw DatasetError.invalidIDX(path: name, reason: "zero dimensions") }
        var dimBytes = [UInt8](repeating: 0, count: 4 * rank)
        let m = try dimBytes.withUnsafeMutableBytes { try readUpTo(stream, $0) }
        guard m == dimBytes.count else {
            throw DatasetError.invalidIDX(path: name, reason: "truncated header: \(rank) dimensions need \(4 + 4 * rank) bytes")
        }
        var dims: [Int] = []
        var total = 1
        for d in 0..<rank {
            let v = Int(dimBytes[4 * d]) << 24 | Int(dimBytes[4 * d + 1]) << 16 | Int(dimBytes[4 * d + 2]) << 8 | Int(dimBytes[4 * d + 3])
            dims.append(v)
            total = total.multipliedReportingOverflow(by: v).overflow ? Int.max : total * v
        }
        if let expectedDims, dims != expectedDims {
            throw DatasetError.invalidIDX(path: name, reason: "dimensions \(dims), expected \(expectedDims) for this dataset file; "
                + "delete it and download it again")
        }
        if total > maxValues {
            throw DatasetError.invalidIDX(path: name, reason: "dimensions \(dims) promise more than \(maxValues) values")
        }
        // Grow the buffer as data arrives, so a header promising absurd sizes cannot make us
        // allocate gigabytes for a small file.
        var values = [UInt8]()
        values.reserveCapacity(min(total, 1 << 26))
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var got = 0
        while got < total {
            let want = min(chunk.count, total - got)
            let n = try chunk.withUnsafeMutableBytes { try readUpTo(stream, UnsafeMutableRawBufferPointer(rebasing: $0[0..<want])) }
            values.append(contentsOf: chunk[0..<n])
            got += n
            if n < want { break }
        }
        let headerSize = 4 + 4 * rank
        if got < total {
            throw DatasetError.invalidIDX(path: name, reason: "truncated: dimensions \(dims) need \(headerSize + total) bytes of content, found \(headerSize + got)")
        }
        var extra: UInt8 = 0
        let more = try withUnsafeMutableBytes(of: &extra) { try stream.read(into: $0) }
        if more > 0 {
            throw DatasetError.invalidIDX(path: name, reason: "content is longer than the \(headerSize + total) bytes its dimensions \(dims) describe")
        }
        return IDXArray(dims: dims, values: values)
    }

    /// Reads an images file ([N, H, W]) and a labels file ([N]) into a 1-channel dataset.
    /// `expectedCount`: the examples a built-in dataset's file holds (28×28 images), checked from
    /// the headers before the content is read.
    public static func loadPair(images imagesPath: String, labels labelsPath: String, name: String,
                                classNames: [String], expectedCount: Int? = nil) throws -> ImageDataset {
        let labels = try read(path: labelsPath, expectedMagic: labelsMagic, expectedDims: expectedCount.map { [$0] })
        let images = try read(path: imagesPath, expectedMagic: imagesMagic, expectedDims: expectedCount.map { [$0, 28, 28] })
        let (n, h, w) = (images.dims[0], images.dims[1], images.dims[2])
        guard n > 0, h > 0, w > 0 else {
            throw DatasetError.invalidIDX(path: imagesPath, reason: "dimensions \(images.dims) contain a zero")
        }
        guard labels.dims[0] == n else {
            throw DatasetError.inconsistent(path: labelsPath, reason: "\(labels.dims[0]) labels but \(imagesPath) has \(n) images")
        }
        var ints = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            let v = labels.values[i]
            guard Int(v) < classNames.count else {
                throw DatasetError.inconsistent(path: labelsPath, reason: "label \(v) at index \(i) is outside 0..<\(classNames.count)")
            }
            ints[i] = Int32(v)
        }
        return ImageDataset(name: name, images: images.values, labels: ints, channels: 1, height: h, width: w, classNames: classNames)
    }
}
