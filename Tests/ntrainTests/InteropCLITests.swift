import Foundation
import NTrainEngine
import XCTest

/// `ntrain export` and `ntrain train --weights FILE.safetensors` from the command line, and what
/// they do with bad input: a clear message, exit 2, and nothing written.
final class InteropCLITests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws { folder = try CLI.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    private func config(_ model: String, name: String = "exp") throws -> String {
        let url = folder.appendingPathComponent(name + ".json")
        try """
        {"name": "\(name)", "seed": 1,
         "data": {"dataset": "random", "count": 64, "test_count": 16, "shape": [1, 28, 28], "classes": 10, "batch_size": 16,
                  "transforms": [{"scale": 0.00392156862745098}]},
         "model": \(model), "optimizer": {"type": "sgd", "lr": 0.01}, "train": {"epochs": 1}}
        """.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// A trained LeNet-5 checkpoint (random data: fast and self-contained).
    private func checkpoint() throws -> String {
        let run = folder.appendingPathComponent("run")
        let r = try CLI.run(["train", try config(#"{"arch": "lenet5"}"#), "--out", run.path, "--quiet"])
        XCTAssertEqual(r.status, 0, r.summary)
        return run.appendingPathComponent("last.mge").path
    }

    func testExportWritesBothFormatsAndTheWeightsTrainAgain() throws {
        let ckpt = try checkpoint()
        let onnx = try CLI.run(["export", ckpt, "--format", "onnx"])
        XCTAssertEqual(onnx.status, 0, onnx.summary)
        XCTAssertTrue(onnx.stdout.contains("last.onnx"), onnx.stdout)
        XCTAssertTrue(onnx.stdout.contains("opset 17"), onnx.stdout)
        let weights = folder.appendingPathComponent("lenet5.safetensors").path
        let st = try CLI.run(["export", ckpt, "--format", "safetensors", "-o", weights])
        XCTAssertEqual(st.status, 0, st.summary)
        let file = try SafetensorsFile.read(contentsOf: URL(fileURLWithPath: weights))
        XCTAssertEqual(Set(file.entries.map(\.name)), ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias",
                                                      "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"])
        XCTAssertEqual(file.metadata["format"], "pt")
        XCTAssertNotNil(file.metadata["ntrain_config"])

        // Those weights start a new run, which begins from exactly them (a learning rate too small
        // to move a float32 weight keeps them).
        let run = folder.appendingPathComponent("again")
        let again = try CLI.run(["train", try config(#"{"arch": "lenet5"}"#), "--weights", weights, "--out", run.path,
                                 "--set", "optimizer.lr=1e-30"])
        XCTAssertEqual(again.status, 0, again.summary)
        XCTAssertTrue(again.stdout.contains("weights: 10 tensors from") || again.stderr.contains("weights: 10 tensors from"), again.summary)
        let trained = try CheckpointReader.read(contentsOf: run.appendingPathComponent("last.mge"))
        XCTAssertEqual(trained.tensor(named: "model.fc3.bias")?.scalars, SafetensorsFile.floats(of: file.entries.first { $0.name == "fc3.bias" }!))

        // Recognised by its content under any name.
        let renamed = folder.appendingPathComponent("weights.bin")
        try FileManager.default.copyItem(atPath: weights, toPath: renamed.path)
        let byContent = try CLI.run(["train", try config(#"{"arch": "lenet5"}"#), "--weights", renamed.path,
                                     "--out", folder.appendingPathComponent("again2").path, "--quiet"])
        XCTAssertEqual(byContent.status, 0, byContent.summary)
    }

    func testWeightsOfAnotherModelListEveryMismatchAndWriteNothing() throws {
        let ckpt = try checkpoint()
        let weights = folder.appendingPathComponent("lenet5.safetensors").path
        XCTAssertEqual(try CLI.run(["export", ckpt, "--format", "safetensors", "-o", weights]).status, 0)
        let run = folder.appendingPathComponent("mlp-run")
        let r = try CLI.run(["train", try config(#"{"arch": "mlp", "hidden": [120]}"#, name: "mlp"), "--weights", weights, "--out", run.path])
        XCTAssertEqual(r.status, 2, r.summary)
        XCTAssertTrue(r.stderr.contains("does not fit the configured model (arch mlp)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("fc1.weight: expected F32 [120, 784], found F32 [120, 400]"), r.stderr)
        XCTAssertTrue(r.stderr.contains("fc2.weight: expected F32 [10, 120], found F32 [84, 120]"), r.stderr)
        XCTAssertTrue(r.stderr.contains("conv1.weight: expected no such tensor, found F32 [6, 1, 5, 5]"), r.stderr)
        XCTAssertFalse(r.stderr.contains("Fatal") || r.stderr.contains("Stack"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.path), "a failed import must not create the run folder")
    }

    func testTruncatedOrForeignFilesAreRefusedClearly() throws {
        let ckpt = try checkpoint()
        let weights = folder.appendingPathComponent("w.safetensors")
        XCTAssertEqual(try CLI.run(["export", ckpt, "--format", "safetensors", "-o", weights.path]).status, 0)
        let full = try Data(contentsOf: weights)
        try full.prefix(full.count - 100).write(to: weights)
        let run = folder.appendingPathComponent("r")
        let truncated = try CLI.run(["train", try config(#"{"arch": "lenet5"}"#), "--weights", weights.path, "--out", run.path])
        XCTAssertEqual(truncated.status, 2, truncated.summary)
        XCTAssertTrue(truncated.stderr.contains("not a usable safetensors file"), truncated.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.path))

        // A checkpoint that is not one, for export.
        let bogus = folder.appendingPathComponent("bogus.mge")
        try Data("not a checkpoint at all".utf8).write(to: bogus)
        let e = try CLI.run(["export", bogus.path, "--format", "onnx"])
        XCTAssertEqual(e.status, 2, e.summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("bogus.onnx").path))
    }

    func testExportTargetsThatCannotBeWrittenLeaveNothing() throws {
        let ckpt = try checkpoint()
        let missing = try CLI.run(["export", ckpt, "--format", "onnx", "-o", folder.appendingPathComponent("no/such/dir/m.onnx").path])
        XCTAssertEqual(missing.status, 2, missing.summary)
        XCTAssertTrue(missing.stderr.contains("does not exist; create it first"), missing.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("no").path))

        let badFormat = try CLI.run(["export", ckpt, "--format", "tflite"])
        XCTAssertEqual(badFormat.status, 2, badFormat.summary)
        XCTAssertTrue(badFormat.stderr.contains("--format must be onnx or safetensors"), badFormat.stderr)

        // An existing file is replaced whole; a folder target gets the checkpoint's name.
        let out = folder.appendingPathComponent("exports")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        XCTAssertEqual(try CLI.run(["export", ckpt, "--format", "onnx", "-o", out.path]).status, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path), ["last.onnx"], "no temporary file left behind")
    }
}
