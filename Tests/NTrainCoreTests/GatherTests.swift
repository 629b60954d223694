import XCTest
@testable import NTrainCore

final class GatherTests: XCTestCase {
    func testGatheredValuesAndGradient() {
        let x = Tensor(shape: [3, 4], scalars: (0..<12).map(Float.init), requiresGrad: true)
        let labels = Tensor(shape: [3], int32s: [3, 0, 2])
        let y = x.gathered(classIndices: labels)
        XCTAssertEqual(y.scalars, [3, 4, 10])
        y.sum().backward()
        XCTAssertEqual(x.grad?.scalars, [0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0])

        var rng = RandomGenerator(seed: 51)
        let n = 7, c = 5
        let idx = Tensor(shape: [n], int32s: (0..<n).map { _ in Int32(rng.int(below: c)) })
        assertGradients([rng.tensor([n, c])], "gathered") { $0[0].gathered(classIndices: idx) }
    }

    func testOneHot() {
        let labels = Tensor(shape: [3], int32s: [2, 0, 1])
        let y = labels.oneHot(classes: 3)
        XCTAssertEqual(y.shape, [3, 3])
        XCTAssertEqual(y.dtype, .float32)
        XCTAssertEqual(y.scalars, [0, 0, 1, 1, 0, 0, 0, 1, 0])
    }
}
