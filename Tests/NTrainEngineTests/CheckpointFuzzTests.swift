import Foundation
import NTrainCore
import XCTest
@testable import NTrainEngine

/// Damaged and hostile files: each must give a `CheckpointError` (or, when a header edit happens to
/// keep the file valid, load cleanly); none may crash. Seeds are fixed so failures reproduce.
final class CheckpointFuzzTests: XCTestCase {
    private var base: [UInt8] = []
    private var headerRange: Range<Int> = 0..<0

    override func setUpWithError() throws {
        base = [UInt8](try CheckpointWriter.encode(CheckpointFixtures.sample()))
        let info = try CheckpointReader.info(Data(base))
        headerRange = 24..<(24 + info.headerLength)
    }

    /// Reads `bytes`; returns true when it was rejected with a `CheckpointError`.
    @discardableResult
    private func rejected(_ bytes: [UInt8], _ label: String, line: UInt = #line) -> Bool {
        do {
            _ = try CheckpointReader.read(Data(bytes), file: "fuzz.mge")
            return false
        } catch let e as CheckpointError {
            XCTAssertFalse(e.description.isEmpty, label, line: line)
            return true
        } catch {
            XCTFail("\(label): not a CheckpointError: \(error)", line: line)
            return true
        }
    }

    func testEveryTruncationIsRejected() {
        for length in 0..<base.count {
            XCTAssertTrue(rejected(Array(base[0..<length]), "truncated to \(length)"), "truncated to \(length) loaded")
        }
        // Appended garbage moves the CRC position, so it is rejected too.
        XCTAssertTrue(rejected(base + [0, 1, 2, 3, 4], "appended"))
    }

    func testRandomByteMutationsAreRejected() {
        var rng = RandomGenerator(seed: 2024)
        for trial in 0..<3000 {
            var bytes = base
            let edits = 1 + rng.int(below: 4)
            for _ in 0..<edits {
                bytes[rng.int(below: bytes.count)] ^= UInt8(1 + rng.int(below: 255))
            }
            if bytes == base { continue }  // two edits cancelled out
            XCTAssertTrue(rejected(bytes, "mutation \(trial)"), "mutation \(trial) loaded")
        }
    }

    func testHeaderMutationsWithRepairedFileCRCNeverCrash() {
        var rng = RandomGenerator(seed: 99)
        var rejections = 0
        let alphabet = Array("0123456789-+.eE{}[]\":,ntfaluFIU86432 \\".utf8)
        let trials = 3000
        for _ in 0..<trials {
            var bytes = base
            for _ in 0..<(1 + rng.int(below: 3)) {
                let at = headerRange.lowerBound + rng.int(below: headerRange.count)
                bytes[at] = rng.bernoulli(0.5) ? alphabet[rng.int(below: alphabet.count)] : UInt8(truncatingIfNeeded: rng.next())
            }
            CheckpointFixtures.fixFileCRC(&bytes)
            if rejected(bytes, "header mutation") { rejections += 1 }
        }
        // Most edits to a compact header break it; a few (inside metadata strings) stay valid.
        XCTAssertGreaterThan(rejections, trials / 2)
    }

    func testHostileNumbersInTheHeaderNeverCrash() throws {
        let header = String(decoding: base[headerRange], as: UTF8.self)
        let hostile = [
            "-1", "0", "1", "63", "64", "4294967295", "4294967296", "9223372036854775807", "-9223372036854775808",
            "18446744073709551615", "18446744073709551616", "1e308", "1e999", "0.5", "-0", "null", "\"7\"", "[]", "{}",
        ]
        let pattern = try NSRegularExpression(pattern: "[0-9]+")
        let matches = pattern.matches(in: header, range: NSRange(header.startIndex..., in: header))
        var rng = RandomGenerator(seed: 5)
        var checked = 0
        for match in matches where rng.bernoulli(0.5) {
            for replacement in hostile {
                let edited = (header as NSString).replacingCharacters(in: match.range, with: replacement)
                var bytes = CheckpointFixtures.file(header: edited, data: Array(base[dataRange()]))
                rejected(bytes, "hostile \(replacement)")
                // Also with the header length field itself hostile.
                bytes.replaceSubrange(16..<24, with: withUnsafeBytes(of: rng.next().littleEndian, Array.init))
                CheckpointFixtures.fixFileCRC(&bytes)
                XCTAssertTrue(rejected(bytes, "hostile header length"))
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 100)
    }

    func testDeeplyNestedMetadataIsRejectedNotOverflowed() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let bytes = CheckpointFixtures.file(header: #"{"metadata":{"x":\#(deep)},"tensors":{}}"#, data: [])
        XCTAssertTrue(rejected(bytes, "deep nesting"))
    }

    private func dataRange() -> Range<Int> {
        let dataStart = (headerRange.upperBound + 63) / 64 * 64
        return dataStart..<(base.count - 4)
    }
}
