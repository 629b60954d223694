import Foundation
import NTrainCore
import XCTest
@testable import NTrainEngine

final class CheckpointTests: XCTestCase {
    private func assertError(_ bytes: [UInt8], file: String = "x.mge", line: UInt = #line, _ check: (CheckpointError) -> Bool) {
        do {
            _ = try CheckpointReader.read(Data(bytes), file: file)
            XCTFail("expected a CheckpointError", line: line)
        } catch let e as CheckpointError {
            XCTAssertTrue(check(e), "unexpected error: \(e)", line: line)
            XCTAssertTrue(e.description.hasPrefix(file), "message must name the file: \(e)", line: line)
        } catch {
            XCTFail("not a CheckpointError: \(error)", line: line)
        }
    }

    func testRoundTripIsBitExactForAllDTypesAndShapes() throws {
        let original = CheckpointFixtures.sample()
        let folder = try CheckpointFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("last.mge")
        try CheckpointWriter.write(original, to: url)
        let loaded = try CheckpointReader.read(contentsOf: url)

        XCTAssertEqual(loaded.names, original.names, "file order is preserved")
        for ((name, a), (_, b)) in zip(original.tensors, loaded.tensors) {
            XCTAssertEqual(a.shape, b.shape, name)
            XCTAssertEqual(a.dtype, b.dtype, name)
            XCTAssertEqual(CheckpointFixtures.bytes(of: a), CheckpointFixtures.bytes(of: b), name)
        }
        XCTAssertEqual(loaded.metadata, original.metadata)
        XCTAssertEqual(loaded.tensor(named: "optimizer.step")?.shape, [])
        XCTAssertEqual(loaded.tensor(named: "optimizer.step")?.item(), 7)
        XCTAssertEqual(loaded.tensors(withPrefix: "model.").map(\.name), ["conv1.weight", "conv1.bias", "odd", "empty"])
        // No temp files are left behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["last.mge"])
    }

    func testLayoutFollowsTheSpecification() throws {
        let data = [UInt8](try CheckpointWriter.encode(CheckpointFixtures.sample()))
        XCTAssertEqual(Array(data[0..<8]), Array("NTRNMGE1".utf8))
        let info = try CheckpointReader.info(Data(data))
        XCTAssertEqual(info.version, 1)
        XCTAssertEqual(info.dataStart % 64, 0)
        XCTAssertEqual(info.dataStart, (24 + info.headerLength + 63) / 64 * 64)
        XCTAssertTrue(info.entries.allSatisfy { $0.offset % 64 == 0 })
        XCTAssertEqual(info.entries.first(where: { $0.name == "special" })?.dtype, .float32)
        XCTAssertEqual(info.entries.first(where: { $0.name == "counts" })?.length, 56)
        XCTAssertEqual(CheckpointFixtures.crc(Array(data.dropLast(4))), info.fileCRC)
        // Writing is deterministic.
        XCTAssertEqual(data, [UInt8](try CheckpointWriter.encode(CheckpointFixtures.sample())))
    }

    func testEmptyCheckpointRoundTrips() throws {
        let data = try CheckpointWriter.encode(Checkpoint())
        let loaded = try CheckpointReader.read(data)
        XCTAssertTrue(loaded.tensors.isEmpty)
        XCTAssertEqual(loaded.metadata, [:])
    }

    func testWriterRejectsDuplicateAndEmptyNames() {
        let t = Tensor(1)
        XCTAssertThrowsError(try CheckpointWriter.encode(Checkpoint(tensors: [("a", t), ("a", t)]))) {
            XCTAssertTrue("\($0)".contains("appears twice"), "\($0)")
        }
        XCTAssertThrowsError(try CheckpointWriter.encode(Checkpoint(tensors: [("", t)])))
    }

    func testRecognisesMegEngineAndPyTorchFiles() {
        assertError([0x80, 0x04, 0x95, 0x10, 0, 0]) { e in
            if case .foreignFormat(_, let kind) = e { return kind.contains("pickle") && e.description.contains("ntrain reads only its own") }
            return false
        }
        for magic in ["MGBS", "MGBC"] {
            assertError(Array(magic.utf8) + [1, 2, 3, 4, 5, 6, 7, 8]) { e in
                if case .foreignFormat(_, let kind) = e { return kind.contains("MegEngine graph dump") && kind.contains(magic) }
                return false
            }
        }
        assertError([0x50, 0x4B, 0x03, 0x04, 0, 0]) { e in
            if case .foreignFormat(_, let kind) = e { return kind.contains("zip") }
            return false
        }
        // Python's own pickle.dumps at protocols 0 and 1 (a dict, an OrderedDict, a list, a tuple) and an
        // empty zipfile.ZipFile: no header to go by, yet each is named.
        let oldPickles: [[UInt8]] = [
            [40, 100, 112, 48, 10, 86, 97, 10, 112, 49, 10, 73, 49, 10, 115, 46],
            [125, 113, 0, 88, 1, 0, 0, 0, 97, 113, 1, 75, 1, 115, 46],
            Array("ccollections\nOrderedDict\np0\n(tRp1\n.".utf8),
            [93, 113, 0, 40, 75, 1, 75, 2, 101, 46],
            [40, 73, 49, 10, 73, 50, 10, 116, 112, 48, 10, 46],
        ]
        for bytes in oldPickles {
            assertError(bytes) { e in
                if case .foreignFormat(_, let kind) = e { return kind.contains("protocol 0 or 1") }
                return false
            }
        }
        assertError([80, 75, 5, 6] + [UInt8](repeating: 0, count: 18)) { e in
            if case .foreignFormat(_, let kind) = e { return kind.contains("an empty zip archive") }
            return false
        }
        assertError(Array("hello world, this is text".utf8)) { if case .notACheckpoint = $0 { return true } else { return false } }
        assertError([]) { "\($0)".contains("empty") }
    }

    func testHeaderOverTheCapIsRejectedBeforeReading() {
        var bytes = CheckpointFixtures.file(header: #"{"tensors":{},"metadata":{}}"#, data: [], headerLengthField: (16 << 20) + 1)
        assertError(bytes) { e in
            if case .malformed(_, let offset, let problem) = e { return offset == 16 && problem.contains("16 MiB") }
            return false
        }
        // A length that fits the cap but not the file is a truncation.
        bytes = CheckpointFixtures.file(header: #"{"tensors":{},"metadata":{}}"#, data: [], headerLengthField: 1 << 20)
        assertError(bytes) { e in
            if case .malformed(_, _, let problem) = e { return problem.contains("truncated") }
            return false
        }
        // Writing metadata over the cap is refused too.
        let huge = Checkpoint(metadata: ["blob": .string(String(repeating: "x", count: (16 << 20) + 10))])
        XCTAssertThrowsError(try CheckpointWriter.encode(huge)) { XCTAssertTrue("\($0)".contains("16 MiB")) }
    }

    func testOverlappingRangesAreRejected() {
        let payload = [UInt8](repeating: 1, count: 128)
        let c = CheckpointFixtures.crc([UInt8](repeating: 1, count: 64))
        let header = #"{"metadata":{},"tensors":{"a":{"crc32":\#(c),"dtype":"F32","length":64,"offset":0,"shape":[16]},"#
            + #""b":{"crc32":\#(CheckpointFixtures.crc(payload)),"dtype":"U8","length":128,"offset":0,"shape":[128]}}}"#
        assertError(CheckpointFixtures.file(header: header, data: payload)) { e in
            if case .badTensor(_, _, let problem) = e { return problem.contains("overlap") }
            return false
        }
    }

    func testLengthShapeAndBoundsChecks() {
        let data = [UInt8](repeating: 0, count: 64)
        let z = CheckpointFixtures.crc([UInt8](repeating: 0, count: 64))
        func entry(_ fields: String) -> [UInt8] {
            CheckpointFixtures.file(header: #"{"metadata":{},"tensors":{"t":{\#(fields)}}}"#, data: data)
        }
        let cases: [(String, String)] = [
            (#""crc32":\#(z),"dtype":"F32","length":60,"offset":0,"shape":[16]"#, "needs 64"),
            (#""crc32":\#(z),"dtype":"F16","length":64,"offset":0,"shape":[32]"#, "unknown dtype"),
            (#""crc32":\#(z),"dtype":"F32","length":64,"offset":64,"shape":[16]"#, "past the end"),
            (#""crc32":\#(z),"dtype":"U8","length":32,"offset":32,"shape":[32]"#, "multiple of 64"),
            (#""crc32":\#(z),"dtype":"F32","length":64,"offset":0,"shape":[-16]"#, "non-negative"),
            (#""crc32":\#(z),"dtype":"F32","length":64,"offset":0,"shape":[4294967296,4294967296]"#, "too large"),
            (#""crc32":\#(z),"dtype":"I64","length":64,"offset":0,"shape":[1152921504606846976]"#, "too large"),
            (#""crc32":\#(z),"dtype":"F32","length":64,"offset":9223372036854775744,"shape":[16]"#, "past the end"),
            (#""crc32":\#(z),"dtype":"F32","length":64,"offset":0,"shape":[16],"extra":1"#, "unknown field"),
            (#""dtype":"F32","length":64,"offset":0,"shape":[16]"#, "crc32"),
            (#""crc32":1,"dtype":"F32","length":64,"offset":0,"shape":[16]"#, "CRC32 mismatch"),
        ]
        for (fields, expected) in cases {
            assertError(entry(fields)) { "\($0)".contains(expected) }
        }
    }

    func testBadCRCsAreDetected() throws {
        var bytes = [UInt8](try CheckpointWriter.encode(CheckpointFixtures.sample()))
        let info = try CheckpointReader.info(Data(bytes))
        // Flip one bit in a tensor: the file CRC catches it.
        let target = info.dataStart + info.entries[0].offset + 3
        bytes[target] ^= 0x10
        assertError(bytes) { e in
            if case .checksumMismatch(_, let what, _, _) = e { return what.contains("whole file") }
            return false
        }
        // With the file CRC repaired, the tensor's own CRC still catches it and names the tensor.
        CheckpointFixtures.fixFileCRC(&bytes)
        assertError(bytes) { e in
            if case .checksumMismatch(_, let what, _, _) = e { return what.contains(info.entries[0].name) }
            return false
        }
    }

    func testVersionFlagsAndPaddingAreChecked() throws {
        let good = [UInt8](try CheckpointWriter.encode(CheckpointFixtures.sample()))
        var v2 = good
        v2[8] = 2
        CheckpointFixtures.fixFileCRC(&v2)
        assertError(v2) { "\($0)".contains("format version 2") }
        var flags = good
        flags[12] = 1
        CheckpointFixtures.fixFileCRC(&flags)
        assertError(flags) { "\($0)".contains("flags") }
        let info = try CheckpointReader.info(Data(good))
        if 24 + info.headerLength < info.dataStart {
            var pad = good
            pad[info.dataStart - 1] = 7
            CheckpointFixtures.fixFileCRC(&pad)
            assertError(pad) { "\($0)".contains("padding") }
        }
    }

    func testPythonReaderAgrees() throws {
        guard Self.run(["python3", "-c", "pass"]).status == 0 else { throw XCTSkip("python3 not installed") }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/read_mge.py")
        let folder = try CheckpointFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("model.mge")
        var sample = CheckpointFixtures.sample()
        sample.tensors.removeAll { $0.name == "special" }  // NaN/Inf are not JSON
        try CheckpointWriter.write(sample, to: url)

        let (status, output) = Self.run(["python3", script.path, url.path, "--json"])
        XCTAssertEqual(status, 0)
        let parsed = try JSONValue(parsing: output)
        guard case .object(let tensors)? = parsed["tensors"] else { return XCTFail("no tensors in \(parsed)") }
        XCTAssertEqual(Set(tensors.keys), Set(sample.names))
        for (name, tensor) in sample.tensors {
            XCTAssertEqual(tensors[name]?["shape"], .array(tensor.shape.dims.map { .integer(Int64($0)) }), name)
            XCTAssertEqual(tensors[name]?["dtype"], .string(tensor.dtype.shortName), name)
            let values = tensors[name]?["values"]?.arrayValue ?? []
            XCTAssertEqual(values.count, tensor.count, name)
            switch tensor.dtype {
            case .int64:
                XCTAssertEqual(values.map { $0.intValue.map(Int64.init) }, (0..<tensor.count).map { tensor.int64Data[$0] }, name)
            default:
                // Python prints float32 values widened to double: compare exactly after narrowing.
                XCTAssertEqual(values.map { $0.doubleValue.map { Float($0) } }, tensor.scalars.map { Optional($0) }, name)
            }
        }
        XCTAssertEqual(parsed["metadata"], .object(sample.metadata))
    }

    /// Runs a command through `env` (PATH lookup); status 127 when it cannot start.
    private static func run(_ arguments: [String]) -> (status: Int32, output: Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return (127, Data()) }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}
