import Foundation
import XCTest
@testable import NTrainEngine

/// The TensorBoard event file: TFRecord framing with masked CRC32C around Event protobufs.
final class TensorBoardWriterTests: XCTestCase {
    func testCRC32CMatchesTheStandardCheckValue() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([]), 0)
    }

    func testRecordsAreFramedAndCarryTheScalars() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let writer = try TensorBoardWriter(directory: dir, now: Date(timeIntervalSince1970: 1_700_000_000))
        try writer.add(scalar: 0.25, tag: "train/loss", step: 300)
        try writer.flush()
        let bytes = [UInt8](try Data(contentsOf: writer.url))

        var records: [[UInt8]] = []
        var i = 0
        func u32(_ at: Int) -> UInt32 { bytes[at..<at + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) } }
        while i < bytes.count {
            let lengthBytes = Array(bytes[i..<i + 8])
            let length = Int(lengthBytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
            XCTAssertEqual(u32(i + 8), CRC32C.masked(lengthBytes), "length CRC of record \(records.count)")
            let payload = Array(bytes[(i + 12)..<(i + 12 + length)])
            XCTAssertEqual(u32(i + 12 + length), CRC32C.masked(payload), "data CRC of record \(records.count)")
            records.append(payload)
            i += 12 + length + 4
        }
        XCTAssertEqual(records.count, 2)
        XCTAssertTrue(String(decoding: records[0], as: UTF8.self).contains("brain.Event:2"))
        // Event.step = 300 (field 2, varint 0xAC 0x02), and the Summary.Value's tag and float 0.25.
        let event = records[1]
        XCTAssertTrue(event.windowContains([0x10, 0xAC, 0x02]))
        XCTAssertTrue(event.windowContains(Array("train/loss".utf8)))
        XCTAssertTrue(event.windowContains([0x15] + withUnsafeBytes(of: Float(0.25).bitPattern.littleEndian, Array.init)))
    }
}

private extension Array where Element == UInt8 {
    func windowContains(_ needle: [UInt8]) -> Bool {
        guard needle.count <= count else { return false }
        return (0...(count - needle.count)).contains { Array(self[$0..<$0 + needle.count]) == needle }
    }
}
