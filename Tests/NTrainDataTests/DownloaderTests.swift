import Foundation
@testable import NTrainData
import XCTest

final class DownloaderTests: XCTestCase {
    var server: TestHTTPServer!
    let payload = Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) })
    var file: KnownFile { KnownFile(name: "blob.bin", md5: MD5Hasher.hex(of: payload)) }
    let fast = RetryPolicy(attempts: 3, initialDelay: 0.01, multiplier: 2, maxDelay: 0.05)

    override func setUpWithError() throws {
        server = TestHTTPServer()
        try server.start()
        server.serve("/a/blob.bin", payload)
        server.serve("/b/blob.bin", payload)
    }

    override func tearDown() { server.stop() }

    func testPlain200DownloadVerifiesAndRenames() throws {
        let dir = TestData.tempDir(self)
        let log = EventLog()
        let d = Downloader(retry: fast, timeout: 10, progress: log.add)
        let from = try d.fetch(file, into: dir, from: [server.baseURL.appendingPathComponent("a/blob.bin")])
        XCTAssertEqual(from?.path, "/a/blob.bin")
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("blob.bin")), payload)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("blob.bin.part").path))
        XCTAssertTrue(log.events.contains(.verified(file: "blob.bin", how: "md5")))
        XCTAssertTrue(log.events.contains { if case .progress(_, 200_000, _) = $0 { return true }; return false })
        // A second call finds the verified copy and fetches nothing.
        server.clearLog()
        XCTAssertNil(try d.fetch(file, into: dir, from: [server.baseURL.appendingPathComponent("a/blob.bin")]))
        XCTAssertTrue(server.requests.isEmpty)
    }

    func test404FallsThroughToNextMirrorInOrder() throws {
        let dir = TestData.tempDir(self)
        server.setFault("/a/blob.bin", .notFound)
        let d = Downloader(retry: fast, timeout: 10)
        let urls = ["a/blob.bin", "missing/blob.bin", "b/blob.bin"].map { server.baseURL.appendingPathComponent($0) }
        let from = try d.fetch(file, into: dir, from: urls)
        XCTAssertEqual(from?.path, "/b/blob.bin")
        XCTAssertEqual(server.requests.map(\.path), ["/a/blob.bin", "/missing/blob.bin", "/b/blob.bin"])
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("blob.bin")), payload)
    }

    func testAll404FailsWithoutFinalFile() throws {
        let dir = TestData.tempDir(self)
        let d = Downloader(retry: fast, timeout: 10)
        XCTAssertThrowsError(try d.fetch(file, into: dir, from: [server.baseURL.appendingPathComponent("nope/blob.bin")])) { error in
            guard case DownloadError.allSourcesFailed(let name, let attempts)? = error as? DownloadError else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "blob.bin")
            XCTAssertTrue(attempts[0].contains("not found"), attempts[0])
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("blob.bin").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("blob.bin.part").path), "an empty .part is left behind")
    }

    func testAFullDiskIsReportedAsSuchNotAsTheNetwork() throws {
        let dir = TestData.tempDir(self)
        // A real write failure: the file-size limit makes write(2) fail with EFBIG at 50,000 bytes,
        // as a full disk makes it fail with ENOSPC (SIGXFSZ ignored, so the write returns the error).
        var old = rlimit()
        getrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
        let previousHandler = signal(SIGXFSZ, SIG_IGN)
        var limit = rlimit(rlim_cur: 50_000, rlim_max: old.rlim_max)
        XCTAssertEqual(setrlimit(Int32(RLIMIT_FSIZE.rawValue), &limit), 0)
        defer {
            setrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
            signal(SIGXFSZ, previousHandler)
        }
        let d = Downloader(retry: fast, timeout: 10)
        XCTAssertThrowsError(try d.fetch(file, into: dir, from: [server.baseURL.appendingPathComponent("a/blob.bin"),
                                                                 server.baseURL.appendingPathComponent("b/blob.bin")])) { error in
            guard case DownloadError.io(let path, let reason)? = error as? DownloadError else { return XCTFail("\(error)") }
            XCTAssertTrue(path.hasSuffix("blob.bin.part"), path)
            XCTAssertTrue(reason.contains("File too large"), reason)
            XCTAssertTrue(reason.contains("free some disk space"), reason)
            XCTAssertFalse("\(error)".contains("network"), "\(error)")
        }
        XCTAssertEqual(server.requests.map(\.path), ["/a/blob.bin"], "a local write failure is not retried elsewhere")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("blob.bin.part").path))
    }

    func testDroppedConnectionResumesWithRange() throws {
        let dir = TestData.tempDir(self)
        server.setFault("/a/blob.bin", .dropAfter(bytes: 70_000, times: 1))
        let log = EventLog()
        let d = Downloader(retry: fast, timeout: 10, progress: log.add)
        try d.fetch(file, into: dir, from: [server.baseURL.appendingPathComponent("a/blob.bin")])
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("blob.bin")), payload)
        let reqs = server.requests
        XCTAssertEqual(reqs.count, 2)
        XCTAssertNil(reqs[0].range)
        XCTAssertEqual(reqs[1].range, "bytes=70000-")
        XCTAssertTrue(log.events.contains { if case .started(_, _, 70_000, _) = $0 { return true }; return false })
        XCTAssertTrue(log.events.contains { if case .retrying = $0 { return true }; return false })
    }

    func testServerIgnoringRangeRestartsFromZero() throws {
        let dir = TestData.tempDir(self)
        // A stale partial file with wrong bytes, and a server that answers 200 to the Range request.
        try Data(repeating: 0xEE, count: 50_000).write(to: dir.appendingPathComponent("blob.bin.part"))
        server.setFault("/a/blob.bin", .ignoreRange)
        try Downloader(retry: fast, timeout: 10).fetch(file, into: dir, from: [server.baseURL.appendingPathComponent("a/blob.bin")])
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("blob.bin")), payload)
        // One request, with the Range: a 200 answer rewrites the part, no second try is needed.
        XCTAssertEqual(server.requests.map(\.range), ["bytes=50000-"])
    }

    func testStalePartWithWrongBytesIsRestartedCleanly() throws {
        let dir = TestData.tempDir(self)
        try Data(repeating: 0xEE, count: 50_000).write(to: dir.appendingPathComponent("blob.bin.part"))
        try Downloader(retry: fast, timeout: 10).fetch(file, into: dir, from: [server.baseURL.appendingPathComponent("a/blob.bin")])
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("blob.bin")), payload)
        XCTAssertEqual(server.requests.map(\.range), ["bytes=50000-", nil])
    }

    func testTransient503IsRetried() throws {
        let dir = TestData.tempDir(self)
        server.setFault("/a/blob.bin", .unavailable(times: 2))
        try Downloader(retry: fast, timeout: 10).fetch(file, into: dir, from: [server.baseURL.appendingPathComponent("a/blob.bin")])
        XCTAssertEqual(server.requests.count, 3)
    }

    func testWrongChecksumIsRejectedAndGoodFileKept() throws {
        let dir = TestData.tempDir(self)
        let final = dir.appendingPathComponent("blob.bin")
        server.setFault("/a/blob.bin", .wrongContent(Data(repeating: 1, count: 1000)))
        let d = Downloader(retry: fast, timeout: 10)
        XCTAssertThrowsError(try d.fetch(file, into: dir, from: [server.baseURL.appendingPathComponent("a/blob.bin")])) { error in
            XCTAssertTrue("\(error)".contains("checksum mismatch"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: final.path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: final.path + ".part"))
        // With a good copy in place, a forced download of bad bytes leaves the good copy alone.
        try payload.write(to: final)
        XCTAssertThrowsError(try d.fetch(file, into: dir, from: [server.baseURL.appendingPathComponent("a/blob.bin")], force: true))
        XCTAssertEqual(try Data(contentsOf: final), payload)
    }

    func testForceRedownloadsAndReplaces() throws {
        let dir = TestData.tempDir(self)
        let d = Downloader(retry: fast, timeout: 10)
        try d.fetch(file, into: dir, from: [server.baseURL.appendingPathComponent("a/blob.bin")])
        server.clearLog()
        try d.fetch(file, into: dir, from: [server.baseURL.appendingPathComponent("b/blob.bin")], force: true)
        XCTAssertEqual(server.requests.map(\.path), ["/b/blob.bin"])
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("blob.bin")), payload)
    }

    func testCorruptExistingFileIsReplacedOnlyByVerifiedCopy() throws {
        let dir = TestData.tempDir(self)
        try Data("corrupt".utf8).write(to: dir.appendingPathComponent("blob.bin"))
        try Downloader(retry: fast, timeout: 10).fetch(file, into: dir, from: [server.baseURL.appendingPathComponent("a/blob.bin")])
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("blob.bin")), payload)
    }

    func testMirrorParsing() throws {
        let dir = TestData.tempDir(self)
        XCTAssertEqual(try DatasetDownloader.mirrorURL("http://h/x").absoluteString, "http://h/x/")
        XCTAssertEqual(try DatasetDownloader.mirrorURL(dir.path).path, dir.path)
        XCTAssertTrue(try DatasetDownloader.mirrorURL("file://" + dir.path).isFileURL)
        XCTAssertThrowsError(try DatasetDownloader.mirrorURL("ftp://h/x"))
        XCTAssertThrowsError(try DatasetDownloader.mirrorURL("/no/such/folder"))
        XCTAssertEqual(DownloadOptions.mirrors(["b"], environment: ["NTRAIN_MIRROR": "a"]), ["a", "b"])
        XCTAssertEqual(DownloadOptions.mirrors(["b"], environment: [:]), ["b"])
    }

    func testRootResolution() {
        XCTAssertEqual(DatasetRoot.resolve(explicit: "/x", environment: ["NTRAIN_DATA": "/y"]).path, "/x")
        XCTAssertEqual(DatasetRoot.resolve(explicit: nil, environment: ["NTRAIN_DATA": "/y", "HOME": "/h"]).path, "/y")
        XCTAssertEqual(DatasetRoot.resolve(explicit: nil, environment: ["HOME": "/h"]).path, "/h/.cache/ntrain/datasets")
    }
}
