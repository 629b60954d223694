import Foundation
import XCTest
import NTrainCore
@testable import NTrainEngine

/// Input that would reach the unchecked kernels, oversized models, and run folders left by
/// killed runs (issue 18): each is refused with a clear error before anything is allocated, or
/// recovered from.
final class HostileInputTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ntrain-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        Interrupt.reset()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private func config(model: String = #"{"arch": "mlp", "hidden": [8]}"#, data: String = "", train: String = "",
                        name: String = "t", epochs: Int = 1, batchSize: String = "8") throws -> ExperimentConfig {
        let text = """
        {"name": "\(name)", "seed": 1,
         "data": {"dataset": "random", "count": 32, "test_count": 16, "shape": [1, 4, 4], "classes": 10, "batch_size": \(batchSize)\(data)},
         "model": \(model), "optimizer": {"type": "sgd", "lr": 0.1},
         "train": {"epochs": \(epochs)\(train)}}
        """
        return try ExperimentConfig.decode(Data(text.utf8), file: "test.json")
    }

    private func run(_ name: String) -> String { folder.appendingPathComponent(name).path }

    private func modelError(_ config: ExperimentConfig, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try Trainer(config: config, options: TrainOptions(out: run(UUID().uuidString)))
            XCTFail("accepted", file: file, line: line)
            return ""
        } catch let error as EngineError {
            XCTAssertEqual(error.exitCode, 2, "\(error)", file: file, line: line)
            return error.description
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
            return ""
        }
    }

    func testFewerOutputsThanClassesIsRefusedNamingBoth() throws {
        let message = modelError(try config(model: #"{"layers": [{"flatten": {}}, {"linear": {"out": 5}}]}"#))
        XCTAssertTrue(message.contains("the model gives 5 outputs per example but the data needs 10 outputs per example (one per class)"), message)
        XCTAssertTrue(message.contains(#"end the layers with {"linear": {"out": 10}} (the last layer is model.layers[1])"#), message)
        // More outputs than classes, and an output that is not flat, are refused too.
        XCTAssertTrue(modelError(try config(model: #"{"layers": [{"flatten": {}}, {"linear": {"out": 11}}]}"#)).contains("gives 11 outputs"))
        let image = modelError(try config(model: #"{"layers": [{"conv2d": {"out": 10, "kernel": 4}}]}"#))
        XCTAssertTrue(image.contains("output shape [1, 10, 1, 1] per example"), image)
        // Exactly the classes: accepted.
        XCTAssertNoThrow(try Trainer(config: try config(model: #"{"layers": [{"flatten": {}}, {"linear": {"out": 10}}]}"#),
                                     options: TrainOptions(out: run("ok"))))
    }

    func testOversizedModelsAreConfigErrorsBeforeAllocation() throws {
        // 2 × 50,000² weights: ~37 GiB with gradients and optimizer state, on a 24 GiB machine.
        let wide = modelError(try config(model: #"{"arch": "mlp", "hidden": [50000, 50000]}"#))
        XCTAssertTrue(wide.contains("training this model needs about"), wide)
        XCTAssertTrue(wide.contains("model.hidden[1] (linear, 2,500,050,000 parameters"), wide)
        XCTAssertTrue(wide.contains("set train.memory_limit (GiB) to change it"), wide)
        // The limit is the user's to set, and names its source.
        let limited = modelError(try config(model: #"{"arch": "mlp", "hidden": [4096]}"#, train: #", "memory_limit": 0.001"#))
        XCTAssertTrue(limited.contains("over the limit of 1 MiB (train.memory_limit)"), limited)
        XCTAssertTrue(limited.contains("model.hidden[0]"), limited)
        // 1,000,000 conv channels: refused by the schema's size limit (a config error with the path).
        XCTAssertThrowsError(try config(model: #"{"layers": [{"conv2d": {"out": 1000000, "kernel": 3}}]}"#)) { error in
            XCTAssertTrue("\(error)".contains("model.layers[0].conv2d.out: must be in [1, 65536], got 1000000"), "\(error)")
        }
        for (json, path) in [(#"{"arch": "mlp", "hidden": [1000000000]}"#, "model.hidden[0]"),
                             (#"{"layers": [{"linear": {"out": 2147483648}}]}"#, "model.layers[0].linear.out")] {
            XCTAssertThrowsError(try config(model: json)) { XCTAssertTrue("\($0)".contains(path + ": must be in [1, 16777216]"), "\($0)") }
        }
        XCTAssertThrowsError(try config(batchSize: "1099511627776")) {
            XCTAssertTrue("\($0)".contains("data.batch_size: must be in [1, 1048576]"), "\($0)")
        }
        XCTAssertThrowsError(try config(data: #", "eval_batch_size": 1000000000"#)) {
            XCTAssertTrue("\($0)".contains("data.eval_batch_size: must be in [1, 1048576]"), "\($0)")
        }
    }

    func testMemoryEstimateCountsWeightsOptimizerStateAndActivations() throws {
        let model = try config(model: #"{"layers": [{"conv2d": {"out": 6, "kernel": 3, "padding": 1}}, {"max_pool2d": {"kernel": 2}}, {"flatten": {}}, {"linear": {"out": 10}}]}"#).model
        let estimate = try XCTUnwrap(ModelMemoryEstimate.of(model, input: Shape([1, 4, 4]), outputs: 10, batchSize: 8))
        XCTAssertEqual(estimate.layers.map(\.parameters), [60, 0, 0, 250] as [Double])
        XCTAssertEqual(estimate.layers.map(\.outputElements), [96, 24, 24, 10] as [Double])
        // 4 bytes × (4 × parameters + 2 × batch × outputs).
        let parameters: Double = 310, outputs: Double = 96 + 24 + 24 + 10
        XCTAssertEqual(estimate.bytes, 4 * (4 * parameters + 2 * 8 * outputs))
        // The real model has the parameters the estimate counted.
        let trainer = try Trainer(config: try config(model: #"{"layers": [{"conv2d": {"out": 6, "kernel": 3, "padding": 1}}, {"max_pool2d": {"kernel": 2}}, {"flatten": {}}, {"linear": {"out": 10}}]}"#),
                                  options: TrainOptions(out: run("m")))
        XCTAssertEqual(Double(trainer.model.parameterCount), trainer.memoryEstimate?.parameters)
    }

    /// Found by ConfigFuzzTests: both reached kernels that index or divide unchecked.
    func testBatchNormWithOneValuePerChannelAndSoftmaxAxesOutOfRangeAreRefused() throws {
        let bn = #"{"layers": [{"flatten": {}}, {"linear": {"out": 6}}, {"batch_norm1d": {}}, {"linear": {"out": 10}}]}"#
        let single = modelError(try config(model: bn, batchSize: "1"))
        XCTAssertTrue(single.contains("model.layers[2] (batch norm) would see 1 value per channel in a training batch of 1"), single)
        // 32 examples at batch 31: the last batch holds one.
        let last = modelError(try config(model: bn, batchSize: "31"))
        XCTAssertTrue(last.contains("the last training batch of each epoch (1 of 32 examples)"), last)
        XCTAssertTrue(last.contains("set data.drop_last to true"), last)
        XCTAssertNoThrow(try Trainer(config: try config(model: bn, data: #", "drop_last": true"#, batchSize: "31"),
                                     options: TrainOptions(out: run("bn"))))
        let axis = modelError(try config(model: #"{"layers": [{"flatten": {}}, {"linear": {"out": 10}}, {"softmax": {"axis": 5}}]}"#))
        XCTAssertTrue(axis.contains("axis 5 is out of range for input [1, 10]"), axis)
        XCTAssertNoThrow(try Trainer(config: try config(model: #"{"layers": [{"flatten": {}}, {"linear": {"out": 10}}, {"log_softmax": {"axis": -2}}]}"#),
                                     options: TrainOptions(out: run("axis"))))
    }

    func testTheDefaultLimitHonoursACgroupMemoryLimit() throws {
        func limit(_ text: String) throws -> Double? {
            let file = folder.appendingPathComponent("memory.max")
            try text.write(to: file, atomically: true, encoding: .utf8)
            return ModelMemoryEstimate.cgroupMemoryLimit(files: [folder.appendingPathComponent("absent").path, file.path])
        }
        XCTAssertEqual(try limit("2147483648\n"), 2_147_483_648)
        XCTAssertNil(try limit("max\n"), "cgroup v2: no limit")
        XCTAssertNil(try limit("9223372036854771712\n"), "cgroup v1: no limit")
        XCTAssertLessThanOrEqual(ModelMemoryEstimate.defaultLimitBytes, 0.8 * Double(ProcessInfo.processInfo.physicalMemory))
    }

    func testRunNamesAreOneSafePathComponent() throws {
        for (name, fragment) in [("../../escape", "contains a path separator"), ("a/b", "path separator"), ("..", "is not a folder name"),
                                 ("", "is empty"), (String(repeating: "x", count: 101), "over the 100-byte limit"),
                                 ("tab\\tname", "control characters")] {
            XCTAssertThrowsError(try config(name: name), name) { error in
                XCTAssertTrue("\(error)".contains("name: "), "\(error)")
                XCTAssertTrue("\(error)".contains(fragment), "\(name): \(error)")
            }
        }
        XCTAssertNoThrow(try config(name: "lenet-try2.v1_b"))
        XCTAssertNoThrow(try config(name: String(repeating: "x", count: 100)))
    }

    /// Trains one epoch into `name` and returns the run folder.
    private func trainedRun(_ name: String, epochs: Int = 1) throws -> URL {
        let trainer = try Trainer(config: try config(epochs: epochs), options: TrainOptions(out: run(name)))
        _ = try trainer.run()
        return URL(fileURLWithPath: run(name))
    }

    final class Notes: TrainingObserver {
        var notes: [String] = []
        func trainingStarted(_ start: TrainingStart) {}
        func stepFinished(_ progress: StepProgress) {}
        func epochFinished(_ record: EpochRecord, evaluation: EvaluationResult?, epochs: Int) {}
        func note(_ message: String) { notes.append(message) }
    }

    func testResumeTakesTheNewestValidCheckpointWhenLastIsMissingOrTorn() throws {
        let folder = try trainedRun("a", epochs: 2)
        let last = folder.appendingPathComponent("last.mge")
        let epoch1 = folder.appendingPathComponent("checkpoints/epoch-0002.mge")
        XCTAssertTrue(FileManager.default.fileExists(atPath: epoch1.path))
        // Killed between checkpoints/epoch-0002.mge and last.mge: last.mge missing (or one epoch old).
        try FileManager.default.removeItem(at: last)
        let notes = Notes()
        let resumed = try Trainer(config: nil, options: TrainOptions(resume: folder.path, epochs: 3), observer: notes)
        XCTAssertEqual(resumed.progress.epoch, 2)
        XCTAssertTrue(notes.notes.contains { $0.contains("resuming from \(epoch1.path), the newest valid checkpoint") && $0.contains("last.mge is missing") },
                      "\(notes.notes)")
        XCTAssertEqual(try resumed.run().ending, .completed)

        // A torn last.mge (truncated by a full disk) is skipped the same way, and said so.
        let data = try Data(contentsOf: last)
        try data.prefix(data.count / 2).write(to: last)
        let notes2 = Notes()
        let again = try Trainer(config: nil, options: TrainOptions(resume: folder.path, epochs: 4), observer: notes2)
        XCTAssertEqual(again.progress.epoch, 3, "epoch-0003.mge is the newest valid one")
        XCTAssertTrue(notes2.notes.contains { $0.contains("last.mge is unreadable") }, "\(notes2.notes)")
    }

    func testRunKilledBeforeItsFirstCheckpointRestartsInPlace() throws {
        // What a kill before the first epoch ends leaves: the run folder's own files, no checkpoint,
        // and the temporary file of an interrupted checkpoint write.
        let first = try Trainer(config: try config(), options: TrainOptions(out: run("k")))
        let folder = first.runDirectory.url
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("config.json").path))
        let stale = folder.appendingPathComponent(".last.mge.tmp-999999999-12345")
        try Data(repeating: 7, count: 1000).write(to: stale)
        let notes = Notes()
        let restarted = try Trainer(config: nil, options: TrainOptions(resume: folder.path), observer: notes)
        XCTAssertEqual(restarted.runDirectory.url.path, folder.path)
        XCTAssertEqual(restarted.progress.step, 0)
        XCTAssertTrue(notes.notes.contains { $0.contains("has no checkpoint yet") && $0.contains("starting it again from its config.json") }, "\(notes.notes)")
        XCTAssertTrue(notes.notes.contains { $0.contains("removed 1 temporary file(s)") && $0.contains(".last.mge.tmp-999999999-12345") }, "\(notes.notes)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale.path))
        XCTAssertEqual(try restarted.run().ending, .completed)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("last.mge").path))

        // A temporary file whose writer still runs (this test's own process) is left alone.
        let live = folder.appendingPathComponent(".best.mge.tmp-1-1")
        XCTAssertTrue(RunFiles.writerIsAlive(live.lastPathComponent), "pid 1 runs")
        XCTAssertFalse(RunFiles.writerIsAlive(".x.tmp-999999999-1"))

        // A folder that is not a run at all is still refused.
        let empty = URL(fileURLWithPath: run("empty"))
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        XCTAssertThrowsError(try Trainer(config: nil, options: TrainOptions(resume: empty.path))) {
            XCTAssertTrue("\($0)".contains("holds no checkpoint"), "\($0)")
        }
    }

    func testEvalWarnsAboutNonFiniteWeights() throws {
        let folder = try trainedRun("n")
        let checkpointURL = folder.appendingPathComponent("last.mge")
        var checkpoint = try CheckpointReader.read(contentsOf: checkpointURL)
        for (i, entry) in checkpoint.tensors.enumerated() where entry.name.hasSuffix("weight") && entry.name.hasPrefix("model.") {
            let t = entry.tensor
            for j in 0..<t.count { t.data[j] = .nan }
            checkpoint.tensors[i].tensor = t
            break
        }
        let poisoned = folder.appendingPathComponent("nan.mge")
        try CheckpointWriter.write(checkpoint, to: poisoned)
        var logged: [String] = []
        let result = try CheckpointEvaluation.run(checkpoint: poisoned.path) { logged.append($0) }
        XCTAssertTrue(logged.contains { $0.hasPrefix("warning: the checkpoint holds ") && $0.contains("NaN/Inf weight value(s)") }, "\(logged)")
        XCTAssertTrue(result.notes.contains { $0.contains("evaluate an earlier checkpoint") }, "\(result.notes)")
        let clean = try CheckpointEvaluation.run(checkpoint: checkpointURL.path) { logged.append($0) }
        XCTAssertFalse(clean.notes.contains { $0.contains("NaN/Inf") })
    }
}
