import Foundation
import XCTest
@testable import NTrainEngine

/// Every config in configs/ decodes under the schema and holds the settings of the tutorial it
/// reproduces (README "Example configs").
final class ShippedConfigsTests: XCTestCase {
    private static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("configs")

    private static let expected = [
        "cifar10-cnn", "cifar10-resnet", "conv-bn-random", "fashion-mnist-lenet", "lenet-mnist", "lenet5-gelu-mnist", "linear-regression", "mnist-fast",
    ]

    private func load(_ name: String) throws -> ExperimentConfig {
        try ExperimentConfig.load(contentsOf: Self.folder.appendingPathComponent(name + ".json"))
    }

    func testEveryShippedConfigDecodesAndRoundTrips() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertEqual(files, Self.expected.map { $0 + ".json" }, "a new config needs its checks here and a README line")
        for file in files {
            let config = try ExperimentConfig.load(contentsOf: Self.folder.appendingPathComponent(file))
            XCTAssertEqual(config.name + ".json", file, "the run name matches the file name")
            XCTAssertEqual(config.seed, 1, file)
            XCTAssertNil(config.device, "\(file): shipped configs leave the device to --device / MGE_DEFAULT_DEVICE")
            // The resolved form (as stored in run folders and checkpoints) decodes to the same experiment.
            XCTAssertEqual(try ExperimentConfig.decode(Data(config.jsonText().utf8)), config, file)
        }
    }

    func testLeNetMNISTFollowsMegEngineTutorial() throws {
        let c = try load("lenet-mnist")
        XCTAssertEqual(c.data.dataset, .mnist)
        XCTAssertEqual(c.data.transforms, [.normalize(mean: [0.1307], std: [0.3081]), .pad(2)])  // 28x28 → 32x32
        XCTAssertEqual(c.data.batchSize, 64)
        XCTAssertEqual(c.model.arch, .lenet)
        XCTAssertEqual(c.model.activation, .relu)
        XCTAssertEqual(c.model.pool, .max)
        XCTAssertEqual(c.loss.type, .crossEntropy)
        XCTAssertEqual(c.optimizer.type, .sgd)
        XCTAssertEqual(c.optimizer.lr, 0.05)
        XCTAssertEqual(c.optimizer.momentum, 0)
        XCTAssertEqual(c.scheduler.type, .constant)
        XCTAssertEqual(c.train.epochs, 10)
        XCTAssertEqual(c.checkpoint.monitor, .accuracy)
        XCTAssertEqual(c.checkpoint.mode, .max)
    }

    func testLeNet5GELUMNIST() throws {
        let c = try load("lenet5-gelu-mnist")
        XCTAssertEqual(c.data.dataset, .mnist)
        XCTAssertFalse(c.data.transforms.contains { if case .pad = $0 { return true } else { return false } }, "lenet5 takes 28x28")
        XCTAssertEqual(c.data.batchSize, 128)
        XCTAssertEqual(c.model.arch, .lenet5)
        XCTAssertEqual(c.model.activation, .gelu)
        XCTAssertEqual(c.model.pool, .avg)
        XCTAssertEqual(c.optimizer.type, .nadam)
        XCTAssertEqual(c.optimizer.lr, 3e-3)
        XCTAssertEqual(c.optimizer.betas, [0.9, 0.999])
        XCTAssertEqual(c.train.epochs, 10)
    }

    func testCIFAR10CNNFollowsPyTorchTutorial() throws {
        let c = try load("cifar10-cnn")
        XCTAssertEqual(c.data.dataset, .cifar10)
        XCTAssertEqual(c.data.transforms, [.normalize(mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5])])
        XCTAssertEqual(c.data.batchSize, 4)
        XCTAssertTrue(c.data.shuffle)
        XCTAssertEqual(c.model.arch, .cifarCNN)
        XCTAssertEqual(c.loss.type, .crossEntropy)
        XCTAssertEqual(c.optimizer.type, .sgd)
        XCTAssertEqual(c.optimizer.lr, 0.001)
        XCTAssertEqual(c.optimizer.momentum, 0.9)
        XCTAssertFalse(c.optimizer.nesterov)
        XCTAssertEqual(c.train.epochs, 2)
        XCTAssertEqual(c.train.logEvery, 2000)
    }

    func testCIFAR10ResidualRecipe() throws {
        let c = try load("cifar10-resnet")
        XCTAssertEqual(c.data.dataset, .cifar10)
        XCTAssertEqual(c.data.batchSize, 512)
        XCTAssertEqual(c.train.tta, .flip)
        let layers = try XCTUnwrap(c.model.layers)
        guard case .conv2d(let first) = layers[0] else { return XCTFail("the first layer is the whitening conv") }
        XCTAssertEqual(first.initialization, .patchWhitening)
        XCTAssertEqual(layers.filter { if case .residual = $0 { return true } else { return false } }.count, 3)
        XCTAssertEqual(c.optimizer.groups.first?.match, ["0.weight"], "the whitening filters stay fixed")
        XCTAssertEqual(c.optimizer.groups.first?.lrScale, 0)
        // The triangular schedule (warm up over 20% of the steps, then down) ends on the last step.
        let validation = try XCTUnwrap(c.data.validation)
        let trainImages = 50000 - Int((50000 * validation).rounded())
        let steps = c.train.epochs * Int((Double(trainImages) / Double(c.data.batchSize)).rounded(.up))
        XCTAssertEqual(c.scheduler.interval, .step)
        XCTAssertEqual(c.scheduler.milestones, [c.scheduler.schedulers[0].totalIters])
        XCTAssertEqual(c.scheduler.schedulers.map(\.totalIters).reduce(0, +), steps)
        XCTAssertEqual(Double(c.scheduler.milestones[0]) / Double(steps), 0.2, accuracy: 0.01)
        let model = try ModelFactory.make(c.model, input: [3, 32, 32], outputs: 10, seed: 1)
        XCTAssertEqual(model.parameterCount, 1_972_792)
    }

    func testLinearRegressionFollowsMindSporeTutorial() throws {
        let c = try load("linear-regression")
        XCTAssertEqual(c.data.dataset, .syntheticLinear)
        let s = try XCTUnwrap(c.data.syntheticLinear)
        XCTAssertEqual(s.count, 1600)
        XCTAssertEqual(s.weight, [2])
        XCTAssertEqual(s.bias, 3)
        XCTAssertEqual(s.noise, 1)
        XCTAssertEqual(s.range, [-10, 10])
        XCTAssertEqual(c.data.batchSize, 16)
        XCTAssertEqual(c.model.arch, .linear)
        XCTAssertEqual(c.loss.type, .mse)
        XCTAssertEqual(c.optimizer.type, .sgd)
        XCTAssertEqual(c.optimizer.lr, 0.005)
        XCTAssertEqual(c.optimizer.momentum, 0.9)
        // Cosine decay over 10 epochs brings w within 0.05 of 2 and b within 0.2 of 3 (the
        // tutorial's single constant-lr epoch leaves |w - 2| up to ~0.12).
        XCTAssertEqual(c.scheduler.type, .cosine)
        XCTAssertNil(c.scheduler.tMax)
        XCTAssertEqual(c.train.epochs, 10)
        XCTAssertEqual(c.checkpoint.monitor, .mse)
        XCTAssertEqual(c.checkpoint.mode, .min)
    }

    func testConvBNRandomFollowsMXNetModuleExample() throws {
        let c = try load("conv-bn-random")
        XCTAssertEqual(c.data.dataset, .random)
        let r = try XCTUnwrap(c.data.random)
        XCTAssertEqual(r.count, 1000)
        XCTAssertEqual(r.shape, [3, 28, 28])
        XCTAssertEqual(r.classes, 10)
        XCTAssertEqual(c.data.batchSize, 8)
        XCTAssertEqual(c.model.arch, .convBN)
        XCTAssertEqual(c.optimizer.type, .sgd)
        XCTAssertEqual(c.optimizer.lr, 0.01)
        XCTAssertEqual(c.train.epochs, 5)
    }

    func testFashionMNISTLeNetDemo() throws {
        let c = try load("fashion-mnist-lenet")
        XCTAssertEqual(c.data.dataset, .fashionMNIST)
        XCTAssertEqual(c.data.transforms, [.normalize(mean: [0.2860], std: [0.3530]), .pad(2)])
        XCTAssertEqual(c.model.arch, .lenet)
        XCTAssertEqual(c.optimizer.type, .sgd)
        XCTAssertEqual(c.optimizer.lr, 0.01)
        XCTAssertEqual(c.optimizer.momentum, 0.9)
        XCTAssertEqual(c.train.epochs, 5)
        XCTAssertEqual(c.checkpoint.monitor, .accuracy)
    }
}
