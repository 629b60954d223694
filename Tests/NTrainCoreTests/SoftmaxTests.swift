import XCTest
@testable import NTrainCore

final class SoftmaxTests: XCTestCase {
    func testGradients() {
        var rng = RandomGenerator(seed: 31)
        for trial in 0..<3 {
            let shape = rng.shape(rank: 2 + trial % 2, maxSize: 6)
            for axis in -1..<shape.rank {
                assertGradients([rng.tensor(shape, -3, 3)], "softmax axis \(axis) \(shape)") { $0[0].softmax(axis: axis) }
                assertGradients([rng.tensor(shape, -3, 3)], "logSoftmax axis \(axis) \(shape)") { $0[0].logSoftmax(axis: axis) }
            }
        }
    }

    func testStableForLargeLogits() {
        let x = Tensor(shape: [2, 3], scalars: [1000, 1001, 1002, -1000, -1000, -1000])
        let y = x.softmax().scalars
        XCTAssertTrue(y.allSatisfy { $0.isFinite })
        XCTAssertEqual(y[3], 1.0 / 3, accuracy: 1e-6)
        XCTAssertEqual(y[0] + y[1] + y[2], 1, accuracy: 1e-6)
        let l = x.logSoftmax().scalars
        XCTAssertEqual(l[2], -0.40760596, accuracy: 1e-5)
        XCTAssertEqual(l[4], -1.0986123, accuracy: 1e-5)
    }

    func testRowsSumToOneAlongInnerAxis() {
        var rng = RandomGenerator(seed: 32)
        let y = rng.tensor([3, 5, 4], -5, 5, requiresGrad: false).softmax(axis: 1)
        for s in y.sum(axes: [1]).scalars { XCTAssertEqual(s, 1, accuracy: 1e-6) }
    }
}
