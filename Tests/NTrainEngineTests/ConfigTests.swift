import Foundation
import XCTest
@testable import NTrainEngine

final class ConfigTests: XCTestCase {
    /// The full example of DESIGN §2.
    static let designExample = """
        {
          "name": "lenet-mnist",
          "seed": 1,
          "device": "xpux",
          "data":  { "dataset": "mnist", "root": null, "batch_size": 64, "shuffle": true, "drop_last": true,
                     "transforms": [ {"normalize": {"mean": [0.1307], "std": [0.3081]}}, {"pad": 2} ],
                     "eval_batch_size": 1000, "validation": null },
          "model": { "arch": "lenet", "activation": "relu", "pool": "max", "init": "kaiming_uniform" },
          "loss":  "cross_entropy",
          "optimizer": { "type": "sgd", "lr": 0.05, "momentum": 0.0, "nesterov": false, "weight_decay": 0.0 },
          "scheduler": { "type": "exponential", "gamma": 0.9, "interval": "epoch" },
          "train": { "epochs": 10, "grad_clip": {"max_norm": 1.0}, "accumulate": 1, "log_every": 50,
                     "eval_every": 1, "early_stopping": null, "nan_policy": "stop" },
          "checkpoint": { "every": 1, "keep_last": 3, "monitor": "accuracy", "mode": "max" },
          "logging": { "tensorboard": true, "csv": true }
        }
        """

    static let minimal = #"{"data": {"dataset": "mnist"}, "model": {"arch": "lenet"}}"#

    private func decode(_ text: String, overrides: [String] = []) throws -> ExperimentConfig {
        try ExperimentConfig.decode(Data(text.utf8), file: "test.json", overrides: overrides)
    }

    /// Decoding `text` fails; returns the error's message.
    private func failure(_ text: String, overrides: [String] = [], line: UInt = #line) -> String {
        do {
            _ = try decode(text, overrides: overrides)
            XCTFail("expected a ConfigError", line: line)
        } catch let e as ConfigError {
            return e.description
        } catch {
            XCTFail("not a ConfigError: \(error)", line: line)
        }
        return ""
    }

    /// The minimal config with `section` replaced by `json`.
    private func with(_ section: String, _ json: String) -> String {
        var parts = [#""data": {"dataset": "mnist"}"#, #""model": {"arch": "lenet"}"#]
        parts.removeAll { $0.hasPrefix("\"\(section)\"") }
        parts.append("\"\(section)\": \(json)")
        return "{" + parts.joined(separator: ", ") + "}"
    }

    func testDesignExampleDecodes() throws {
        let c = try decode(Self.designExample)
        XCTAssertEqual(c.name, "lenet-mnist")
        XCTAssertEqual(c.seed, 1)
        XCTAssertEqual(c.device, "xpux")
        XCTAssertEqual(c.data.dataset, .mnist)
        XCTAssertTrue(c.data.dropLast)
        XCTAssertEqual(c.data.transforms, [.normalize(mean: [0.1307], std: [0.3081]), .pad(2)])
        XCTAssertEqual(c.model.arch, .lenet)
        XCTAssertEqual(c.model.activation, .relu)
        XCTAssertEqual(c.loss.type, .crossEntropy)
        XCTAssertEqual(c.optimizer.type, .sgd)
        XCTAssertEqual(c.optimizer.lr, 0.05)
        XCTAssertEqual(c.scheduler.type, .exponential)
        XCTAssertEqual(c.scheduler.gamma, 0.9)
        XCTAssertEqual(c.train.gradClip, .maxNorm(1.0))
        XCTAssertNil(c.train.earlyStopping)
        XCTAssertEqual(c.checkpoint.monitor, .accuracy)
        XCTAssertEqual(c.checkpoint.mode, .max)
    }

    func testDesignLayersExampleDecodes() throws {
        let layers = #"[{"conv2d": {"out": 6, "kernel": 5}}, {"relu": {}}, {"max_pool2d": {"kernel": 2}}, {"flatten": {}}, {"linear": {"out": 10}}]"#
        let c = try decode(with("model", #"{"layers": \#(layers)}"#))
        XCTAssertNil(c.model.arch)
        var conv = LayerSpec.Conv2dOptions(out: 6, kernel: IntPair(5))
        conv.bias = true
        XCTAssertEqual(c.model.layers, [.conv2d(conv), .relu, .maxPool2d(.init(kernel: IntPair(2))), .flatten, .linear(out: 10, bias: true)])
        if case .maxPool2d(let pool)? = c.model.layers?[2] { XCTAssertEqual(pool.stride, IntPair(2), "stride defaults to the kernel") }
    }

    func testDefaultsAreFilledIn() throws {
        let c = try ExperimentConfig.decode(Data(Self.minimal.utf8), defaultName: "mnist-lenet")
        XCTAssertEqual(c.name, "mnist-lenet")
        XCTAssertEqual(c.seed, 0)
        XCTAssertNil(c.device)
        XCTAssertEqual(c.data.batchSize, 64)
        XCTAssertEqual(c.data.evalBatchSize, 1000)
        XCTAssertTrue(c.data.shuffle)
        XCTAssertFalse(c.data.dropLast)
        XCTAssertEqual(c.model.activation, .relu)
        XCTAssertEqual(c.model.pool, .max)
        XCTAssertEqual(c.model.initialization, .kaimingUniform)
        XCTAssertEqual(c.loss, LossConfig(type: .crossEntropy))
        XCTAssertEqual(c.optimizer.type, .sgd)
        XCTAssertEqual(c.optimizer.lr, 0.01)
        XCTAssertEqual(c.scheduler.type, .constant)
        XCTAssertEqual(c.scheduler.interval, .epoch)
        XCTAssertEqual(c.train.epochs, 10)
        XCTAssertEqual(c.train.nanPolicy, .stop)
        XCTAssertEqual(c.checkpoint.keepLast, 3)
        XCTAssertTrue(c.logging.tensorboard)
        // Type- and arch-dependent defaults.
        let lenet5 = try decode(with("model", #"{"arch": "lenet5"}"#))
        XCTAssertEqual(lenet5.model.activation, .gelu)
        XCTAssertEqual(lenet5.model.pool, .avg)
        let adamw = try decode(with("optimizer", #"{"type": "adamw"}"#))
        XCTAssertEqual(adamw.optimizer.lr, 0.001)
        XCTAssertEqual(adamw.optimizer.weightDecay, 0.01)
        let regression = try decode(#"{"data": {"dataset": "synthetic_linear", "features": 3}, "model": {"arch": "linear"}}"#)
        XCTAssertEqual(regression.loss.type, .mse)
        XCTAssertEqual(regression.data.syntheticLinear?.weight, [2, 2, 2])
        XCTAssertNil(regression.model.activation)
        // Every section appears in the resolved JSON.
        let resolved = c.jsonValue
        for key in ["name", "seed", "device", "data", "model", "loss", "optimizer", "scheduler", "train", "checkpoint", "logging"] {
            XCTAssertNotNil(resolved[key], key)
        }
        XCTAssertEqual(resolved["train"]?["grad_clip"], .null)
    }

    func testUnknownKeysNameThePathAndSuggest() {
        XCTAssertEqual(
            failure(with("data", #"{"dataset": "mnist", "batchsize": 32}"#)),
            "test.json: data.batchsize: unknown key; did you mean batch_size?")
        XCTAssertTrue(failure(#"{"data": {"dataset": "mnist"}, "model": {"arch": "lenet"}, "optimiser": {}}"#).contains("optimiser: unknown key; did you mean optimizer?"))
        XCTAssertTrue(failure(with("train", #"{"grad_clip": {"maxnorm": 1}}"#)).contains("train.grad_clip.maxnorm: unknown key; did you mean max_norm?"))
        XCTAssertTrue(failure(with("model", #"{"layers": [{"relu": {}}, {"conv2d": {"out": 3, "kernal": 3}}]}"#)).contains("model.layers[1].conv2d.kernal: unknown key; did you mean kernel?"))
        XCTAssertTrue(failure(with("model", #"{"layers": [{"conv3d": {}}]}"#)).contains("model.layers[0].conv3d: unknown key; did you mean conv2d?"))
        XCTAssertTrue(failure(with("data", #"{"dataset": "mnist", "transforms": [{"normalise": {}}]}"#)).contains("did you mean normalize?"))
        // Far from everything: the allowed keys are listed instead.
        XCTAssertTrue(failure(with("logging", #"{"wandb": true}"#)).contains("allowed keys: csv, tensorboard"))
        // Options of another variant are named as such.
        let message = failure(with("optimizer", #"{"type": "adam", "momentum": 0.9}"#))
        XCTAssertTrue(message.contains("optimizer.momentum: not an option when type is \"adam\""), message)
        XCTAssertTrue(failure(with("data", #"{"dataset": "mnist", "count": 5}"#)).contains("data.count: not an option when dataset is \"mnist\""))
    }

    func testWrongTypesAreReported() {
        let m = failure(with("data", #"{"dataset": "mnist", "batch_size": "64"}"#))
        XCTAssertTrue(m.contains("data.batch_size: expected an integer in [1, 1048576], got a string"), m)
        XCTAssertTrue(failure(with("data", #"{"dataset": "mnist", "shuffle": 1}"#)).contains("data.shuffle: expected true or false"))
        XCTAssertTrue(failure(with("data", #"{"dataset": "mnist", "batch_size": 6.5}"#)).contains("data.batch_size: expected an integer"))
        XCTAssertTrue(failure(with("optimizer", #"{"lr": [0.1]}"#)).contains("optimizer.lr: expected a number > 0, got an array"))
        XCTAssertTrue(failure(with("model", #"{"layers": [{"relu": {}, "gelu": {}}]}"#)).contains("model.layers[0]: expected an object with exactly one key"))
        XCTAssertTrue(failure(#"[1, 2]"#).contains("expected an object"))
        XCTAssertTrue(failure(with("loss", "3")).contains("loss: expected one of cross_entropy"))
        // An integral float is accepted where an integer is expected.
        XCTAssertEqual(try decode(with("train", #"{"epochs": 3.0}"#)).train.epochs, 3)
    }

    func testRangesAndEnumsAreChecked() {
        XCTAssertTrue(failure(with("optimizer", #"{"lr": 0}"#)).contains("optimizer.lr: must be > 0, got 0"))
        XCTAssertTrue(failure(with("optimizer", #"{"lr": -0.1}"#)).contains("must be > 0"))
        XCTAssertTrue(failure(with("data", #"{"dataset": "mnist", "batch_size": 0}"#)).contains("data.batch_size: must be in [1, 1048576], got 0"))
        XCTAssertTrue(failure(with("train", #"{"epochs": 0}"#)).contains("train.epochs: must be >= 1"))
        XCTAssertTrue(failure(with("model", #"{"layers": [{"dropout": {"p": 1.0}}]}"#)).contains("model.layers[0].dropout.p: must be in [0, 1), got 1.0"))
        XCTAssertTrue(failure(with("model", #"{"arch": "mlp", "dropout": -0.5}"#)).contains("model.dropout: must be in [0, 1)"))
        let dataset = failure(with("data", #"{"dataset": "mnits"}"#))
        XCTAssertTrue(dataset.contains("data.dataset: unknown value \"mnits\" (did you mean mnist?); allowed: cifar10, fashion-mnist, image_csv, image_folder, mnist, random, synthetic_linear"), dataset)
        XCTAssertTrue(failure(with("model", #"{"arch": "resnet50"}"#)).contains("allowed: cifar_cnn, conv_bn, lenet, lenet5, linear, mlp"))
        XCTAssertTrue(failure(with("loss", #""cross_entropyy""#)).contains("did you mean cross_entropy?"))
        XCTAssertTrue(failure(with("optimizer", #"{"type": "adamax"}"#)).contains("optimizer.type: unknown value \"adamax\""))
        XCTAssertTrue(failure(with("scheduler", #"{"type": "cosine_annealing"}"#)).contains("scheduler.type: unknown value"))
        XCTAssertTrue(failure(with("model", #"{"arch": "lenet", "activation": "swish"}"#)).contains("allowed: relu, leaky_relu, gelu, sigmoid, tanh"))
        XCTAssertTrue(failure(with("model", #"{"arch": "lenet", "pool": "min"}"#)).contains("allowed: max, avg"))
        XCTAssertTrue(failure(with("model", #"{"arch": "lenet", "init": "orthogonal"}"#)).contains("model.init: unknown value"))
        XCTAssertTrue(failure(with("train", #"{"nan_policy": "ignore"}"#)).contains("allowed: stop, skip"))
        XCTAssertTrue(failure(with("train", #"{"flush_denormals": "yes"}"#)).contains("train.flush_denormals"))
        XCTAssertTrue(failure(with("checkpoint", #"{"mode": "maximum"}"#)).contains("did you mean max?"))
        XCTAssertTrue(failure(#"{"device": "tpu0", "data": {"dataset": "mnist"}, "model": {"arch": "lenet"}}"#).contains("device:"))
    }

    func testCrossFieldRules() {
        XCTAssertTrue(failure(with("model", #"{"arch": "lenet", "layers": [{"relu": {}}]}"#)).contains("model.layers"))
        XCTAssertTrue(failure(with("model", #"{}"#)).contains("model.arch: missing"))
        XCTAssertTrue(failure(#"{"model": {"arch": "lenet"}}"#).contains("data: missing"))
        XCTAssertTrue(failure(with("data", #"{"batch_size": 3}"#)).contains("data.dataset: missing"))
        XCTAssertTrue(failure(with("train", #"{"grad_clip": {"max_norm": 1, "value": 2}}"#)).contains("train.grad_clip: give exactly one"))
        XCTAssertTrue(failure(with("optimizer", #"{"nesterov": true}"#)).contains("optimizer.nesterov: Nesterov momentum needs momentum > 0"))
        let sequential = #"{"type": "sequential", "schedulers": [{"type": "warmup"}, {"type": "cosine"}], "milestones": []}"#
        XCTAssertTrue(failure(with("scheduler", sequential)).contains("scheduler.milestones: sequential with 2 schedulers needs 1 milestones"))
        XCTAssertTrue(failure(with("scheduler", #"{"type": "multistep", "milestones": [5, 3]}"#)).contains("strictly increasing"))
        XCTAssertTrue(failure(with("scheduler", #"{"type": "chain", "schedulers": [{"type": "step", "interval": "step"}]}"#)).contains("scheduler.schedulers[0].interval: unknown key"))
        XCTAssertTrue(failure(with("data", #"{"dataset": "image_csv"}"#)).contains("data.path: missing"))
        XCTAssertTrue(failure(with("data", #"{"dataset": "synthetic_linear", "features": 2, "weight": [1]}"#)).contains("data.weight: has 1 values but features is 2"))
        XCTAssertTrue(failure(with("data", #"{"dataset": "mnist", "transforms": [{"normalize": {"mean": [1, 2], "std": [1, 2, 3]}}]}"#)).contains("data.transforms[0].normalize"))
        XCTAssertTrue(failure(with("model", #"{"layers": [{"conv2d": {"out": 6, "kernel": [3, 3, 3]}}]}"#)).contains("model.layers[0].conv2d.kernel"))
    }

    func testSyntaxErrorsHaveLineAndColumn() {
        let text = "{\n  \"data\": {\"dataset\": \"mnist\",},\n}"
        XCTAssertEqual(failure(text), "test.json:2:31: invalid JSON: expected a key in double quotes, found '}'")
        XCTAssertTrue(failure("{\"a\": 1, \"a\": 2}").contains("duplicate key \"a\""))
        XCTAssertTrue(failure("").contains("test.json:1:1: invalid JSON"))
        XCTAssertTrue(failure("{\"data\": 01}").contains("leading zeros"))
    }

    func testOverridesApplyBeforeValidation() throws {
        let c = try decode(Self.designExample, overrides: [
            "optimizer={\"type\": \"adam\"}", "optimizer.lr=0.1", "data.batch_size=32",
            "name=my run", "data.transforms[1].pad=4", "data.transforms.0.normalize.mean=[0.5]",
            "scheduler={\"type\": \"multistep\", \"milestones\": [3, 6]}", "scheduler.milestones[1]=7",
            "scheduler.milestones.2=9", "train.early_stopping.patience=2", "device=cpux",
        ])
        XCTAssertEqual(c.optimizer.type, .adam)
        XCTAssertEqual(c.optimizer.lr, 0.1)
        XCTAssertEqual(c.data.batchSize, 32)
        XCTAssertEqual(c.name, "my run")
        XCTAssertEqual(c.data.transforms, [.normalize(mean: [0.5], std: [0.3081]), .pad(4)])
        XCTAssertEqual(c.scheduler.type, .multistep)
        XCTAssertEqual(c.scheduler.milestones, [3, 7, 9])
        XCTAssertEqual(c.scheduler.interval, .epoch)
        XCTAssertEqual(c.train.earlyStopping?.patience, 2)
        XCTAssertEqual(c.device, "cpux")
        // Overridden values are validated like the file's.
        XCTAssertTrue(failure(Self.minimal, overrides: ["optimizer.lr=-1"]).contains("optimizer.lr: must be > 0"))
        XCTAssertTrue(failure(Self.designExample, overrides: ["optimizer.type=adam"]).contains("optimizer.momentum: not an option when type is \"adam\""))
        XCTAssertTrue(failure(Self.minimal, overrides: ["data.batchsize=3"]).contains("did you mean batch_size?"))
        XCTAssertTrue(failure(Self.minimal, overrides: ["optimizer.lr"]).contains("expected path=value"))
        XCTAssertTrue(failure(Self.minimal, overrides: ["data.dataset.x=1"]).contains("not an object"))
        XCTAssertTrue(failure(Self.minimal, overrides: ["data.transforms[3]={\"pad\": 1}"]).contains("out of range"))
        XCTAssertTrue(failure(Self.minimal, overrides: ["data.transforms[x]=1"]).contains("bad index"))
    }

    /// `width` belongs to the ResNet archs, is bounded, survives a round trip and changes the model.
    func testResNetWidthIsCheckedKeptAndBuilt() throws {
        let c = try decode(with("model", #"{"arch": "resnet20", "width": 8}"#))
        XCTAssertEqual(c.model.width, 8)
        XCTAssertEqual(try decode(c.jsonText()).model, c.model)
        let narrow = try ModelFactory.make(c.model, input: [3, 32, 32], outputs: 10, seed: 1)
        let standard = try ModelFactory.make(try decode(with("model", #"{"arch": "resnet20"}"#)).model, input: [3, 32, 32], outputs: 10, seed: 1)
        XCTAssertLessThan(narrow.parameterCount, standard.parameterCount)
        XCTAssertTrue(failure(with("model", #"{"arch": "resnet18", "width": 257}"#)).contains("model.width"))
        XCTAssertTrue(failure(with("model", #"{"arch": "lenet", "width": 8}"#)).contains("width"))
    }

    func testResolvedConfigRoundTripsDeterministically() throws {
        let layers = """
            [{"conv2d": {"out": 8, "kernel": [3, 5], "stride": 2, "padding": [1, 2], "dilation": 1, "groups": 2, "bias": false}},
             {"batch_norm2d": {"momentum": 0.2}}, {"leaky_relu": {"slope": 0.2}}, {"avg_pool2d": {"kernel": 2, "stride": 1, "padding": 1}},
             {"max_pool2d": {"kernel": [2, 3]}}, {"flatten": {}}, {"dropout": {"p": 0.25}}, {"linear": {"out": 20}},
             {"batch_norm1d": {"affine": false}}, {"gelu": {}}, {"sigmoid": {}}, {"tanh": {}}, {"relu": {}},
             {"linear": {"out": 10, "bias": false}}, {"softmax": {"axis": 1}}, {"log_softmax": {}}]
            """
        let scheduler = """
            {"type": "sequential", "interval": "step", "milestones": [100],
             "schedulers": [{"type": "warmup", "start_factor": 0.01, "total_iters": 100},
                            {"type": "chain", "schedulers": [{"type": "cosine", "t_max": 1000, "eta_min": 1e-5},
                                                             {"type": "plateau", "monitor": "accuracy"},
                                                             {"type": "inverse_time", "period": 10, "power": 0.75},
                                                             {"type": "piecewise", "values": [0.1, 0.05]},
                                                             {"type": "step", "step_size": 3}, {"type": "constant"}]}]}
            """
        var configs = [
            Self.designExample, Self.minimal,
            with("model", #"{"layers": \#(layers)}"#),
            with("scheduler", scheduler),
            with("loss", #"{"type": "cross_entropy", "label_smoothing": 0.1}"#),
            with("loss", #"{"type": "smooth_l1", "beta": 0.5, "reduction": "sum"}"#),
            with("model", #"{"arch": "mlp", "hidden": [300, 100], "dropout": 0.2, "activation": "tanh"}"#),
            with("train", #"{"grad_clip": {"value": 0.5}, "early_stopping": {"patience": 3, "monitor": "accuracy"}, "nan_policy": "skip", "flush_denormals": false}"#),
            with("data", #"{"dataset": "cifar10", "transforms": [{"random_crop": {"size": 32, "padding": 4}}, {"random_horizontal_flip": {}}, {"scale": 0.00392156862745098}, {"to_chw": {}}], "validation": 0.1}"#),
            #"{"data": {"dataset": "random", "shape": [3, 224, 224], "classes": 1000, "count": 64}, "model": {"arch": "conv_bn"}}"#,
            #"{"data": {"dataset": "image_csv", "path": "train.csv", "channels": 1}, "model": {"arch": "lenet5"}}"#,
            #"{"data": {"dataset": "synthetic_linear", "weight": [3.5], "noise": 0.1}, "model": {"arch": "linear"}, "seed": 42}"#,
        ]
        for type in OptimizerKind.allCases { configs.append(with("optimizer", #"{"type": "\#(type.rawValue)"}"#)) }
        for text in configs {
            let config = try decode(text)
            let json = config.jsonText()
            let again = try ExperimentConfig.decode(Data(json.utf8), file: "config.json")
            XCTAssertEqual(again, config, json)
            XCTAssertEqual(again.jsonText(), json, "encoding is deterministic")
            XCTAssertEqual(try ExperimentConfig.decode(config.jsonValue), config, "checkpoint metadata path")
        }
        let sched = try decode(with("scheduler", scheduler)).scheduler
        XCTAssertEqual(sched.schedulers.count, 2)
        XCTAssertEqual(sched.schedulers[1].schedulers[1].mode, .max, "plateau mode follows its monitor")
        XCTAssertEqual(sched.schedulers[0].startFactor, 0.01)
        // Sorted, pretty output.
        let text = try decode(Self.minimal).jsonText()
        XCTAssertTrue(text.hasPrefix("{\n  \"checkpoint\": {\n    \"every\": 1,"), text)
    }

    func testLoadUsesTheFileNameAndReportsMissingFiles() throws {
        let folder = try CheckpointFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("fashion-mlp.json")
        try Data(#"{"data": {"dataset": "fashion-mnist"}, "model": {"arch": "mlp"}}"#.utf8).write(to: url)
        let c = try ExperimentConfig.load(contentsOf: url, overrides: ["train.epochs=2"])
        XCTAssertEqual(c.name, "fashion-mlp")
        XCTAssertEqual(c.train.epochs, 2)
        XCTAssertThrowsError(try ExperimentConfig.load(contentsOf: folder.appendingPathComponent("nope.json"))) { error in
            XCTAssertEqual(error as? ConfigError, .unreadable(file: folder.appendingPathComponent("nope.json").path, reason: "no such file"))
        }
    }
}
