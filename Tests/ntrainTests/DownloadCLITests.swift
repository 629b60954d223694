import Foundation
import XCTest

/// `ntrain download` as a process, against the shared MNIST used as a file:// mirror.
final class DownloadCLITests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws { folder = try CLI.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }


    func testDownloadVerifiesThenFindsTheFilesPresent() throws {
        let mirror = try CLI.sharedMNIST()
        let root = folder.appendingPathComponent("data").path
        let env: [String: String?] = ["NTRAIN_MIRROR": nil]
        let first = try CLI.run(["download", "mnist", "--root", root, "--mirror", mirror.absoluteString], environment: env, timeout: 120)
        XCTAssertEqual(first.status, 0, first.summary)
        for name in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/mnist/" + name), name)
        }
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: root + "/mnist").contains { $0.hasSuffix(".part") })
        let again = try CLI.run(["download", "mnist", "--root", root, "--mirror", mirror.absoluteString], environment: env, timeout: 120)
        XCTAssertEqual(again.status, 0, again.summary)
    }

    func testUnknownDatasetAndUnsupportedMirrorExit2() throws {
        let unknown = try CLI.run(["download", "imagenet", "--root", folder.path])
        XCTAssertEqual(unknown.status, 2, unknown.summary)
        XCTAssertTrue(unknown.stderr.contains("imagenet"), unknown.summary)
        let bad = try CLI.run(["download", "mnist", "--root", folder.appendingPathComponent("d").path, "--mirror", "ftp://example/x"])
        XCTAssertEqual(bad.status, 2, bad.summary)
    }
}
