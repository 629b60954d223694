import Foundation
import NTrainData
import XCTest

enum TestData {
    /// `shared/datasets` beside the repository: the main checkout's parent folder holds `shared/`
    /// (worktrees one level deeper find it at ../../shared from the repo root), so walk up from here.
    static let sharedDatasets: URL = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()  // the repository root
        for _ in 0..<3 {
            dir = dir.deletingLastPathComponent()
            let candidate = dir.appendingPathComponent("shared/datasets", isDirectory: true)
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
        }
        return dir.appendingPathComponent("shared/datasets", isDirectory: true)
    }()
    static let mnist = sharedDatasets.appendingPathComponent("mnist", isDirectory: true)
    static let cifar = sharedDatasets.appendingPathComponent("cifar-10-batches-bin", isDirectory: true)
    static let fashion = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist", isDirectory: true)

    static func require(_ url: URL, _ what: String) throws {
        if !FileManager.default.fileExists(atPath: url.path) {
            throw XCTSkip("\(what) not found at \(url.path); this test needs the real dataset")
        }
    }

    /// A fresh temporary folder, removed when the test ends.
    static func tempDir(_ test: XCTestCase) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ntrain-data-\(UUID().uuidString)", isDirectory: true)
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// An IDX ubyte file: magic 0x0000 08 rank, dims big-endian, then values.
    static func idx(dims: [Int], values: [UInt8]) -> Data {
        var d = Data([0, 0, 8, UInt8(dims.count)])
        for v in dims { d += [UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }
        return d + Data(values)
    }

    /// A ustar archive of `(name, type, content)` members (type "0" regular, "2" symlink, ...).
    static func tar(_ members: [(name: String, type: Character, content: Data)]) -> Data {
        var out = Data()
        for m in members {
            var h = [UInt8](repeating: 0, count: 512)
            func put(_ s: String, _ off: Int, _ len: Int) {
                for (i, b) in s.utf8.prefix(len).enumerated() { h[off + i] = b }
            }
            put(m.name, 0, 100)
            put("0000644", 100, 8)
            put("0000000", 108, 8)
            put("0000000", 116, 8)
            put(String(format: "%011o", m.content.count), 124, 12)
            put("00000000000", 136, 12)
            h[156] = m.type.asciiValue!
            if m.type == "2" || m.type == "1" { put("/etc/passwd", 157, 100) }
            put("ustar", 257, 6)
            put("00", 263, 2)
            for i in 148..<156 { h[i] = 32 }
            let sum = h.reduce(0) { $0 + Int($1) }
            put(String(format: "%06o", sum), 148, 6)
            h[154] = 0
            out += h
            out += m.content
            let pad = (512 - m.content.count % 512) % 512
            out += Data(count: pad)
        }
        return out + Data(count: 1024)
    }

    /// A PNG written by hand (so the decoder is checked against an independent encoder).
    static func png(width: Int, height: Int, colorType: UInt8, bitDepth: UInt8 = 8, interleaved: [UInt8]) -> Data {
        func chunk(_ type: String, _ body: Data) -> Data {
            var d = Data()
            d += withUnsafeBytes(of: UInt32(body.count).bigEndian) { Data($0) }
            let typed = Data(type.utf8) + body
            d += typed
            d += withUnsafeBytes(of: CRC32.checksum(typed).bigEndian) { Data($0) }
            return d
        }
        var ihdr = Data()
        ihdr += withUnsafeBytes(of: UInt32(width).bigEndian) { Data($0) }
        ihdr += withUnsafeBytes(of: UInt32(height).bigEndian) { Data($0) }
        ihdr += [bitDepth, colorType, 0, 0, 0]
        let channels = colorType == 2 ? 3 : colorType == 6 ? 4 : colorType == 4 ? 2 : 1
        let rowBytes = width * channels * Int(bitDepth) / 8
        var raw = Data()
        for y in 0..<height {
            raw.append(0)  // filter: none
            raw += interleaved[y * rowBytes..<(y + 1) * rowBytes]
        }
        return Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + chunk("IHDR", ihdr)
            + chunk("IDAT", Gzip.compress(raw, zlibFormat: true)) + chunk("IEND", Data())
    }
}

/// Collects download events (thread-safe: URLSession calls back on its own queue).
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [DownloadEvent] = []
    func add(_ e: DownloadEvent) { lock.lock(); items.append(e); lock.unlock() }
    var events: [DownloadEvent] { lock.lock(); defer { lock.unlock() }; return items }
}
