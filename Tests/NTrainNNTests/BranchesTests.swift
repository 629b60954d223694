import XCTest
import NTrainCore
@testable import NTrainNN

/// Residual and concatenating blocks, the global average pool and the built-in ResNets.
final class BranchesTests: XCTestCase {
    private func random(_ shape: Shape, _ g: inout RandomGenerator) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.count).map { _ in g.uniform(-1, 1) }, requiresGrad: true)
    }

    private func check(_ module: Module, input: Tensor, file: StaticString = #filePath, line: UInt = #line) {
        let result = gradientCheck([input] + module.parameters, epsilon: 1e-2, tolerance: 2e-2) { _ in module(input) }
        XCTAssertTrue(result.passed, "\(module.summary): \(result)", file: file, line: line)
    }

    /// The input feeds both paths, so its gradient is the sum of the body's and the identity's.
    func testResidualWithIdentityShortcutGradients() throws {
        var g = RandomGenerator(seed: 31)
        let body = Sequential(named: [("conv", try Conv2d(3, 3, kernel: (3, 3), padding: (1, 1), generator: &g)), ("act", Activation(.tanh))])
        let block = Branches.residual(body: body, activation: Activation(.tanh))
        check(block, input: random([2, 3, 5, 4], &g))
        XCTAssertEqual(block.namedParameters().map(\.0), ["body.conv.weight", "body.conv.bias"])
    }

    func testResidualWithProjectionShortcutAndConcatGradients() throws {
        var g = RandomGenerator(seed: 32)
        let body = Sequential([try Conv2d(2, 4, kernel: (3, 3), stride: (2, 2), padding: (1, 1), generator: &g)])
        let shortcut = Sequential([try Conv2d(2, 4, kernel: (1, 1), stride: (2, 2), generator: &g)])
        check(Branches.residual(body: body, shortcut: shortcut), input: random([2, 2, 5, 6], &g))
        let concat = Branches([Sequential([]), Sequential([try Conv2d(2, 3, kernel: (1, 1), generator: &g)])], merge: .concat)
        let x = random([2, 2, 3, 3], &g)
        XCTAssertEqual(try concat.outputShape(for: x.shape), [2, 5, 3, 3])
        check(concat, input: x)
    }

    func testPathsThatDoNotMergeNameEachShape() throws {
        var g = RandomGenerator(seed: 33)
        let block = Branches.residual(body: Sequential([try Conv2d(3, 8, kernel: (1, 1), generator: &g)]))
        XCTAssertThrowsError(try block.outputShape(for: [1, 3, 4, 4])) { error in
            XCTAssertTrue("\(error)".contains("body gives [1, 8, 4, 4], shortcut gives [1, 3, 4, 4]"), "\(error)")
        }
        let concat = Branches([Sequential([]), Sequential([try Pool2d(.max, kernel: (2, 2))])], merge: .concat)
        XCTAssertThrowsError(try concat.outputShape(for: [1, 3, 4, 4]))
    }

    func testGlobalAveragePoolIsTheMeanOfEachChannelWithItsGradient() throws {
        var g = RandomGenerator(seed: 34)
        let x = random([2, 3, 5, 3], &g)
        let y = GlobalAvgPool2d()(x)
        XCTAssertEqual(y.shape, [2, 3, 1, 1])
        let first = (0..<15).map { x.scalars[$0] }.reduce(0, +) / 15
        XCTAssertEqual(y.scalars[0], first, accuracy: 1e-6)
        check(GlobalAvgPool2d(), input: x)
    }

    /// Parameter counts of He et al.'s CIFAR ResNets with 1x1-conv + BN projection shortcuts
    /// (option B): option A's 269,722 for ResNet-20 (akamaster's count) plus two projections
    /// (16→32 and 32→64, each with its BN).
    func testBuiltInResNetsHaveTheirParameterCountsAndWidth() throws {
        let count = { (model: BuiltinModel, width: Int?) -> Int in
            try model.make(input: [3, 32, 32], outputs: 10, options: .init(width: width), seed: 1).parameterCount
        }
        XCTAssertEqual(try count(.resnet20, nil), 269_722 + (16 * 32 + 64) + (32 * 64 + 128))
        XCTAssertLessThan(try count(.resnet20, 8), try count(.resnet20, nil))
        XCTAssertGreaterThan(try count(.resnet56, nil), try count(.resnet32, nil))
        XCTAssertEqual(try count(.resnet18, nil), 11_173_962, "torchvision's ResNet-18 with a 3x3 stem and 10 classes")
        let model = try BuiltinModel.resnet20.make(input: [3, 32, 32], outputs: 10, options: .init(width: 4), seed: 1)
        XCTAssertEqual(try model.outputShape(for: [2, 3, 32, 32]), [2, 10])
        XCTAssertTrue(model.namedParameters().map(\.0).contains("layer2.0.shortcut.conv.weight"))
        XCTAssertThrowsError(try BuiltinModel.resnet20.make(input: [784], outputs: 10, seed: 1))
    }
}
