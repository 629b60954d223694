import Foundation
import NTrainCore
import NTrainData
import NTrainEngine
import XCTest

/// `ntrain predict` on real MNIST test images written as PGM files, a colour JPEG of another size,
/// and files that cannot be read: the same probabilities as the model on the dataset's tensors,
/// every readable file predicted, exit 1 when any failed.
final class PredictCLITests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws { folder = try CLI.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    static let imageFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("NTrainDataTests/Fixtures")

    /// A LeNet trained briefly on the real MNIST (through a dataset root linking shared/datasets).
    private func trainedCheckpoint() throws -> (String, ExperimentConfig) {
        let root = folder.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("mnist"), withDestinationURL: try CLI.sharedMNIST())
        let config = folder.appendingPathComponent("exp.json")
        try """
        {"name": "predict", "seed": 2,
         "data": {"dataset": "mnist", "root": "\(root.path)", "batch_size": 64, "limit": 2048, "eval_limit": 64,
                  "transforms": [{"normalize": {"mean": [0.1307], "std": [0.3081]}}, {"pad": 2}]},
         "model": {"arch": "lenet"}, "optimizer": {"type": "adam", "lr": 0.003}, "train": {"epochs": 1}}
        """.write(to: config, atomically: true, encoding: .utf8)
        let run = folder.appendingPathComponent("run")
        let r = try CLI.run(["train", config.path, "--out", run.path, "--quiet"], timeout: 120)
        XCTAssertEqual(r.status, 0, r.summary)
        return (run.appendingPathComponent("last.mge").path, try ExperimentConfig.load(contentsOf: config))
    }

    func testPredictMatchesTheModelOnTheDatasetAndReportsBadFiles() throws {
        let (checkpoint, config) = try trainedCheckpoint()
        let images = folder.appendingPathComponent("images/nested")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        // The first ten test images as binary PGM files, exactly as stored.
        let test = try BuiltinDatasets.load(.mnist, split: .test, root: URL(fileURLWithPath: config.data.root!))
        for i in 0..<10 {
            var pgm = Data("P5\n28 28\n255\n".utf8)
            pgm.append(contentsOf: test.images[(i * 784)..<((i + 1) * 784)])
            try pgm.write(to: images.appendingPathComponent(String(format: "digit-%02d.pgm", i)))
        }
        try FileManager.default.copyItem(at: Self.imageFixtures.appendingPathComponent("rgb.jpg"), to: folder.appendingPathComponent("images/photo.jpg"))
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]).write(to: folder.appendingPathComponent("images/broken.png"))
        try Data("not an image".utf8).write(to: folder.appendingPathComponent("images/notes.txt"))  // skipped: not an image extension
        let missing = folder.appendingPathComponent("no-such.png").path

        let r = try CLI.run(["predict", checkpoint, folder.appendingPathComponent("images").path, missing, "--json", "--top", "3"])
        XCTAssertEqual(r.status, 1, "a failed file makes the exit status 1\n" + r.summary)
        let lines = r.stdout.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(lines.count, 13, r.stdout)
        XCTAssertEqual(lines.map { ($0["file"] as! String).replacingOccurrences(of: folder.path + "/", with: "") },
                       ["images/broken.png"] + (0..<10).map { String(format: "images/nested/digit-%02d.pgm", $0) } + ["images/photo.jpg", "no-such.png"])
        XCTAssertTrue((lines[0]["error"] as? String ?? "").contains("broken.png"), "\(lines[0])")
        XCTAssertTrue((lines[12]["error"] as? String ?? "").contains("no-such.png"), "\(lines[12])")
        XCTAssertEqual(lines[11]["adjustments"] as? [String], ["converted RGB to gray", "resized 40x30 to 28x28"])
        XCTAssertEqual((lines[11]["top"] as? [Any])?.count, 3)

        // The same probabilities as the checkpoint's model on the dataset's own eval tensors.
        let model = try CheckpointModel.load(checkpoint)
        var evalConfig = config.data
        evalConfig.evalLimit = 10
        let batch = try DataFactory.make(evalConfig, seed: 2).eval.batch(epoch: 0, index: 0)
        let logits = model.model(batch.inputs).softmax(axis: 1).scalars
        var correct = 0
        for i in 0..<10 {
            let top = lines[1 + i]["top"] as! [[String: Any]]
            let p = Array(logits[(i * 10)..<(i * 10 + 10)])
            let best = p.indices.max { p[$0] < p[$1] }!
            XCTAssertEqual(top[0]["index"] as? Int, best, "image \(i)")
            XCTAssertEqual(top[0]["class"] as? String, String(best))
            XCTAssertEqual(top[0]["probability"] as! Double, Double(p[best]), accuracy: 1e-6)
            XCTAssertGreaterThanOrEqual(top[0]["probability"] as! Double, top[1]["probability"] as! Double)
            if best == Int(test.labels[i]) { correct += 1 }
        }
        XCTAssertGreaterThanOrEqual(correct, 8, "a LeNet trained on 2,048 images gets most of the first ten right")

        // Text mode: one line per file, the failures on stderr with a count.
        let text = try CLI.run(["predict", checkpoint, images.appendingPathComponent("digit-00.pgm").path, missing, "--top", "2"])
        XCTAssertEqual(text.status, 1, text.summary)
        XCTAssertTrue(text.stdout.hasPrefix(images.appendingPathComponent("digit-00.pgm").path + ": 7 "), text.stdout)
        XCTAssertTrue(text.stderr.contains("1 of 2 files could not be predicted"), text.stderr)
    }

    func testPredictRefusesWhatIsNotAnImageCheckpointOrImage() throws {
        let (checkpoint, _) = try trainedCheckpoint()
        let empty = folder.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let none = try CLI.run(["predict", checkpoint, empty.path])
        XCTAssertEqual(none.status, 2, none.summary)
        XCTAssertTrue(none.stderr.contains("no .png, .jpg, .jpeg or .pgm files"), none.stderr)
        let notCheckpoint = try CLI.run(["predict", Self.imageFixtures.appendingPathComponent("rgb.jpg").path, empty.path])
        XCTAssertEqual(notCheckpoint.status, 2, notCheckpoint.summary)
        let badTop = try CLI.run(["predict", checkpoint, empty.path, "--top", "0"])
        XCTAssertEqual(badTop.status, 2, badTop.summary)
    }
}
