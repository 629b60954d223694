import Foundation
import NTrainCore
import XCTest
@testable import NTrainEngine

final class CheckpointInspectorTests: XCTestCase {
    func testMetadataSummaryReadsEveryHistoryShape() {
        // Per-metric histories (the last value of each).
        var s = CheckpointMetadataSummary(["metrics": ["loss": [2.0, 1.0, .null], "accuracy": [0.5, 0.25]]])
        XCTAssertEqual(s.lastMetrics.map(\.name), ["accuracy", "loss"])
        XCTAssertEqual(s.lastMetrics.map(\.value), [0.25, 1.0])
        // A list of per-epoch records, nested by split; bookkeeping fields are not metrics.
        s = CheckpointMetadataSummary([
            "history": [["epoch": 1, "train": ["loss": 3.0]], ["epoch": 2, "train": ["loss": 1.5], "eval": ["accuracy": 0.9]]],
        ])
        XCTAssertEqual(s.lastMetrics, [.init(name: "eval.accuracy", value: 0.9), .init(name: "train.loss", value: 1.5)])
        // Plain latest values.
        s = CheckpointMetadataSummary(["metrics": ["mse": 0.125]])
        XCTAssertEqual(s.lastMetrics, [.init(name: "mse", value: 0.125)])
    }

    func testSummaryOfTrainerMetadata() throws {
        // As TrainingCheckpoint.make writes it: the last EpochRecord under "metrics".
        let record = EpochRecord(
            epoch: 4, step: 3748, trainLoss: 0.25, trainAccuracy: 0.9, evalLoss: 0.5, evalAccuracy: 0.875, evalTop5: nil,
            evalMSE: nil, evalMAE: nil, learningRate: 0.01, seconds: 12.5, imagesPerSecond: 4000)
        let s = CheckpointMetadataSummary([
            "format": "ntrain-checkpoint", "epoch": 4, "step": 3748, "device": "cpu0", "ntrain_version": "0.1.0",
            "created": "2026-01-02T03:04:05Z", "input_shape": [1, 32, 32], "class_names": ["0", "1", "2"],
            "progress": ["best": 0.875, "best_epoch": 4, "epoch": 4], "metrics": try JSONValue(encoding: record),
            "config": ["name": "lenet-mnist", "model": ["arch": "lenet"], "data": ["dataset": "mnist"]],
        ])
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: s.lastMetrics.map { ($0.name, $0.value) }), [
            "train_loss": 0.25, "train_accuracy": 0.9, "eval_loss": 0.5, "eval_accuracy": 0.875, "lr": 0.01,
            "seconds": 12.5, "images_per_second": 4000,
        ])
        XCTAssertEqual(s.inputShape, [1, 32, 32])
        XCTAssertEqual(s.classCount, 3)
        XCTAssertEqual(s.created, "2026-01-02T03:04:05Z")
        XCTAssertEqual(s.best, 0.875)
        XCTAssertEqual(s.bestEpoch, 4)
        XCTAssertEqual(s.otherKeys, ["format", "progress"])
        let text = s.textLines()
        XCTAssertTrue(text.contains("best        0.875 (epoch 4)"), "\(text)")
        XCTAssertTrue(text.contains("input       [1, 32, 32]"), "\(text)")
        XCTAssertEqual(s.json()["best_epoch"], 4)
    }

    func testMetadataOfUnexpectedTypesIsIgnoredNotFatal() {
        let s = CheckpointMetadataSummary([
            "epoch": "three", "step": 1.5, "device": 7, "config": "not an object", "metrics": "none", "rng": [1, 2],
            "input_shape": [1, "x"], "class_names": 3, "progress": ["best": "high"],
        ])
        XCTAssertNil(s.inputShape)
        XCTAssertNil(s.classCount)
        XCTAssertNil(s.best)
        XCTAssertNil(s.epoch)
        XCTAssertNil(s.step)
        XCTAssertNil(s.device)
        XCTAssertNil(s.configName)
        XCTAssertNil(s.model)
        XCTAssertEqual(s.lastMetrics, [])
        XCTAssertEqual(s.otherKeys, ["progress", "rng"])
        XCTAssertTrue(s.textLines().contains("epoch       -"))
    }

    func testSummaryFallsBackToConfigName() {
        let s = CheckpointMetadataSummary([
            "config": ["name": "cifar", "model": ["layers": [["relu": [:]], ["flatten": [:]]]], "data": ["dataset": "cifar10"]],
            "global_step": 99,
        ])
        XCTAssertEqual(s.name, "cifar")
        XCTAssertEqual(s.model, "layers (2)")
        XCTAssertEqual(s.dataset, "cifar10")
        XCTAssertEqual(s.step, 99)
    }

    func testInspectionMatchesTheReaderAndCountsModelElements() throws {
        let data = try CheckpointWriter.encode(CheckpointFixtures.sample())
        let inspection = try CheckpointInspector.inspect(data, file: "s.mge")
        XCTAssertEqual(inspection.info, try CheckpointReader.info(data))
        // model.conv1.weight 150 + bias 6 + odd 273 + empty 0.
        XCTAssertEqual(inspection.modelElements, 429)
        XCTAssertEqual(inspection.dataSize, data.count - inspection.info.dataStart - 4)
        let text = inspection.text()
        XCTAssertTrue(text.contains("model.empty         F32    [0, 4]"), text)
        XCTAssertTrue(text.contains("model: 4 tensor(s), 429 elements"), text)
        XCTAssertEqual(inspection.json()["tensors"]?.arrayValue?.count, 9)
        XCTAssertEqual(CheckpointInspection.grouped(1234567), "1,234,567")
        XCTAssertEqual(CheckpointInspection.grouped(12), "12")
        XCTAssertEqual(CheckpointInspection.hex(0xAB), "0x000000ab")
    }

    func testInspectPathErrors() throws {
        let folder = try CheckpointFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        XCTAssertThrowsError(try CheckpointInspector.inspect(path: folder.path + "/none.mge")) { error in
            XCTAssertEqual(error as? CheckpointError, .io(file: folder.path + "/none.mge", operation: "read checkpoint", reason: "no such file"))
        }
        XCTAssertThrowsError(try CheckpointInspector.inspect(path: folder.path)) { error in
            XCTAssertTrue("\(error)".contains("it is a folder; pass a .mge file"), "\(error)")
        }
        let empty = folder.appendingPathComponent("empty.mge")
        try Data().write(to: empty)
        XCTAssertThrowsError(try CheckpointInspector.inspect(path: empty.path)) { error in
            XCTAssertEqual(error as? CheckpointError, .malformed(file: empty.path, offset: 0, problem: "the file is empty (0 bytes)"))
        }
    }
}
