import XCTest
import NTrainCore
@testable import NTrainNN

final class ModuleTests: XCTestCase {
    func testLeNetNamesShapesAndParameterCount() throws {
        let model = try BuiltinModel.lenet.make(input: [1, 32, 32], outputs: 10, seed: 1)
        let names = model.namedParameters().map(\.0)
        XCTAssertEqual(names, ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias",
                               "fc2.weight", "fc2.bias", "classifier.weight", "classifier.bias"])
        // MegEngine's LeNet: 156 + 2,416 + 48,120 + 10,164 + 850.
        XCTAssertEqual(model.parameterCount, 61_706)
        XCTAssertEqual(try model.outputShape(for: [64, 1, 32, 32]), [64, 10])
        let y = model(Tensor.zeros([2, 1, 32, 32]))
        XCTAssertEqual(y.shape, [2, 10])
    }

    func testBuiltinsInferInputSizes() throws {
        // LeNet on 28x28 (no padding) infers fc1's input (16·4·4) from the data shape.
        let lenet = try BuiltinModel.lenet.make(input: [1, 28, 28], outputs: 10, seed: 1)
        XCTAssertEqual((lenet.children.first { $0.0 == "fc1" }?.1 as? Linear)?.inFeatures, 256)
        XCTAssertEqual(try BuiltinModel.lenet5.make(input: [1, 28, 28], outputs: 10, seed: 1).outputShape(for: [3, 1, 28, 28]), [3, 10])
        XCTAssertEqual(try BuiltinModel.cifarCNN.make(input: [3, 32, 32], outputs: 10, seed: 1).parameterCount, 62_006)
        let convBN = try BuiltinModel.convBN.make(input: [3, 28, 28], outputs: 10, seed: 1)
        XCTAssertEqual(convBN.namedBuffers().map(\.0), ["bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked"])
        XCTAssertEqual(try BuiltinModel.linear.make(input: [1], outputs: 1, seed: 1).parameterCount, 2)
        XCTAssertThrowsError(try BuiltinModel.lenet.make(input: [784], outputs: 10, seed: 1))
        XCTAssertThrowsError(try BuiltinModel.lenet.make(input: [1, 8, 8], outputs: 10, seed: 1))
    }

    func testSameSeedSameWeights() throws {
        let a = try BuiltinModel.lenet.make(input: [1, 32, 32], outputs: 10, seed: 42)
        let b = try BuiltinModel.lenet.make(input: [1, 32, 32], outputs: 10, seed: 42)
        let c = try BuiltinModel.lenet.make(input: [1, 32, 32], outputs: 10, seed: 43)
        XCTAssertEqual(a.parameters.flatMap(\.scalars), b.parameters.flatMap(\.scalars))
        XCTAssertNotEqual(a.parameters.flatMap(\.scalars), c.parameters.flatMap(\.scalars))
    }

    func testKaimingUniformBoundsMatchPyTorchDefault() throws {
        var g = RandomGenerator(seed: 3)
        let fc = Linear(400, 120, generator: &g)
        let bound = 1 / Float(400).squareRoot()
        XCTAssertTrue(fc.weight.scalars.allSatisfy { abs($0) <= bound })
        XCTAssertGreaterThan(fc.weight.scalars.map(abs).max()!, bound * 0.95)
    }

    func testStateDictRoundTripAndMismatchErrors() throws {
        let a = try BuiltinModel.convBN.make(input: [3, 8, 8], outputs: 4, seed: 1)
        let b = try BuiltinModel.convBN.make(input: [3, 8, 8], outputs: 4, seed: 2)
        let state = Dictionary(uniqueKeysWithValues: a.stateDict().map { ($0.0, $0.1.copy()) })
        try b.load(stateDict: state)
        XCTAssertEqual(a.stateDict().flatMap { $0.1.scalars }, b.stateDict().flatMap { $0.1.scalars })

        var missing = state
        missing["fc1.bias"] = nil
        missing["fc9.bias"] = Tensor.zeros([4])
        XCTAssertThrowsError(try b.load(stateDict: missing)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("missing fc1.bias") && text.contains("unexpected fc9.bias"), text)
        }
        var wrongShape = state
        wrongShape["fc1.bias"] = Tensor.zeros([5])
        let before = b.stateDict().flatMap { $0.1.scalars }
        XCTAssertThrowsError(try b.load(stateDict: wrongShape)) { error in
            XCTAssertTrue("\(error)".contains("fc1.bias"), "\(error)")
        }
        XCTAssertEqual(b.stateDict().flatMap { $0.1.scalars }, before, "a failed load must change nothing")
    }

    func testTrainEvalPropagatesAndSwitchesBehaviour() throws {
        let dropout = try Dropout(p: 0.5, seed: 1)
        let model = Sequential([Flatten(), dropout])
        let x = Tensor.ones([4, 100])
        model.eval()
        XCTAssertFalse(dropout.isTraining)
        XCTAssertEqual(model(x).scalars, x.scalars)
        model.train()
        XCTAssertTrue(dropout.isTraining)
        let y = model(x).scalars
        XCTAssertTrue(y.allSatisfy { $0 == 0 || $0 == 2 })
        XCTAssertTrue(y.contains(0) && y.contains(2))
        // The generator state is a buffer: its next mask differs, and restoring it repeats the mask.
        let saved = dropout.generatorState.copy()
        let first = model(x).scalars
        dropout.generatorState.assign(saved)
        XCTAssertEqual(model(x).scalars, first)
    }

    func testBadLayerOptionsAreErrors() {
        var g = RandomGenerator(seed: 1)
        XCTAssertThrowsError(try Conv2d(3, 4, kernel: (3, 3), groups: 2, generator: &g))
        XCTAssertThrowsError(try Conv2d(3, 4, kernel: (0, 3), generator: &g))
        XCTAssertThrowsError(try Pool2d(.max, kernel: (2, 2), padding: (2, 2)))
        XCTAssertThrowsError(try Dropout(p: 1, seed: 1))
    }
}
