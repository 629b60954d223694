import Foundation
import NTrainCore
@testable import NTrainData
import XCTest

/// Pushes thousands of mutated inputs through every reader with a fixed seed: each must either
/// parse or throw a typed error; none may crash or hang.
final class FuzzTests: XCTestCase {
    private func mutate(_ data: Data, _ g: inout RandomGenerator) -> Data {
        var d = [UInt8](data)
        switch g.int(below: 4) {
        case 0:  // flip a few bytes
            for _ in 0..<(1 + g.int(below: 4)) where !d.isEmpty { d[g.int(below: d.count)] = UInt8(g.int(below: 256)) }
        case 1:  // truncate
            d = Array(d.prefix(g.int(below: d.count + 1)))
        case 2:  // append junk
            d += (0..<g.int(below: 64)).map { _ in UInt8(g.int(below: 256)) }
        default:  // random bytes of similar length
            d = (0..<g.int(below: d.count + 16)).map { _ in UInt8(g.int(below: 256)) }
        }
        return Data(d)
    }

    private func fuzz(_ seedData: Data, iterations: Int, seed: UInt64, _ body: (Data) throws -> Void) -> (ok: Int, rejected: Int) {
        var g = RandomGenerator(seed: seed)
        var ok = 0, rejected = 0
        for _ in 0..<iterations {
            do {
                try body(mutate(seedData, &g))
                ok += 1
            } catch is DatasetError {
                rejected += 1
            } catch {
                XCTFail("untyped error \(error)")
            }
        }
        return (ok, rejected)
    }

    func testIDX() {
        let seed = TestData.idx(dims: [4, 5, 3], values: (0..<60).map { UInt8($0) })
        let r = fuzz(seed, iterations: 3000, seed: 1) { _ = try IDXReader.read(stream: DataByteStream($0), name: "fuzz.idx") }
        XCTAssertGreaterThan(r.rejected, 1000)
        let gz = Gzip.compress(seed)
        let r2 = fuzz(gz, iterations: 2000, seed: 2) { _ = try IDXReader.read(stream: GzipInputStream(data: $0, name: "f.gz"), name: "f.gz") }
        XCTAssertGreaterThan(r2.rejected, 1000)
    }

    func testCIFAR() {
        let seed = (0..<3).reduce(Data()) { acc, i in acc + Data([UInt8(i)]) + Data(repeating: UInt8(i * 40), count: 3072) }
        let r = fuzz(seed, iterations: 2000, seed: 3) { _ = try CIFARReader.parseBatch($0, name: "fuzz.bin") }
        XCTAssertGreaterThan(r.rejected, 500)
    }

    func testTarAndGzip() {
        let dir = TestData.tempDir(self)
        let members = ["d/a": dir.appendingPathComponent("a").path, "d/b": dir.appendingPathComponent("b").path]
        let archive = TestData.tar([("d/", "5", Data()), ("d/a", "0", Data(repeating: 3, count: 900)), ("d/b", "0", Data("b".utf8))])
        let r = fuzz(archive, iterations: 2000, seed: 4) { _ = try TarReader.extract(from: DataByteStream($0), archiveName: "f.tar", members: members) }
        XCTAssertGreaterThan(r.rejected, 500)
        let r2 = fuzz(Gzip.compress(archive), iterations: 2000, seed: 5) {
            _ = try TarReader.extract(from: GzipInputStream(data: $0, name: "f.tar.gz"), archiveName: "f.tar.gz", members: members)
        }
        XCTAssertGreaterThan(r2.rejected, 1000)
        // Nothing escaped the folder.
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        XCTAssertTrue(Set(entries).isSubset(of: ["a", "b"]), "\(entries)")
    }

    func testImages() {
        let png = TestData.png(width: 4, height: 3, colorType: 2, interleaved: (0..<36).map { UInt8($0 * 7) })
        let r = fuzz(png, iterations: 2000, seed: 6) { _ = try ImageDecoder.decode($0, name: "f.png") }
        XCTAssertGreaterThan(r.rejected, 1000)
        let pgm = Data("P5\n4 3\n255\n".utf8) + Data((0..<12).map { UInt8($0) })
        let r2 = fuzz(pgm, iterations: 2000, seed: 7) { _ = try ImageDecoder.decode($0, name: "f.pgm") }
        XCTAssertGreaterThan(r2.rejected, 500)
    }
}
