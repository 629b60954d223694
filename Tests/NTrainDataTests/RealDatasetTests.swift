import Foundation
@testable import NTrainData
import XCTest

/// Downloads and reads the real datasets from local copies (skipped where they are absent).
final class RealDatasetTests: XCTestCase {
    let fast = RetryPolicy(attempts: 2, initialDelay: 0.01, multiplier: 2, maxDelay: 0.05)

    private func checkMNIST(root: URL) throws {
        let train = try BuiltinDatasets.load(.mnist, split: .train, root: root)
        let test = try BuiltinDatasets.load(.mnist, split: .test, root: root)
        XCTAssertEqual(train.count, 60_000)
        XCTAssertEqual(test.count, 10_000)
        XCTAssertEqual([train.channels, train.height, train.width], [1, 28, 28])
        XCTAssertEqual(Array(train.labels.prefix(5)), [5, 0, 4, 1, 9])
        XCTAssertEqual(train.images.count, 60_000 * 784)
    }

    func testMNISTFromFileMirror() throws {
        try TestData.require(TestData.mnist, "MNIST")
        let root = TestData.tempDir(self)
        let log = EventLog()
        let options = DownloadOptions(mirrors: ["file://" + TestData.mnist.path], useSystemCopies: false, useOfficialHosts: false, retry: fast)
        try DatasetDownloader(root: root, options: options, progress: log.add).download(.mnist)
        XCTAssertEqual(log.events.filter { $0 == .verified(file: "train-images-idx3-ubyte.gz", how: "md5") }.count, 1)
        try checkMNIST(root: root)
        // Already complete: a second run only re-verifies.
        let again = EventLog()
        try DatasetDownloader(root: root, options: options, progress: again.add).download(.mnist)
        XCTAssertEqual(again.events.count, 4)
        XCTAssertTrue(again.events.allSatisfy { if case .alreadyPresent = $0 { return true }; return false })
    }

    func testMNISTOverLoopbackHTTPWithMirrorFallThrough() throws {
        try TestData.require(TestData.mnist, "MNIST")
        let server = TestHTTPServer()
        try server.start()
        defer { server.stop() }
        for name in DatasetCatalog.mnist.files.map(\.name) {
            server.serve("/good/mnist/\(name)", try Data(contentsOf: TestData.mnist.appendingPathComponent(name)))
        }
        server.setFault("/good/mnist/train-images-idx3-ubyte.gz", .dropAfter(bytes: 3_000_000, times: 1))
        let root = TestData.tempDir(self)
        let badMirror = TestData.tempDir(self)  // an empty folder: every file is "not found" there
        let options = DownloadOptions(mirrors: [badMirror.path, server.baseURL.appendingPathComponent("good").absoluteString],
                                      useSystemCopies: false, useOfficialHosts: false, retry: fast, timeout: 20)
        try DatasetDownloader(root: root, options: options).download(.mnist)
        // The HTTP mirror was asked at its top level first (404), then in its mnist/ sub-folder.
        let paths = server.requests.map(\.path)
        XCTAssertEqual(paths.first, "/good/train-images-idx3-ubyte.gz")
        XCTAssertTrue(server.requests.contains { $0.range == "bytes=3000000-" })
        try checkMNIST(root: root)
    }

    func testFashionMNISTAcceptedThroughContentChecksum() throws {
        try TestData.require(TestData.fashion, "Debian's dataset-fashion-mnist")
        let root = TestData.tempDir(self)
        let log = EventLog()
        let options = DownloadOptions(mirrors: [], useSystemCopies: true, useOfficialHosts: false, retry: fast)
        try DatasetDownloader(root: root, options: options, progress: log.add).download(.fashionMNIST)
        XCTAssertEqual(log.events.filter { if case .verified(_, "content md5") = $0 { return true }; return false }.count, 4)
        let train = try BuiltinDatasets.load(.fashionMNIST, split: .train, root: root)
        XCTAssertEqual(train.count, 60_000)
        XCTAssertEqual(train.classNames[9], "Ankle boot")
        XCTAssertEqual(try BuiltinDatasets.load(.fashionMNIST, split: .test, root: root).count, 10_000)
    }

    func testCIFARBatchesAndClassNames() throws {
        try TestData.require(TestData.cifar, "CIFAR-10 batches")
        for i in 1...5 {
            let b = try CIFARReader.readBatch(path: TestData.cifar.appendingPathComponent("data_batch_\(i).bin").path)
            XCTAssertEqual(b.labels.count, 10_000)
            XCTAssertEqual(b.images.count, 10_000 * 3072)
            XCTAssertEqual(Set(b.labels), Set(0...9))
        }
        let names = try CIFARReader.readClassNames(path: TestData.cifar.appendingPathComponent("batches.meta.txt").path)
        XCTAssertEqual(names, CIFARReader.defaultClassNames)
    }

    func testCIFARLooseFilesFromMirrorReportMissingTestBatch() throws {
        try TestData.require(TestData.cifar, "CIFAR-10 batches")
        let root = TestData.tempDir(self)
        let options = DownloadOptions(mirrors: [TestData.sharedDatasets.path], useSystemCopies: false, useOfficialHosts: false, retry: fast)
        XCTAssertThrowsError(try DatasetDownloader(root: root, options: options).download(.cifar10)) { error in
            XCTAssertTrue("\(error)".contains("test_batch.bin"), "\(error)")
        }
        // The training batches (verified by md5) and the class names are in place nonetheless.
        let train = try BuiltinDatasets.load(.cifar10, split: .train, root: root)
        XCTAssertEqual(train.count, 50_000)
        XCTAssertEqual(train.classNames.first, "airplane")
        XCTAssertThrowsError(try BuiltinDatasets.load(.cifar10, split: .test, root: root)) { error in
            XCTAssertTrue("\(error)".contains("ntrain download cifar10"), "\(error)")
        }
    }

    func testMissingDatasetSaysHowToFix() {
        XCTAssertThrowsError(try BuiltinDatasets.load(.mnist, split: .train, root: TestData.tempDir(self))) { error in
            XCTAssertTrue("\(error)".contains("ntrain download mnist"), "\(error)")
        }
    }
}
