import Foundation
import XCTest
import NTrainCore
@testable import NTrainEngine

/// The safetensors reader and writer: a round trip, and the reference reader's rules on hostile
/// or damaged files (each refused with a message, never a crash or a partial read).
final class SafetensorsFileTests: XCTestCase {
    private func file(_ header: String, data: [UInt8]) -> Data {
        var out = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: Array(header.utf8))
        out.append(contentsOf: data)
        return out
    }

    func testRoundTripKeepsNamesShapesValuesAndMetadata() throws {
        var f = SafetensorsFile(metadata: ["format": "pt", "note": "ü"])
        f.append("a.weight", Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, -6.5]))
        let steps = Tensor.zeros([], dtype: .int64)
        steps.int64Data[0] = 41
        f.append("a.num_batches_tracked", steps)
        let bytes = try f.serialized()
        XCTAssertEqual(Int(bytes[0]) % 8, 0, "the header is padded to 8 bytes")
        let back = try SafetensorsFile.parse(bytes, path: "x")
        // A slice of a larger buffer (its indices do not start at 0) reads the same.
        XCTAssertEqual(try SafetensorsFile.parse((Data([9, 9, 9]) + bytes).dropFirst(3), path: "x").entries, back.entries)
        XCTAssertEqual(back.metadata, f.metadata)
        XCTAssertEqual(back.entries.map(\.name), ["a.weight", "a.num_batches_tracked"])
        XCTAssertEqual(SafetensorsFile.floats(of: back.entries[0]), [1, 2, 3, 4, 5, -6.5])
        XCTAssertEqual(SafetensorsFile.integers(of: back.entries[1]), [41])
        XCTAssertEqual(back.entries[1].shape, [])
    }

    func testOtherFloatTypesConvert() throws {
        // 1.5 as F64, BF16 (0x3FC0) and F16 (0x3E00).
        let f64 = withUnsafeBytes(of: (1.5 as Double).bitPattern.littleEndian) { Array($0) }
        let data = file(#"{"d":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[8,10]},"h":{"dtype":"F16","shape":[1],"data_offsets":[10,12]}}"#,
                        data: f64 + [0xC0, 0x3F, 0x00, 0x3E])
        let parsed = try SafetensorsFile.parse(data, path: "x")
        for e in parsed.entries { XCTAssertEqual(SafetensorsFile.floats(of: e), [1.5], e.dtype) }
    }

    func testDamagedFilesAreRefusedWithTheReason() {
        let cases: [(Data, String)] = [
            (Data([1, 2, 3]), "shorter than the 8-byte header length"),
            (Data(repeating: 0, count: 8), "does not start with a JSON object"),
            (file("{}", data: []).prefix(9), "does not fit the file"),
            (Data([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x7B]), "does not fit the file"),
            (file("[1]", data: []), "does not start with a JSON object"),
            (file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#, data: [0, 0, 0, 0, 0, 0, 0, 0]), "malformed"),
            (file(#"{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}"#, data: [0]), "not a safetensors dtype"),
            (file(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "non-negative"),
            (file(#"{"a":{"dtype":"F32","shape":[4611686018427387904, 4],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "larger than the file"),
            (file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "needs 8 bytes"),
            (file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,40]}}"#, data: [0, 0, 0, 0]), "within the 4 data bytes"),
            (file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}"#, data: [UInt8](repeating: 0, count: 8)), "overlaps"),
            (file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: [UInt8](repeating: 0, count: 8)), "a gap of 4 bytes"),
            (file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: [UInt8](repeating: 0, count: 6)), "2 bytes after the last tensor"),
            (file(#"{"__metadata__":{"k":1}}"#, data: []), "is not a string"),
        ]
        for (data, reason) in cases {
            XCTAssertThrowsError(try SafetensorsFile.parse(data, path: "w.safetensors")) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains("w.safetensors: not a usable safetensors file") && text.contains(reason), "\(reason): \(text)")
            }
        }
    }
}
