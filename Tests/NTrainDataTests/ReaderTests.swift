import Foundation
@testable import NTrainData
import XCTest

/// IDX, CIFAR, gzip, tar, PNG and PGM readers on well-formed and malformed input.
final class ReaderTests: XCTestCase {
    private func write(_ data: Data, _ name: String) throws -> String {
        let url = TestData.tempDir(self).appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    private func assertError(_ body: @autoclosure () throws -> Any, contains text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(text), "'\(error)' does not mention '\(text)'", file: file, line: line)
        }
    }

    func testIDXPlainAndGzipAndPair() throws {
        let images = TestData.idx(dims: [3, 2, 2], values: Array(0..<12))
        let labels = TestData.idx(dims: [3], values: [2, 0, 1])
        let ip = try write(Gzip.compress(images), "i.gz"), lp = try write(labels, "l")
        XCTAssertEqual(try IDXReader.read(path: ip).dims, [3, 2, 2])
        let ds = try IDXReader.loadPair(images: ip, labels: lp, name: "t", classNames: ["a", "b", "c"])
        XCTAssertEqual(ds.labels, [2, 0, 1])
        XCTAssertEqual(ds.images, Array(0..<12))
        assertError(try IDXReader.loadPair(images: ip, labels: lp, name: "t", classNames: ["a", "b"]), contains: "label 2 at index 0")
        let fewer = try write(TestData.idx(dims: [2], values: [0, 1]), "l2")
        assertError(try IDXReader.loadPair(images: ip, labels: fewer, name: "t", classNames: ["a", "b", "c"]), contains: "2 labels but")
    }

    func testBuiltinIDXFilesMustHaveTheirKnownShape() throws {
        // A header promising 1,000,000 images (content absent) is refused from the header alone.
        let huge = try write(TestData.idx(dims: [1_000_000, 28, 28], values: []), "huge")
        assertError(try IDXReader.read(path: huge, expectedMagic: IDXReader.imagesMagic, expectedDims: [60_000, 28, 28]),
                    contains: "dimensions [1000000, 28, 28], expected [60000, 28, 28] for this dataset file")
        let images = try write(TestData.idx(dims: [3, 2, 2], values: Array(0..<12)), "i")
        let labels = try write(TestData.idx(dims: [3], values: [2, 0, 1]), "l")
        assertError(try IDXReader.loadPair(images: images, labels: labels, name: "t", classNames: ["a", "b", "c"], expectedCount: 10_000),
                    contains: "dimensions [3], expected [10000]")
    }

    func testIDXMalformed() throws {
        let good = TestData.idx(dims: [2, 2, 2], values: Array(0..<8))
        assertError(try IDXReader.read(path: write(good.prefix(10), "a"), expectedMagic: IDXReader.imagesMagic), contains: "truncated header")
        assertError(try IDXReader.read(path: write(good.prefix(20), "b")), contains: "truncated")
        assertError(try IDXReader.read(path: write(good + Data([1]), "c")), contains: "longer than")
        assertError(try IDXReader.read(path: write(good, "d"), expectedMagic: IDXReader.labelsMagic), contains: "magic number 0x00000803, expected 0x00000801")
        var badType = good; badType[2] = 0x0D
        assertError(try IDXReader.read(path: write(badType, "e")), contains: "element type 0x0D")
        var absurd = TestData.idx(dims: [0x7FFF_FFFF, 0x7FFF_FFFF, 0x7FFF_FFFF], values: [])
        assertError(try IDXReader.read(path: write(absurd, "f")), contains: "promise more than")
        absurd = TestData.idx(dims: [100_000_000], values: [1, 2, 3])
        assertError(try IDXReader.read(path: write(absurd, "g")), contains: "truncated")
        assertError(try IDXReader.read(path: write(Data([1, 2]), "h")), contains: "shorter than the 4-byte magic")
    }

    func testCIFARBatchFilesMustHaveTheirKnownSize() throws {
        XCTAssertEqual(CIFARReader.expectedRecords(file: "data_batch_3.bin"), 10_000)
        XCTAssertEqual(CIFARReader.expectedRecords(file: "test_batch.bin"), 10_000)
        XCTAssertEqual(CIFARReader.expectedRecords(file: "test_batch.first1000.bin"), 1000)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ntrain-cifar-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let record = Data([3] + [UInt8](repeating: 9, count: 3072))
        // 1 record, 10,001 records and twice the size are refused from the size alone.
        for count in [1, 1001, 2000] {
            try Data(repeating: 0, count: 0).write(to: folder.appendingPathComponent("test_batch.first1000.bin"))
            var data = Data()
            for _ in 0..<count { data.append(record) }
            try data.write(to: folder.appendingPathComponent("test_batch.first1000.bin"))
            assertError(try CIFARReader.load(folder: folder.path, split: .test),
                        contains: "is \(count * 3073) bytes (\(count) records); a CIFAR-10 batch file holds 1000 records")
        }
        var exact = Data()
        for _ in 0..<1000 { exact.append(record) }
        try exact.write(to: folder.appendingPathComponent("test_batch.first1000.bin"))
        XCTAssertEqual(try CIFARReader.load(folder: folder.path, split: .test).count, 1000)
        // A dataset root of symbolic links to a shared copy: the size is the target's.
        let linked = folder.appendingPathComponent("linked")
        try FileManager.default.createDirectory(at: linked, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: linked.appendingPathComponent("test_batch.first1000.bin"),
                                                   withDestinationURL: folder.appendingPathComponent("test_batch.first1000.bin"))
        XCTAssertEqual(try CIFARReader.load(folder: linked.path, split: .test).count, 1000)
        // A huge sparse file is refused without being read (it would not fit in memory).
        let huge = folder.appendingPathComponent("test_batch.bin")
        XCTAssertTrue(FileManager.default.createFile(atPath: huge.path, contents: nil))
        let handle = try FileHandle(forWritingTo: huge)
        try handle.truncate(atOffset: 3 << 30)
        try handle.close()
        assertError(try CIFARReader.load(folder: folder.path, split: .test), contains: "is 3221225472 bytes (not a whole number of 3073-byte records)")
    }

    func testCIFARMalformed() throws {
        var record = Data([3]) + Data(repeating: 7, count: 3072)
        let parsed = try CIFARReader.parseBatch(record + record, name: "x")
        XCTAssertEqual(parsed.labels, [3, 3])
        assertError(try CIFARReader.parseBatch(record.prefix(3000), name: "x.bin"), contains: "not a multiple of the 3073-byte record")
        record[0] = 12
        assertError(try CIFARReader.parseBatch(record, name: "x.bin"), contains: "record 0 (byte offset 0) has label 12")
        assertError(try CIFARReader.parseBatch(Data(), name: "x.bin"), contains: "empty")
        assertError(try CIFARReader.readClassNames(path: write(Data("a\nb\n".utf8), "meta.txt")), contains: "expected 10 class names")
    }

    func testGzipRoundTripMultiMemberAndCorruption() throws {
        let a = Data((0..<5000).map { UInt8($0 % 251) }), b = Data("tail".utf8)
        XCTAssertEqual(try Gzip.decompress(Gzip.compress(a) + Gzip.compress(b)), a + b)
        let gz = Gzip.compress(a)
        assertError(try Gzip.decompress(gz.prefix(gz.count - 10)), contains: "truncated")
        var flipped = gz; flipped[gz.count - 6] ^= 0xFF  // inside the CRC-32 trailer
        assertError(try Gzip.decompress(flipped), contains: "incorrect data check")
        assertError(try Gzip.decompress(Data("plain text".utf8)), contains: "incorrect header check")
        assertError(try Gzip.decompress(Data()), contains: "empty")
        assertError(try Gzip.decompress(gz + Data("junk".utf8)), contains: "unexpected bytes after")
        XCTAssertEqual(CRC32.checksum(Data("123456789".utf8)), 0xCBF4_3926)  // the standard check value
    }

    func testTarExtractsOnlyExpectedRegularMembers() throws {
        let dir = TestData.tempDir(self)
        let archive = TestData.tar([("top/", "5", Data()), ("top/a.bin", "0", Data("alpha".utf8)),
                                    ("top/skip.bin", "0", Data(repeating: 9, count: 700)), ("./top/b.bin", "0", Data("beta".utf8))])
        let members = ["top/a.bin": dir.appendingPathComponent("a").path, "top/b.bin": dir.appendingPathComponent("b").path]
        let written = try TarReader.extract(from: DataByteStream(Gzip.compress(archive)).asGunzip(), archiveName: "t.tar.gz", members: members)
        XCTAssertEqual(written, ["top/a.bin", "top/b.bin"])
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("a"), encoding: .utf8), "alpha")
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("b"), encoding: .utf8), "beta")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("skip.bin").path))
    }

    func testTarRejectsTraversalLinksAndCorruption() throws {
        let dir = TestData.tempDir(self)
        let target = ["a": dir.appendingPathComponent("a").path]
        func run(_ data: Data) throws { try TarReader.extract(from: DataByteStream(data), archiveName: "evil.tar", members: target) }
        assertError(try run(TestData.tar([("../a", "0", Data("x".utf8))])), contains: "'..' (path traversal)")
        assertError(try run(TestData.tar([("x/../../a", "0", Data("x".utf8))])), contains: "path traversal")
        assertError(try run(TestData.tar([("/etc/a", "0", Data("x".utf8))])), contains: "absolute path")
        assertError(try run(TestData.tar([("a", "2", Data())])), contains: "symbolic link")
        assertError(try run(TestData.tar([("a", "1", Data())])), contains: "hard link")
        assertError(try run(TestData.tar([("a", "3", Data())])), contains: "unsupported type")
        var bad = TestData.tar([("a", "0", Data("x".utf8))]); bad[0] = UInt8(ascii: "b")
        assertError(try run(bad), contains: "checksum mismatch")
        let full = TestData.tar([("a", "0", Data(repeating: 1, count: 2000))])
        assertError(try run(full.prefix(1200)), contains: "truncated")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("etc").path))
    }

    func testPNGGrayRGBAndRejections() throws {
        let gray = try ImageDecoder.decode(TestData.png(width: 3, height: 2, colorType: 0, interleaved: [0, 1, 2, 3, 4, 255]), name: "g.png")
        XCTAssertEqual(gray, DecodedImage(channels: 1, height: 2, width: 3, pixels: [0, 1, 2, 3, 4, 255]))
        let rgb = try ImageDecoder.decode(TestData.png(width: 2, height: 1, colorType: 2, interleaved: [10, 20, 30, 40, 50, 60]), name: "c.png")
        XCTAssertEqual(rgb.pixels, [10, 40, 20, 50, 30, 60])  // planar R, G, B
        assertError(try ImageDecoder.decode(TestData.png(width: 1, height: 1, colorType: 6, interleaved: [1, 2, 3, 4]), name: "a.png"), contains: "alpha")
        assertError(try ImageDecoder.decode(TestData.png(width: 1, height: 1, colorType: 0, bitDepth: 16, interleaved: [1, 2]), name: "w.png"), contains: "16-bit")
        var broken = TestData.png(width: 3, height: 2, colorType: 0, interleaved: [0, 1, 2, 3, 4, 5])
        broken[broken.count - 20] ^= 0x55
        XCTAssertThrowsError(try ImageDecoder.decode(broken, name: "b.png"))
    }

    func testPGM() throws {
        let img = try ImageDecoder.decode(Data("P5\n# comment\n2 2\n255\n".utf8) + Data([0, 1, 2, 255]), name: "p.pgm")
        XCTAssertEqual(img, DecodedImage(channels: 1, height: 2, width: 2, pixels: [0, 1, 2, 255]))
        let scaled = try ImageDecoder.decode(Data("P5 1 2 15 ".utf8) + Data([15, 0]), name: "s.pgm")
        XCTAssertEqual(scaled.pixels, [255, 0])
        assertError(try ImageDecoder.decode(Data("P5 4 4 255\n".utf8) + Data([1]), name: "t.pgm"), contains: "truncated")
        assertError(try ImageDecoder.decode(Data("P5 4 4 65535\n".utf8), name: "w.pgm"), contains: "16-bit")
        assertError(try ImageDecoder.decode(Data("GIF89a".utf8), name: "x.gif"), contains: "neither a PNG")
    }
}

extension DataByteStream {
    /// The same bytes through the gzip decoder.
    func asGunzip() throws -> ByteStream {
        var all = Data()
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = try buf.withUnsafeMutableBytes { try read(into: $0) }
            if n == 0 { break }
            all.append(contentsOf: buf[0..<n])
        }
        return try GzipInputStream(data: all, name: "memory.gz")
    }
}
