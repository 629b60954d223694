import Foundation
import NTrainCore
import NTrainEngine
import XCTest

/// `ntrain inspect`, run as a separate process on checkpoints written here.
final class InspectCLITests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws { folder = try CLI.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    /// A small LeNet-like checkpoint with metadata as the trainer writes it.
    private func writeSample(named name: String = "last.mge") throws -> (URL, Checkpoint) {
        var rng = RandomGenerator(seed: 11)
        func floats(_ shape: Shape) -> Tensor {
            let t = Tensor(uninitialized: shape)
            for i in 0..<shape.count { t.data[i] = rng.normal() }
            return t
        }
        let checkpoint = Checkpoint(
            tensors: [
                ("model.conv1.weight", floats([6, 1, 5, 5])),
                ("model.conv1.bias", floats([6])),
                ("model.fc.weight", floats([10, 84])),
                ("optimizer.step", Tensor(42)),
                ("optimizer.empty", Tensor.zeros([0, 3])),
            ],
            metadata: [
                "epoch": 3, "step": 1234, "device": "cpu0", "ntrain_version": .string(NTrainVersion.string),
                "metrics": ["loss": [2.5, 1.25, 0.75], "accuracy": [0.5, 0.75, 0.875]],
                "config": ["name": "lenet-mnist", "model": ["arch": "lenet"], "data": ["dataset": "mnist"]],
                "rng": .array([.unsignedInteger(UInt64.max)]),
            ])
        let url = folder.appendingPathComponent(name)
        try CheckpointWriter.write(checkpoint, to: url)
        return (url, checkpoint)
    }

    func testTextReportShowsHeaderMetadataAndEveryTensor() throws {
        let (url, _) = try writeSample()
        let result = try CLI.run(["inspect", url.path])
        XCTAssertEqual(result.status, 0, result.summary)
        XCTAssertEqual(result.stderr, "")
        let out = result.stdout
        let info = try CheckpointReader.info(contentsOf: url)
        let fileBytes = try Data(contentsOf: url)
        XCTAssertTrue(out.contains(url.path), out)
        XCTAssertTrue(out.contains("NTRNMGE1 version 1"), out)
        XCTAssertTrue(out.contains("\(fileBytes.count) bytes"), out)
        XCTAssertTrue(out.contains("header      \(info.headerLength) bytes"), out)
        // The file CRC as stored in the last four bytes (little-endian).
        let stored = fileBytes.suffix(4).reversed().map { String(format: "%02x", $0) }.joined()
        XCTAssertTrue(out.contains("CRC32 0x\(stored)"), out)
        for line in ["epoch       3", "step        1234", "device      cpu0", "config      lenet-mnist",
                     "model       lenet", "dataset     mnist", "ntrain      \(NTrainVersion.string)", "also        rng"] {
            XCTAssertTrue(out.contains(line), "missing \(line):\n\(out)")
        }
        XCTAssertNotNil(out.range(of: #"accuracy\s+0\.875"#, options: .regularExpression), out)
        XCTAssertNotNil(out.range(of: #"loss\s+0\.75"#, options: .regularExpression), out)
        // One table row per tensor, in file order, with dtype, shape, bytes, CRC and offset.
        let rows = out.split(separator: "\n").filter { $0.hasPrefix("model.") || $0.hasPrefix("optimizer.") }
        XCTAssertEqual(rows.map { String($0.split(separator: " ")[0]) }, info.entries.map(\.name))
        for (row, entry) in zip(rows, info.entries) {
            let cells = row.split(separator: " ").map(String.init)
            XCTAssertEqual(cells[1], entry.dtype.shortName)
            XCTAssertTrue(row.contains("[" + entry.shape.map(String.init).joined(separator: ", ") + "]"), String(row))
            XCTAssertEqual(cells.suffix(3), [String(entry.length), String(format: "0x%08x", entry.crc32), String(entry.offset)])
        }
        XCTAssertTrue(out.contains("model: 3 tensor(s), 996 elements"), out)  // 150 + 6 + 840
    }

    func testJSONReportIsOneObjectMatchingTheFile() throws {
        let (url, checkpoint) = try writeSample()
        let result = try CLI.run(["inspect", url.path, "--json"])
        XCTAssertEqual(result.status, 0, result.summary)
        let object = try CLI.jsonObject(result.stdout)
        let fileBytes = try Data(contentsOf: url)
        let header = try XCTUnwrap(object["header"] as? [String: Any])
        XCTAssertEqual(header["magic"] as? String, "NTRNMGE1")
        XCTAssertEqual(header["version"] as? Int, 1)
        XCTAssertEqual(header["flags"] as? Int, 0)
        XCTAssertEqual(header["file_size"] as? Int, fileBytes.count)
        let dataStart = try XCTUnwrap(header["data_start"] as? Int)
        XCTAssertEqual(dataStart % 64, 0)
        XCTAssertEqual(header["data_size"] as? Int, fileBytes.count - dataStart - 4)
        let headerLength = try XCTUnwrap(header["header_length"] as? Int)
        XCTAssertEqual(fileBytes[16..<24].reversed().reduce(0) { $0 << 8 | Int($1) }, headerLength)
        XCTAssertEqual(header["file_crc32"] as? Int, fileBytes.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) })

        let summary = try XCTUnwrap(object["summary"] as? [String: Any])
        XCTAssertEqual(summary["epoch"] as? Int, 3)
        XCTAssertEqual(summary["step"] as? Int, 1234)
        XCTAssertEqual(summary["device"] as? String, "cpu0")
        XCTAssertEqual(summary["config_name"] as? String, "lenet-mnist")
        let metrics = try XCTUnwrap(summary["last_metrics"] as? [String: Double])
        XCTAssertEqual(metrics, ["loss": 0.75, "accuracy": 0.875])

        let tensors = try XCTUnwrap(object["tensors"] as? [[String: Any]])
        XCTAssertEqual(tensors.compactMap { $0["name"] as? String }, checkpoint.names)
        for (row, (name, tensor)) in zip(tensors, checkpoint.tensors) {
            XCTAssertEqual(row["dtype"] as? String, tensor.dtype.shortName, name)
            XCTAssertEqual(row["shape"] as? [Int], tensor.shape.dims, name)
            XCTAssertEqual(row["bytes"] as? Int, tensor.shape.count * tensor.dtype.byteSize, name)
            XCTAssertEqual((row["offset"] as? Int).map { $0 % 64 }, 0, name)
            // The tensor's bytes in the file hash to the reported CRC (independent check via zlib's table).
            let offset = try XCTUnwrap(row["offset"] as? Int), length = try XCTUnwrap(row["bytes"] as? Int)
            let slice = fileBytes[(dataStart + offset)..<(dataStart + offset + length)]
            XCTAssertEqual(row["crc32"] as? Int, Int(Self.crc32(slice)), name)
        }
        XCTAssertEqual(object["model_elements"] as? Int, 996)
    }

    func testCorruptedFileExitsTwoNamingTheFile() throws {
        let (url, _) = try writeSample(named: "broken.mge")
        var bytes = try Data(contentsOf: url)
        bytes[bytes.count - 40] ^= 0xFF  // inside the data region
        try bytes.write(to: url)
        let result = try CLI.run(["inspect", url.path])
        XCTAssertEqual(result.status, 2, result.summary)
        XCTAssertEqual(result.stdout, "")
        XCTAssertTrue(result.stderr.hasPrefix("error: \(url.path): CRC32 mismatch"), result.stderr)
        assertNoCrashOutput(result)
    }

    func testTruncatedFileExitsTwo() throws {
        let (url, _) = try writeSample(named: "short.mge")
        let bytes = try Data(contentsOf: url)
        try bytes.prefix(bytes.count / 2).write(to: url)
        let result = try CLI.run(["inspect", url.path, "--json"])
        XCTAssertEqual(result.status, 2, result.summary)
        XCTAssertTrue(result.stderr.contains("short.mge"), result.stderr)
        XCTAssertEqual(result.stdout, "")
    }

    func testPickleIsRecognisedAsMegEngineFile() throws {
        let url = folder.appendingPathComponent("model.mge")
        // The start of a protocol-4 pickle, as MegEngine's mge.save writes.
        try Data([0x80, 0x04, 0x95, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x7D, 0x94, 0x8C, 0x05] + Array("model".utf8)).write(to: url)
        let result = try CLI.run(["inspect", url.path])
        XCTAssertEqual(result.status, 2, result.summary)
        XCTAssertTrue(result.stderr.hasPrefix("error: \(url.path): this is a Python pickle"), result.stderr)
        XCTAssertTrue(result.stderr.contains("MegEngine"), result.stderr)
        assertNoCrashOutput(result)
    }

    func testMissingFileAndFolderExitTwo() throws {
        let missing = folder.appendingPathComponent("nope.mge").path
        let result = try CLI.run(["inspect", missing])
        XCTAssertEqual(result.status, 2, result.summary)
        XCTAssertEqual(result.stderr, "error: \(missing): cannot read checkpoint: no such file\n")

        _ = try writeSample(named: "last.mge")
        let folderResult = try CLI.run(["inspect", folder.path])
        XCTAssertEqual(folderResult.status, 2, folderResult.summary)
        XCTAssertTrue(folderResult.stderr.contains("it is a folder; pass a .mge file such as \(folder.path)/last.mge"), folderResult.stderr)
    }

    func testMissingArgumentIsUsageErrorTwo() throws {
        let result = try CLI.run(["inspect"])
        XCTAssertEqual(result.status, 2, result.summary)
        XCTAssertTrue(result.stderr.contains("Missing expected argument"), result.stderr)
    }

    private func assertNoCrashOutput(_ result: CLI.Result, line: UInt = #line) {
        for marker in ["Fatal error", "Stack dump", "Backtrace", "💣"] {
            XCTAssertFalse(result.stderr.contains(marker), result.stderr, line: line)
        }
        XCTAssertEqual(result.stderr.filter { $0 == "\n" }.count, 1, "one line of error: \(result.stderr)", line: line)
    }

    /// Bitwise CRC-32 (IEEE), independent of the zlib code under test.
    private static func crc32(_ bytes: Data) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
        }
        return ~crc
    }
}
