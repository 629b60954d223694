import XCTest
@testable import NTrainCore

final class ShapeOpsTests: XCTestCase {
    func testReshapeSharesStorageAndInfersDimension() {
        let x = Tensor(shape: [2, 3, 4], scalars: (0..<24).map(Float.init))
        let v = x.reshaped([-1, 6])
        XCTAssertEqual(v.shape, [4, 6])
        XCTAssertTrue(v.storage === x.storage)
        x.data[5] = 100
        XCTAssertEqual(v.scalars[5], 100)
        XCTAssertEqual(x.flattened().shape, [2, 12])
        XCTAssertEqual(x.flattened(from: 0).shape, [24])
        XCTAssertEqual(x.flattened(from: 2).shape, [2, 3, 4])
        XCTAssertEqual(x.reshaped([4, -1, 3]).shape, [4, 2, 3])
    }

    func testPermuteAndTransposeValues() {
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(x.transposed().shape, [3, 2])
        XCTAssertEqual(x.transposed().scalars, [1, 4, 2, 5, 3, 6])
        let y = Tensor(shape: [2, 3, 2], scalars: (0..<12).map(Float.init))
        let p = y.permuted([2, 0, 1])
        XCTAssertEqual(p.shape, [2, 2, 3])
        XCTAssertEqual(p.scalars, [0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11])
        XCTAssertEqual(y.permuted([0, 1, 2]).scalars, y.scalars)
        // A large transpose takes the tiled, parallel path.
        var rng = RandomGenerator(seed: 40)
        let big = rng.tensor([131, 257], requiresGrad: false)
        let t = big.transposed(), bs = big.scalars, ts = t.scalars
        for (r, c) in [(0, 0), (130, 256), (77, 3), (5, 200)] { XCTAssertEqual(ts[c * 131 + r], bs[r * 257 + c]) }
        XCTAssertEqual(big.permuted([1, 0]).scalars, ts)
    }

    func testPadAndConcatValues() {
        let x = Tensor(shape: [1, 2], scalars: [1, 2])
        let p = x.padded([(1, 0), (0, 2)], value: -1)
        XCTAssertEqual(p.shape, [2, 4])
        XCTAssertEqual(p.scalars, [-1, -1, -1, -1, 1, 2, -1, -1])
        let a = Tensor(shape: [2, 1], scalars: [1, 2]), b = Tensor(shape: [2, 2], scalars: [3, 4, 5, 6])
        XCTAssertEqual(Tensor.concat([a, b], axis: 1).scalars, [1, 3, 4, 2, 5, 6])
        XCTAssertEqual(Tensor.concat([b, b], axis: 0).scalars, [3, 4, 5, 6, 3, 4, 5, 6])
        XCTAssertEqual(Tensor.concat([a, b], axis: -1).shape, [2, 3])
    }

    func testFlipReversesOneAxis() {
        let x = Tensor(shape: [2, 1, 2, 3], scalars: (0..<12).map(Float.init))
        XCTAssertEqual(x.flipped(axis: 3).scalars, [2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9])
        XCTAssertEqual(x.flipped(axis: 2).scalars, [3, 4, 5, 0, 1, 2, 9, 10, 11, 6, 7, 8])
        XCTAssertEqual(x.flipped(axis: 0).scalars, [6, 7, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5])
        XCTAssertEqual(x.flipped(axis: -1).flipped(axis: -1).scalars, x.scalars)
        XCTAssertEqual(Tensor(shape: [3], scalars: [1, 2, 3]).flipped(axis: 0).scalars, [3, 2, 1])
    }

    func testGradients() {
        var rng = RandomGenerator(seed: 41)
        for trial in 0..<3 {
            let shape = rng.shape(rank: 3, maxSize: 5)
            assertGradients([rng.tensor(shape)], "reshape \(shape)") { $0[0].reshaped([-1]) * $0[0].reshaped([-1]) }
            assertGradients([rng.tensor(shape)], "flatten \(shape)") { $0[0].flattened().pow(2) }
            assertGradients([rng.tensor([shape[0], shape[1]])], "transpose") { $0[0].transposed() }
            assertGradients([rng.tensor(shape)], "permute \(shape)") { $0[0].permuted([1, 2, 0]) }
            assertGradients([rng.tensor(shape)], "permute -1 \(shape)") { $0[0].permuted([-1, 0, 1]) }
            assertGradients([rng.tensor(shape)], "pad \(shape)") { $0[0].padded([(trial, 1), (0, 0), (2, trial)], value: 0.3) }
            let other = Shape([shape[0], 1 + trial, shape[2]])
            assertGradients([rng.tensor(shape), rng.tensor(other), rng.tensor(shape)], "concat \(shape)") {
                Tensor.concat($0, axis: 1)
            }
            assertGradients([rng.tensor(shape)], "concat self") { Tensor.concat([$0[0], $0[0]], axis: 2) }
            assertGradients([rng.tensor(shape)], "flip \(shape)") { $0[0].flipped(axis: trial - 1) * $0[0] }
        }
    }
}
