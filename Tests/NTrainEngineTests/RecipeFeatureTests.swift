import Foundation
import XCTest
import NTrainCore
import NTrainNN
@testable import NTrainEngine

/// What the CIFAR recipe uses, end to end on small generated images: a residual model from
/// `model.layers`, parameter groups, patch whitening, flip test-time augmentation and a validation
/// split with the test split evaluated after training.
final class RecipeFeatureTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ntrain-recipe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        Interrupt.reset()
    }

    override func tearDownWithError() throws {
        Interrupt.reset()
        try? FileManager.default.removeItem(at: folder)
    }

    private func config(data: String = "", train: String = "", firstLayer: String = #"{"conv2d": {"out": 24, "kernel": 2, "init": "patch_whitening"}}"#) throws -> ExperimentConfig {
        let text = """
        {"name": "r", "seed": 5,
         "data": {"dataset": "random", "count": 64, "test_count": 24, "shape": [3, 8, 8], "classes": 3, "batch_size": 16,
                  "transforms": [{"scale": 0.00392156862745098}, {"random_horizontal_flip": {"p": 0.5}}]\(data)},
         "model": {"layers": [\(firstLayer), {"gelu": {}},
                   {"residual": {"body": [{"conv2d": {"out": 24, "kernel": 3, "padding": 1, "bias": false, "init": "dirac"}},
                                          {"batch_norm2d": {}}, {"gelu": {}}]}},
                   {"global_avg_pool2d": {}}, {"flatten": {}}, {"linear": {"out": 3, "bias": false}}, {"scale": {"factor": 0.5}}]},
         "loss": {"type": "cross_entropy", "label_smoothing": 0.2},
         "optimizer": {"type": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": true, "weight_decay": 5e-4,
                       "groups": [{"match": ["0.weight"], "lr_scale": 0}, {"layers": ["batch_norm"], "lr_scale": 4, "weight_decay": 0}]},
         "train": {"epochs": 2, "log_every": 100\(train)}}
        """
        return try ExperimentConfig.decode(Data(text.utf8), file: "test.json")
    }

    func testWhiteningLayerIsComputedFromTheDataAndStaysFrozen() throws {
        let trainer = try Trainer(config: try config(), options: TrainOptions(out: folder.appendingPathComponent("w").path))
        let whitening = try XCTUnwrap(((trainer.model as? Sequential)?.layers.first?.1 as? Conv2d))
        let initial = whitening.weight.scalars
        // The filters come from the first training images, not from the random init.
        let images = try XCTUnwrap(trainer.data.unaugmentedTrain)(5000)
        XCTAssertEqual(images.shape[0], 64)
        XCTAssertEqual(initial, PatchWhitening.filters(images: images, kernel: (2, 2)))
        let summary = try trainer.run()
        XCTAssertEqual(summary.ending, .completed)
        XCTAssertEqual(whitening.weight.scalars, initial, "lr_scale 0 freezes the whitening filters")
        XCTAssertNotEqual(whitening.bias!.scalars, [Float](repeating: 0, count: 24), "its bias trains")
        // The checkpoint holds the whitened filters: eval rebuilds the model and loads them.
        let eval = try CheckpointEvaluation.run(checkpoint: try XCTUnwrap(summary.lastCheckpoint))
        XCTAssertEqual(eval.result.loss, try XCTUnwrap(summary.progress.history.last?.evalLoss), accuracy: 1e-9)
    }

    func testPatchWhiteningOnlyOnTheFirstLayerWithTheRightWidth() {
        XCTAssertThrowsError(try Trainer(config: try config(firstLayer: #"{"conv2d": {"out": 12, "kernel": 2, "init": "patch_whitening"}}"#),
                                         options: TrainOptions(out: folder.appendingPathComponent("x").path))) { error in
            XCTAssertTrue("\(error)".contains("model.layers[0].conv2d.init: patch_whitening") && "\(error)".contains("24"), "\(error)")
        }
        XCTAssertThrowsError(try Trainer(config: try config(firstLayer: #"{"conv2d": {"out": 600, "kernel": 10, "init": "patch_whitening"}}"#),
                                         options: TrainOptions(out: folder.appendingPathComponent("y").path))) { error in
            XCTAssertTrue("\(error)".contains("at most 256 values per patch"), "\(error)")
        }
    }

    func testFlipTestTimeAugmentationAveragesTheMirrorImagesLogits() throws {
        let cfg = try config(train: #", "tta": "flip""#)
        let summary = try Trainer(config: cfg, options: TrainOptions(out: folder.appendingPathComponent("t").path)).run()
        let path = try XCTUnwrap(summary.lastCheckpoint)
        let flipped = try CheckpointEvaluation.run(checkpoint: path)
        XCTAssertEqual(flipped.tta, .flip, "the config's train.tta is eval's default")
        XCTAssertEqual(flipped.result.loss, try XCTUnwrap(summary.progress.history.last?.evalLoss), accuracy: 1e-9)
        let plain = try CheckpointEvaluation.run(checkpoint: path, tta: TestTimeAugmentation.none)
        XCTAssertNotEqual(plain.result.loss, flipped.result.loss)
        XCTAssertEqual(EvaluationReport.json(flipped)["tta"], .string("flip"))

        // By hand: the mean of the model's logits for each image and its mirror image.
        let data = try DataFactory.make(cfg.data, seed: 5)
        let model = try ModelFactory.make(cfg.model, input: data.inputShape, outputs: 3, seed: 5)
        try TrainingCheckpoint.loadModel(model, from: try CheckpointReader.read(contentsOf: URL(fileURLWithPath: path)), path: path)
        model.eval()
        let batch = data.eval.batch(epoch: 0, index: 0)
        let expected = noGrad { (model(batch.inputs) + model(batch.inputs.flipped(axis: 3))) * 0.5 }
        let loss = TrainingFactory.loss(cfg.loss)
        var sum = 0.0, count = 0
        for b in data.eval.batches(epoch: 0) {
            let out = noGrad { (model(b.inputs) + model(b.inputs.flipped(axis: 3))) * 0.5 }
            sum += Double(loss(out, b.targets).item()) * Double(b.inputs.shape[0])
            count += b.inputs.shape[0]
        }
        XCTAssertEqual(expected.shape, [24, 3])
        XCTAssertEqual(flipped.result.loss, sum / Double(count), accuracy: 1e-5)
    }

    func testValidationSplitChoosesBestAndTheTestSplitIsEvaluatedAtTheEnd() throws {
        let cfg = try config(data: #", "validation": 0.25"#)
        let trainer = try Trainer(config: cfg, options: TrainOptions(out: folder.appendingPathComponent("v").path))
        XCTAssertEqual(trainer.data.train.sampleCount, 48)
        XCTAssertEqual(trainer.data.eval.sampleCount, 16, "epochs are evaluated on the held-out quarter")
        XCTAssertEqual(trainer.data.test?.sampleCount, 24)
        let summary = try trainer.run()
        let test = try XCTUnwrap(summary.test)
        // The final weights (last.mge) on the test split give the same numbers through ntrain eval.
        let eval = try CheckpointEvaluation.run(checkpoint: try XCTUnwrap(summary.lastCheckpoint))
        XCTAssertEqual(eval.examples, 24)
        XCTAssertEqual(eval.result.loss, test.loss, accuracy: 1e-9)
        XCTAssertNotEqual(test.loss, summary.progress.history.last?.evalLoss)
        let log = try String(contentsOfFile: summary.runDirectory + "/train.log", encoding: .utf8)
        XCTAssertTrue(log.contains("test split (final weights, 24 examples): accuracy"), log)
        // Without a validation fraction there is no separate test pass.
        XCTAssertNil(try Trainer(config: try config(), options: TrainOptions(out: folder.appendingPathComponent("n").path)).data.test)
    }

    func testModelEMAFollowsTimmsFormula() throws {
        let bn = BatchNorm(features: 2, spatial: false)
        let ema = ModelEMA(bn, decay: 0.75)
        bn.weight!.assign(Tensor(shape: [2], scalars: [3, -1]))
        bn.runningMean.assign(Tensor(shape: [2], scalars: [4, 8]))
        bn.batchesTracked.int64Data[0] = 5
        ema.update(from: bn)
        let state = Dictionary(uniqueKeysWithValues: ema.state)
        // 0.75 · 1 + 0.25 · 3 = 1.5, 0.75 · 1 + 0.25 · (−1) = 0.5; running mean from 0: 1 and 2.
        XCTAssertEqual(state["weight"]!.scalars, [1.5, 0.5])
        XCTAssertEqual(state["running_mean"]!.scalars, [1, 2])
        XCTAssertEqual(state["num_batches_tracked"]!.int64Data[0], 5, "integer buffers are copied")
        // Evaluating with the average puts it in and the live values back.
        let seen = ema.withAverage(in: bn) { bn.weight!.scalars }
        XCTAssertEqual(seen, [1.5, 0.5])
        XCTAssertEqual(bn.weight!.scalars, [3, -1])
    }

    func testEMAIsEvaluatedSavedAndResumedExactly() throws {
        let cfg = try config(train: #", "ema": {"decay": 0.9}"#)
        let full = try Trainer(config: cfg, options: TrainOptions(out: folder.appendingPathComponent("e2").path))
        let summary = try full.run()
        let ema = try XCTUnwrap(full.ema)
        // The checkpoint holds the live weights (model.*) and the average (ema.*); eval uses the average.
        let path = try XCTUnwrap(summary.lastCheckpoint)
        let checkpoint = try CheckpointReader.read(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(checkpoint.tensors(withPrefix: "ema.").count, ema.state.count)
        let eval = try CheckpointEvaluation.run(checkpoint: path)
        XCTAssertEqual(eval.result.loss, try XCTUnwrap(summary.progress.history.last?.evalLoss), accuracy: 1e-9)
        XCTAssertTrue(eval.notes.contains { $0.contains("moving average") })
        let live = full.model.stateDict().map { $0.1.scalars }
        XCTAssertNotEqual(live, ema.state.map { $0.1.scalars })
        // One epoch, then resumed to two: the same average and weights as two epochs straight.
        var oneEpoch = cfg
        oneEpoch.train.epochs = 1
        _ = try Trainer(config: oneEpoch, options: TrainOptions(out: folder.appendingPathComponent("e1").path)).run()
        let resumed = try Trainer(config: nil, options: TrainOptions(resume: folder.appendingPathComponent("e1").path + "/last.mge", epochs: 2))
        _ = try resumed.run()
        XCTAssertEqual(resumed.ema!.state.map { $0.1.scalars }, ema.state.map { $0.1.scalars })
        XCTAssertEqual(resumed.model.stateDict().map { $0.1.scalars }, live)
    }

    /// one_cycle cycles the optimizer's momentum by default (PyTorch's cycle_momentum), refuses an
    /// optimizer without one, and leaves it alone with cycle_momentum false.
    func testOneCycleCyclesMomentumOrSaysWhyItCannot() throws {
        func make(_ optimizer: String, _ scheduler: String) throws -> Trainer {
            let config = try ExperimentConfig.decode(Data("""
            {"name": "m", "seed": 1, "data": {"dataset": "random", "count": 32, "test_count": 8, "shape": [1, 4, 4], "classes": 2, "batch_size": 8},
             "model": {"arch": "mlp", "hidden": [4]}, "optimizer": \(optimizer),
             "scheduler": \(scheduler), "train": {"epochs": 1}}
            """.utf8), file: "m.json")
            return try Trainer(config: config, options: TrainOptions(out: folder.appendingPathComponent(UUID().uuidString).path))
        }
        let cycled = try make(#"{"type": "sgd", "lr": 0.1, "momentum": 0.5}"#, #"{"type": "one_cycle", "interval": "step"}"#)
        XCTAssertEqual(cycled.optimizer.cycledMomentum, 0.95, "the cycle starts at max_momentum")
        _ = try cycled.run()
        let schedule = try XCTUnwrap((cycled.scheduler as? ScheduledLR)?.schedule)
        XCTAssertEqual(cycled.optimizer.cycledMomentum, Float(try XCTUnwrap(schedule.momentum(atEpoch: 4))), "where the schedule is after 4 steps")
        let kept = try make(#"{"type": "sgd", "lr": 0.1, "momentum": 0.5}"#, #"{"type": "one_cycle", "interval": "step", "cycle_momentum": false}"#)
        XCTAssertEqual(kept.optimizer.cycledMomentum, 0.5)
        XCTAssertThrowsError(try make(#"{"type": "adagrad", "lr": 0.1}"#, #"{"type": "one_cycle", "interval": "step"}"#)) { error in
            XCTAssertTrue("\(error)".contains("scheduler.cycle_momentum: optimizer adagrad has no momentum or beta1"), "\(error)")
        }
    }
}
