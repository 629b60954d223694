import Foundation
import NTrainCore
@testable import NTrainEngine

/// Shared fixtures for the checkpoint tests.
enum CheckpointFixtures {
    /// A checkpoint with every dtype, odd shapes, an empty tensor and a scalar, filled from `seed`.
    static func sample(seed: UInt64 = 7) -> Checkpoint {
        var rng = RandomGenerator(seed: seed)
        func floats(_ shape: Shape) -> Tensor {
            let t = Tensor(uninitialized: shape)
            for i in 0..<shape.count { t.data[i] = rng.normal() }
            return t
        }
        let ints = Tensor(uninitialized: [3, 5], dtype: .int32)
        for i in 0..<15 { ints.int32Data[i] = Int32(truncatingIfNeeded: rng.next()) }
        let longs = Tensor(uninitialized: [7], dtype: .int64)
        for i in 0..<7 { longs.int64Data[i] = Int64(bitPattern: rng.next()) }
        let bytes = Tensor(uninitialized: [2, 3, 11], dtype: .uint8)
        for i in 0..<66 { bytes.uint8Data[i] = UInt8(truncatingIfNeeded: rng.next()) }
        // Special float values must survive bit-exactly.
        let special = Tensor(shape: [6], scalars: [.nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude])
        return Checkpoint(
            tensors: [
                ("model.conv1.weight", floats([6, 1, 5, 5])),
                ("model.conv1.bias", floats([6])),
                ("model.odd", floats([3, 1, 7, 13])),
                ("optimizer.step", Tensor(7)),
                ("model.empty", Tensor.zeros([0, 4])),
                ("labels", ints),
                ("counts", longs),
                ("pixels", bytes),
                ("special", special),
            ],
            metadata: [
                "epoch": 3, "step": 1234, "device": "cpu0", "ntrain_version": .string(NTrainVersion.string),
                "rng": .array([.unsignedInteger(UInt64.max), .integer(-5)]),
                "metrics": ["loss": [2.5, 1.25, 0.75], "accuracy": [0.5, 0.75]],
                "config": ["name": "lenet-mnist", "nested": ["unicode": "λ ✓ \"q\"\n"]],
            ])
    }

    /// Raw little-endian bytes of a tensor, for bit-exact comparison.
    static func bytes(of t: Tensor) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: t.storage.bytes, count: t.byteCount))
    }

    /// A scratch folder; the caller removes it.
    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ntrain-ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Rewrites the trailing file CRC so that a deliberately edited file passes that check.
    static func fixFileCRC(_ data: inout [UInt8]) {
        guard data.count >= 4 else { return }
        let crc = data.withUnsafeBytes { CheckpointFormat.crc32($0.baseAddress, count: data.count - 4) }
        withUnsafeBytes(of: crc.littleEndian) { data.replaceSubrange(data.count - 4..<data.count, with: $0) }
    }

    /// Builds a file from a JSON header and a data region, with correct padding and file CRC.
    static func file(header: String, data: [UInt8], headerLengthField: UInt64? = nil) -> [UInt8] {
        var out = Array("NTRNMGE1".utf8)
        let h = Array(header.utf8)
        withUnsafeBytes(of: UInt32(1).littleEndian) { out += $0 }
        withUnsafeBytes(of: UInt32(0).littleEndian) { out += $0 }
        withUnsafeBytes(of: (headerLengthField ?? UInt64(h.count)).littleEndian) { out += $0 }
        out += h
        while out.count % 64 != 0 { out.append(0) }
        out += data
        out += [0, 0, 0, 0]
        fixFileCRC(&out)
        return out
    }

    static func crc(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { CheckpointFormat.crc32($0.baseAddress, count: bytes.count) }
    }
}
