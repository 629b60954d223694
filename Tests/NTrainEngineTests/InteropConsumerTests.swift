import Foundation
import XCTest
import NTrainCore
import NTrainData
import NTrainNN
@testable import NTrainEngine

/// ntrain's exports read by their real consumers: onnxruntime and onnx.checker run every built-in
/// model's ONNX file, PyTorch loads its safetensors into the equivalent module (scripts/ntrain_torch.py),
/// both on 256 real test images; and a PyTorch-initialised model imported with `--weights` gives
/// PyTorch's logits and follows PyTorch's training loss for 100 steps. Needs the interop venv
/// (`.venv-interop`: torch, onnx, onnxruntime, safetensors; .ci/run creates it) and the real MNIST
/// and CIFAR-10 beside the checkout; skips with a message where either is absent.
final class InteropConsumerTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ntrain-interop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        Interrupt.reset()
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The interop venv's python, or a skip naming what to install.
    static func python() throws -> URL {
        let python = repository.appendingPathComponent(".venv-interop/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw XCTSkip("no .venv-interop (python3 -m venv .venv-interop && .venv-interop/bin/pip install torch==2.13.0+cpu numpy onnx onnxruntime safetensors); skipping the consumer tests")
        }
        return python
    }

    /// A dataset root with the real MNIST and CIFAR-10 (linked from shared/datasets), or a skip.
    func datasetRoot() throws -> URL {
        let shared = Self.repository.deletingLastPathComponent().appendingPathComponent("shared/datasets")
        let mnist = shared.appendingPathComponent("mnist"), cifar = shared.appendingPathComponent("cifar-10-batches-bin")
        let partial = shared.appendingPathComponent("cifar-10-test-partial/test_batch.first1000.bin")
        let fm = FileManager.default
        guard fm.fileExists(atPath: mnist.path), fm.fileExists(atPath: cifar.path), fm.fileExists(atPath: partial.path) else {
            throw XCTSkip("the real MNIST and CIFAR-10 (shared/datasets beside the checkout) are absent; skipping")
        }
        let root = folder.appendingPathComponent("data")
        try fm.createDirectory(at: root.appendingPathComponent("cifar10"), withIntermediateDirectories: true)
        try fm.createSymbolicLink(at: root.appendingPathComponent("mnist"), withDestinationURL: mnist)
        for name in try fm.contentsOfDirectory(atPath: cifar.path) {
            try fm.createSymbolicLink(at: root.appendingPathComponent("cifar10/" + name), withDestinationURL: cifar.appendingPathComponent(name))
        }
        try fm.createSymbolicLink(at: root.appendingPathComponent("cifar10/test_batch.first1000.bin"), withDestinationURL: partial)
        return root
    }

    static func run(_ python: URL, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = python
        process.arguments = [repository.appendingPathComponent("scripts/interop_check.py").path] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "interop_check.py", code: Int(process.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: String(decoding: errors, as: UTF8.self)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    private func config(_ name: String, dataset: String, model: String, transforms: String, root: URL, steps: Int = 4) throws -> ExperimentConfig {
        let text = """
        {"name": "\(name)", "seed": 3,
         "data": {"dataset": "\(dataset)", "root": "\(root.path)", "batch_size": 32, "limit": \(32 * steps), "eval_limit": 256,
                  "shuffle": false, "transforms": \(transforms)},
         "model": \(model),
         "optimizer": {"type": "sgd", "lr": 0.01, "momentum": 0.9},
         "train": {"epochs": 1}, "logging": {"tensorboard": false}}
        """
        return try ExperimentConfig.decode(Data(text.utf8), file: name + ".json")
    }

    static let mnistTransforms = #"[{"normalize": {"mean": [0.1307], "std": [0.3081]}}]"#
    static let cifarTransforms = #"[{"normalize": {"mean": [0.4914, 0.4822, 0.4465], "std": [0.247, 0.243, 0.261]}}, {"random_horizontal_flip": {"p": 0.5}}]"#

    /// Trains `config` briefly (so batch-norm statistics are not their initial values), exports
    /// last.mge both ways and writes ntrain's logits of 256 test images beside them.
    private func exportCase(_ config: ExperimentConfig) throws -> [String: String] {
        let out = folder.appendingPathComponent(config.name)
        let trainer = try Trainer(config: config, options: TrainOptions(out: out.path))
        _ = try trainer.run()
        let checkpoint = out.appendingPathComponent("last.mge").path
        let onnx = try ModelExport.run(checkpoint: checkpoint, format: .onnx, output: nil)
        let weights = try ModelExport.run(checkpoint: checkpoint, format: .safetensors, output: nil)
        let source = try CheckpointModel.load(checkpoint)
        let data = try DataFactory.make(config.data, seed: 3)
        var inputs: [Float] = [], logits: [Float] = []
        for batch in data.eval.batches(epoch: 0) {
            inputs += batch.inputs.scalars
            logits += source.model(batch.inputs).scalars
        }
        XCTAssertEqual(data.eval.sampleCount, 256)
        var file = SafetensorsFile()
        file.append("input", Tensor(shape: Shape([256] + data.inputShape.dims), scalars: inputs))
        file.append("logits", Tensor(shape: [256, logits.count / 256], scalars: logits))
        let batch = out.appendingPathComponent("batch.safetensors")
        try file.serialized().write(to: batch)
        return ["name": config.name, "onnx": onnx.output, "safetensors": weights.output, "batch": batch.path]
    }

    func testEveryBuiltinModelRunsInOnnxruntimeAndPyTorch() throws {
        let python = try Self.python()
        let root = try datasetRoot()
        var cases: [[String: String]] = []
        for arch in Architecture.allCases {
            let mnist = [.lenet, .lenet5, .mlp, .linear].contains(arch)
            var model = #"{"arch": "\#(arch.rawValue)""#
            if arch == .resnet18 { model += #", "width": 8"# }
            if arch == .mlp { model += #", "hidden": [64, 32], "dropout": 0.2"# }
            model += "}"
            cases.append(try exportCase(try config(arch.rawValue, dataset: mnist ? "mnist" : "cifar10", model: model,
                                                   transforms: mnist ? Self.mnistTransforms : Self.cifarTransforms, root: root,
                                                   steps: arch == .resnet56 || arch == .resnet18 ? 2 : 4)))
        }
        // Every layer kind and block of model.layers: residual with a projection, concat branches,
        // repeat, BN without affine, 1-d BN, GELU, leaky ReLU, tanh, sigmoid, average pool, scale.
        let layers = #"""
        {"layers": [{"conv2d": {"out": 8, "kernel": 3, "padding": 1}}, {"batch_norm2d": {"affine": false}}, {"gelu": {}},
          {"residual": {"body": [{"conv2d": {"out": 16, "kernel": 3, "stride": 2, "padding": 1, "bias": false}}, {"batch_norm2d": {}},
                                 {"leaky_relu": {"slope": 0.1}}],
                        "shortcut": [{"conv2d": {"out": 16, "kernel": 1, "stride": 2, "bias": false}}], "activation": "relu"}},
          {"branches": {"merge": "concat", "paths": [[{"conv2d": {"out": 4, "kernel": 1}}, {"tanh": {}}], [], [{"max_pool2d": {"kernel": 3, "stride": 1, "padding": 1}}]]}},
          {"repeat": {"times": 2, "layers": [{"conv2d": {"out": 36, "kernel": 3, "padding": 1, "groups": 2}}, {"sigmoid": {}}]}},
          {"avg_pool2d": {"kernel": 2, "padding": 1}}, {"dropout": {"p": 0.3}}, {"flatten": {}}, {"linear": {"out": 32}},
          {"batch_norm1d": {}}, {"relu": {}}, {"linear": {"out": 10}}, {"scale": {"factor": 0.5}}]}
        """#
        cases.append(try exportCase(try config("layers", dataset: "cifar10", model: layers, transforms: Self.cifarTransforms, root: root)))
        let manifest = folder.appendingPathComponent("manifest.json")
        try JSONSerialization.data(withJSONObject: cases).write(to: manifest)
        let report = try JSONSerialization.jsonObject(with: Data(try Self.run(python, ["exports", manifest.path]).utf8)) as! [String: [String: Any]]
        for c in cases {
            let name = c["name"]!
            let r = try XCTUnwrap(report[name], name)
            let scale = max(1, r["scale"] as! Double)
            print("\(name): max |logit| \(r["scale"]!), onnxruntime max |diff| \(r["onnx_max_abs"]!), PyTorch \(r["torch_max_abs"]!)")
            // Both runtimes sum in their own order: agreement to float32 rounding of the logits' size.
            XCTAssertLessThanOrEqual(r["onnx_max_abs"] as! Double, 1e-5 * scale, "\(name): onnxruntime vs ntrain \(r)")
            XCTAssertLessThanOrEqual(r["onnx_single_max_abs"] as! Double, 1e-5 * scale, "\(name): batch of one")
            XCTAssertLessThanOrEqual(r["torch_max_abs"] as! Double, 1e-5 * scale, "\(name): PyTorch vs ntrain \(r)")
            XCTAssertEqual(r["inputs"] as? [String], ["input"])
            XCTAssertEqual(r["outputs"] as? [String], ["logits"])
            XCTAssertEqual(r["opset"] as? Int, ONNXExporter.opset)
            XCTAssertEqual((r["input_dims"] as? [Any])?.first as? String, "N", "\(name): dynamic batch size")
            XCTAssertEqual((r["class_names"] as? [String])?.count, 10)
            XCTAssertFalse((r["ops"] as? [String] ?? []).contains("Dropout"), "\(name): dropout is left out of the eval graph")
        }
    }

    final class StepLosses: TrainingObserver {
        var losses: [Double] = []
        func trainingStarted(_ start: TrainingStart) {}
        func stepFinished(_ progress: StepProgress) { losses.append(progress.loss) }
        func epochFinished(_ record: EpochRecord, evaluation: EvaluationResult?, epochs: Int) {}
        func note(_ message: String) {}
    }

    func testPyTorchInitialisedModelImportsAndTrainsLikePyTorch() throws {
        let python = try Self.python()
        let root = try datasetRoot()
        let steps = 100
        let model = #"""
        {"layers": [{"conv2d": {"out": 8, "kernel": 5}}, {"batch_norm2d": {}}, {"relu": {}}, {"avg_pool2d": {"kernel": 2}},
          {"residual": {"body": [{"conv2d": {"out": 8, "kernel": 3, "padding": 1, "bias": false}}, {"batch_norm2d": {}}, {"relu": {}}]}},
          {"flatten": {}}, {"linear": {"out": 32}}, {"relu": {}}, {"linear": {"out": 10}}]}
        """#
        var config = try config("import", dataset: "mnist", model: model, transforms: Self.mnistTransforms, root: root, steps: steps)
        // Plain SGD at lr 0.01: with momentum 0.9 (an effective step 10x larger) the two runs,
        // equal to 1e-7 at first, part at the first ReLU that flips on a rounding difference
        // (about step 15) and differ by 1e-2 at step 100, as two PyTorch runs with other thread
        // counts do; a max pool's near-ties route gradients apart the same way (docs/interop.md).
        config.optimizer.momentum = 0
        config.train.logEvery = 1
        let data = try DataFactory.make(config.data, seed: 3)
        XCTAssertEqual(data.train.batchesPerEpoch, steps)
        var batches = SafetensorsFile()
        for batch in data.train.batches(epoch: 0) {
            batches.append("input_\(batch.index)", batch.inputs)
            batches.append("target_\(batch.index)", batch.targets)
        }
        let classes = Tensor.zeros([], dtype: .int64)
        classes.int64Data[0] = 10
        batches.append("classes", classes)
        let batchesURL = folder.appendingPathComponent("batches.safetensors")
        try batches.serialized().write(to: batchesURL)
        let configURL = folder.appendingPathComponent("config.json")
        try config.jsonText().write(to: configURL, atomically: true, encoding: .utf8)
        let prefix = folder.appendingPathComponent("torch").path
        _ = try Self.run(python, ["torch-train", configURL.path, batchesURL.path, prefix])

        // PyTorch's initial weights give PyTorch's logits in ntrain.
        let imported = try ModelFactory.make(config.model, input: data.inputShape, outputs: 10, seed: 99)
        try SafetensorsWeights.load(try SafetensorsFile.read(contentsOf: URL(fileURLWithPath: prefix + ".init.safetensors")), into: imported,
                                    path: "init", modelName: "test")
        imported.eval()
        let torchLogits = try XCTUnwrap(SafetensorsFile.floats(of: try SafetensorsFile.read(contentsOf: URL(fileURLWithPath: prefix + ".logits.safetensors")).entries[0]))
        let ours = imported(data.train.batch(epoch: 0, index: 0).inputs).scalars
        XCTAssertEqual(ours.count, torchLogits.count)
        let worst = zip(ours, torchLogits).map { abs($0 - $1) }.max()!
        XCTAssertLessThanOrEqual(worst, 1e-5 * max(1, torchLogits.map(abs).max()!), "imported logits vs PyTorch's")

        // Training from them with `--weights` follows PyTorch's loss step by step.
        let observer = StepLosses()
        let trainer = try Trainer(config: config, options: TrainOptions(weights: prefix + ".init.safetensors", out: folder.appendingPathComponent("run").path),
                                  observer: observer)
        _ = try trainer.run()
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: prefix + ".losses.json"))) as! [Double]
        XCTAssertEqual(observer.losses.count, steps)
        XCTAssertEqual(expected.count, steps)
        var worstRelative = 0.0
        for (k, (a, b)) in zip(observer.losses, expected).enumerated() {
            let relative = abs(a - b) / abs(b)
            worstRelative = max(worstRelative, relative)
            XCTAssertLessThanOrEqual(relative, 1e-4, "step \(k): ntrain \(a), PyTorch \(b)")
        }
        print("import-and-train: worst relative loss difference over \(steps) steps \(worstRelative)")
    }
}
