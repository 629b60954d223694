import Foundation
import XCTest
import NTrainCore
import NTrainNN
@testable import NTrainEngine

/// The training loop on small generated data: exact resume, NaN guard, accumulation, early
/// stopping, run-folder files and evaluation from a checkpoint.
final class TrainerTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ntrain-trainer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        Interrupt.reset()
    }

    override func tearDownWithError() throws {
        Interrupt.reset()
        try? FileManager.default.removeItem(at: folder)
    }

    /// A small image-classification experiment: mlp with dropout, Adam, a per-step schedule.
    private func config(_ extra: String = "", epochs: Int = 2,
                        optimizer: String = #"{"type": "adam", "lr": 0.01}"#,
                        scheduler: String = #"{"type": "step", "step_size": 5, "gamma": 0.5, "interval": "step"}"#) throws -> ExperimentConfig {
        let text = """
        {"name": "t", "seed": 3,
         "data": {"dataset": "random", "count": 96, "test_count": 32, "shape": [1, 6, 6], "classes": 4, "batch_size": 8,
                  "transforms": [{"scale": 0.00392156862745098}]},
         "model": {"arch": "mlp", "hidden": [16], "dropout": 0.25},
         "optimizer": \(optimizer),
         "scheduler": \(scheduler),
         "train": {"epochs": \(epochs), "log_every": 4}\(extra)}
        """
        return try ExperimentConfig.decode(Data(text.utf8), file: "test.json")
    }

    private func weights(_ trainer: Trainer) -> [[Float]] { trainer.model.stateDict().map { $0.1.scalars } }

    private func run(_ name: String) -> String { folder.appendingPathComponent(name).path }

    func testInterruptedAndResumedRunEndsBitIdentical() throws {
        let straight = try Trainer(config: try config(), options: TrainOptions(out: run("a")))
        XCTAssertEqual(try straight.run().ending, .completed)

        final class StopAfter: TrainingObserver {
            var steps = 0
            let limit: Int
            init(_ limit: Int) { self.limit = limit }
            func trainingStarted(_ start: TrainingStart) {}
            func stepFinished(_ progress: StepProgress) {
                steps += 1
                if steps == limit { Interrupt.simulate() }
            }
            func epochFinished(_ record: EpochRecord, evaluation: EvaluationResult?, epochs: Int) {}
            func note(_ message: String) {}
        }
        // 12 batches per epoch, a report every 4 steps: the 5th report is step 20, inside epoch 2.
        let first = try Trainer(config: try config(), options: TrainOptions(out: run("b")), observer: StopAfter(5))
        let summary = try first.run()
        XCTAssertEqual(summary.ending, .interrupted)
        XCTAssertEqual(summary.progress.epoch, 1)
        XCTAssertEqual(summary.progress.batchInEpoch, 8)
        Interrupt.reset()

        let resumed = try Trainer(config: nil, options: TrainOptions(resume: run("b")))
        XCTAssertEqual(resumed.runDirectory.url.path, run("b"))
        XCTAssertEqual(try resumed.run().ending, .completed)
        XCTAssertTrue(weights(straight) == weights(resumed), "resumed weights differ from the uninterrupted run")
        XCTAssertEqual(resumed.optimizer.learningRate, straight.optimizer.learningRate)
        // metrics.csv: the resumed run continues the rows instead of duplicating them.
        let rows = try String(contentsOf: URL(fileURLWithPath: run("b")).appendingPathComponent("metrics.csv"), encoding: .utf8)
            .split(separator: "\n").filter { $0.hasPrefix("epoch,") }
        XCTAssertEqual(rows.map { $0.split(separator: ",")[1] }, ["1", "2"])
    }

    func testMoreEpochsOnResumeContinueTheSchedule() throws {
        let four = try Trainer(config: try config(epochs: 4), options: TrainOptions(out: run("a")))
        _ = try four.run()
        let two = try Trainer(config: try config(epochs: 2), options: TrainOptions(out: run("b")))
        _ = try two.run()
        let extended = try Trainer(config: nil, options: TrainOptions(resume: run("b") + "/last.mge", epochs: 4))
        XCTAssertEqual(extended.progress.epoch, 2)
        _ = try extended.run()
        XCTAssertTrue(weights(four) == weights(extended))
    }

    /// `scheduler.interval` is read by the loop, not by the built scheduler: 12 batches per epoch,
    /// step_size 5, gamma 0.5. Per batch, 24 steps halve the rate 4 times; per epoch, 2 steps not at all.
    func testStepIntervalSchedulerStepsPerBatch() throws {
        let perStep = try Trainer(config: try config(), options: TrainOptions(out: run("per-step")))
        _ = try perStep.run()
        XCTAssertEqual(perStep.optimizer.learningRate, 0.01 * 0.0625, accuracy: 1e-9)
        let perEpoch = try Trainer(config: try config(scheduler: #"{"type": "step", "step_size": 5, "gamma": 0.5, "interval": "epoch"}"#),
                                   options: TrainOptions(out: run("per-epoch")))
        _ = try perEpoch.run()
        XCTAssertEqual(perEpoch.optimizer.learningRate, 0.01, accuracy: 1e-9)
    }

    /// `loss.reduction` is read by the loop: the sum over a batch of 8 at lr / 8 takes exactly the
    /// steps the mean takes at lr (both scale by a power of two), and at lr it takes others.
    func testSumReductionIsTheMeanTimesTheBatch() throws {
        func weights(_ name: String, _ reduction: String, lr: Double) throws -> [[Float]] {
            let trainer = try Trainer(config: try config(#", "loss": {"type": "cross_entropy", "reduction": "\#(reduction)"}"#, epochs: 1,
                                                         optimizer: #"{"type": "sgd", "lr": \#(lr)}"#, scheduler: #"{"type": "constant"}"#),
                                      options: TrainOptions(out: run(name)))
            _ = try trainer.run()
            return self.weights(trainer)
        }
        let mean = try weights("mean", "mean", lr: 0.08)
        XCTAssertTrue(try weights("sum", "sum", lr: 0.01) == mean)
        XCTAssertFalse(try weights("sum-same-lr", "sum", lr: 0.08) == mean)
    }

    func testNaNStopsBeforeTheStepAndKeepsTheLastGoodCheckpoint() throws {
        // Epoch 1 trains normally; epoch 2's learning rate makes the loss overflow.
        let cfg = try config(epochs: 3, optimizer: #"{"type": "sgd", "lr": 0.01}"#, scheduler: #"{"type": "piecewise", "values": [0.01, 1e30]}"#)
        let trainer = try Trainer(config: cfg, options: TrainOptions(out: run("nan")))
        XCTAssertThrowsError(try trainer.run()) { error in
            guard case EngineError.nonFinite(let epoch, _, _, let checkpoint) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(epoch, 2)
            XCTAssertEqual(checkpoint, self.run("nan") + "/last.mge")
            XCTAssertEqual((error as! EngineError).exitCode, 1)
            XCTAssertTrue("\(error)".contains("NaN/Inf"), "\(error)")
        }
        let saved = try CheckpointReader.read(contentsOf: URL(fileURLWithPath: run("nan") + "/last.mge"))
        XCTAssertEqual(saved.metadata["epoch"], .integer(1))
        for (name, t) in saved.tensors(withPrefix: "model.") where t.dtype == .float32 {
            XCTAssertTrue(t.scalars.allSatisfy(\.isFinite), "\(name) is not finite in the last good checkpoint")
        }
    }

    func testNaNPolicySkipCountsAndKeepsWeightsFinite() throws {
        var cfg = try config(epochs: 2, optimizer: #"{"type": "sgd", "lr": 0.01}"#, scheduler: #"{"type": "piecewise", "values": [0.01, 1e30]}"#)
        cfg.train.nanPolicy = .skip
        let trainer = try Trainer(config: cfg, options: TrainOptions(out: run("skip")))
        let summary = try trainer.run()
        XCTAssertGreaterThan(summary.progress.skippedSteps, 0)
        XCTAssertTrue(trainer.model.parameters.allSatisfy { $0.scalars.allSatisfy(\.isFinite) })
    }

    func testGradientAccumulationMatchesALargerBatch() throws {
        var big = try config(epochs: 1, optimizer: #"{"type": "sgd", "lr": 0.1}"#, scheduler: #"{"type": "constant"}"#)
        big.model.dropout = 0
        var small = big
        small.data.batchSize = 4
        small.train.accumulate = 2
        let a = try Trainer(config: big, options: TrainOptions(out: run("big")))
        let b = try Trainer(config: small, options: TrainOptions(out: run("small")))
        _ = try a.run()
        _ = try b.run()
        XCTAssertEqual(a.progress.optimizerSteps, b.progress.optimizerSteps)
        for (x, y) in zip(weights(a).joined(), weights(b).joined()) { XCTAssertEqual(x, y, accuracy: 1e-5) }
    }

    func testEarlyStoppingAndRunFolderFiles() throws {
        var cfg = try config(epochs: 6)
        cfg.optimizer.lr = 1e-12  // nothing improves
        cfg.train.earlyStopping = EarlyStopping()
        cfg.train.earlyStopping?.patience = 2
        cfg.checkpoint.keepLast = 2
        let trainer = try Trainer(config: cfg, options: TrainOptions(out: run("early")))
        let summary = try trainer.run()
        XCTAssertEqual(summary.ending, .earlyStopped)
        XCTAssertEqual(summary.progress.epoch, 3)
        let dir = URL(fileURLWithPath: run("early"))
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        for name in ["config.json", "metrics.csv", "train.log", "last.mge", "best.mge", "checkpoints"] {
            XCTAssertTrue(files.contains(name), "\(name) missing from \(files)")
        }
        XCTAssertTrue(files.contains { $0.hasPrefix("events.out.tfevents.") })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("checkpoints").path).sorted(),
                       ["epoch-0002.mge", "epoch-0003.mge"])
        let stored = try ExperimentConfig.load(contentsOf: dir.appendingPathComponent("config.json"))
        XCTAssertEqual(stored, cfg)
        // A new run refuses to write into a folder that already holds files.
        XCTAssertThrowsError(try Trainer(config: cfg, options: TrainOptions(out: run("early")))) { error in
            XCTAssertTrue("\(error)".contains("already holds files"), "\(error)")
        }
    }

    func testEvaluationFromTheCheckpointAloneMatchesTheTrainer() throws {
        let trainer = try Trainer(config: try config(), options: TrainOptions(out: run("e")))
        let summary = try trainer.run()
        let eval = try CheckpointEvaluation.run(checkpoint: try XCTUnwrap(summary.lastCheckpoint))
        guard case .classification(let m) = eval.result else { return XCTFail("expected classification") }
        XCTAssertEqual(m.count, 32)
        XCTAssertEqual(m.accuracy, try XCTUnwrap(summary.progress.history.last?.evalAccuracy))
        XCTAssertEqual(m.loss, try XCTUnwrap(summary.progress.history.last?.evalLoss), accuracy: 1e-9)
        let json = EvaluationReport.json(eval)
        XCTAssertEqual(json["confusion_matrix"]?.arrayValue?.count, 4)
        XCTAssertTrue(EvaluationReport.text(eval).contains("confusion matrix"))
    }

    /// Records the calling thread's denormal mode at every step.
    private final class DenormalModeObserver: TrainingObserver {
        var modes: Set<Bool> = []
        func trainingStarted(_ start: TrainingStart) {}
        func stepFinished(_ progress: StepProgress) { modes.insert(Denormals.flushedToZero) }
        func epochFinished(_ record: EpochRecord, evaluation: EvaluationResult?, epochs: Int) {}
        func note(_ message: String) {}
    }

    func testTrainingFlushesDenormalsUnlessTheConfigSaysNotAndRestoresTheCallersMode() throws {
        for flush in [true, false] {
            var cfg = try config(epochs: 1)
            cfg.train.flushDenormals = flush
            let observer = DenormalModeObserver()
            XCTAssertFalse(Denormals.flushedToZero)
            _ = try Trainer(config: cfg, options: TrainOptions(out: run("denormals-\(flush)")), observer: observer).run()
            XCTAssertEqual(observer.modes, [flush])
            XCTAssertFalse(Denormals.flushedToZero, "the caller's mode is restored")
        }
        XCTAssertTrue(try config().train.flushDenormals, "on by default")
    }

    func testEvalEveryZeroEvaluatesOnlyAfterTheLastEpoch() throws {
        var cfg = try config(epochs: 3)
        cfg.train.evalEvery = 0
        let summary = try Trainer(config: cfg, options: TrainOptions(out: run("e0"))).run()
        XCTAssertEqual(summary.progress.history.map { $0.evalAccuracy != nil }, [false, false, true])
    }

    func testWeightsStartANewRunFromACheckpoint() throws {
        let trainer = try Trainer(config: try config(), options: TrainOptions(out: run("w1")))
        let summary = try trainer.run()
        let fresh = try Trainer(config: try config(), options: TrainOptions(weights: summary.lastCheckpoint, out: run("w2")))
        XCTAssertTrue(weights(fresh) == weights(trainer))
        XCTAssertEqual(fresh.progress.epoch, 0)
    }

    func testLinearRegressionConfigRecoversTheLine() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("configs/linear-regression.json")
        let trainer = try Trainer(config: try ExperimentConfig.load(contentsOf: url), options: TrainOptions(out: run("lr")))
        _ = try trainer.run()
        let fc = try XCTUnwrap(trainer.model.children.first { $0.0 == "fc" }?.1 as? Linear)
        XCTAssertEqual(fc.weight.item(), 2, accuracy: 0.05)
        XCTAssertEqual(fc.bias!.item(), 3, accuracy: 0.2)
    }
}
