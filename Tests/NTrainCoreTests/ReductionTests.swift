import XCTest
@testable import NTrainCore

final class ReductionTests: XCTestCase {
    func testSumAndMeanGradients() {
        var rng = RandomGenerator(seed: 21)
        for trial in 0..<4 {
            let shape = rng.shape(rank: 3 + trial % 2)
            assertGradients([rng.tensor(shape)], "sum \(shape)") { $0[0].sum() }
            assertGradients([rng.tensor(shape)], "mean \(shape)") { $0[0].mean() }
            assertGradients([rng.tensor(shape)], "sum [0, 2] \(shape)") { $0[0].sum(axes: [0, 2]) }
            assertGradients([rng.tensor(shape)], "sum [-1] keep \(shape)") { $0[0].sum(axes: [-1], keepDims: true) }
            assertGradients([rng.tensor(shape)], "mean [1, 2] \(shape)") { $0[0].mean(axes: [1, 2]) }
            assertGradients([rng.tensor(shape)], "variance [0] \(shape)") { $0[0].variance(axes: [0]) }
            if shape[1] * shape[2] > 1 {
                assertGradients([rng.tensor(shape)], "variance unbiased [1, 2] keep \(shape)") {
                    $0[0].variance(axes: [1, 2], keepDims: true, unbiased: true)
                }
            }
        }
    }

    func testSumOverAxesValues() {
        let x = Tensor(shape: [2, 3, 2], scalars: (0..<12).map(Float.init))
        XCTAssertEqual(x.sum(axes: [1]).scalars, [6, 9, 24, 27])
        XCTAssertEqual(x.sum(axes: [1]).shape, [2, 2])
        XCTAssertEqual(x.sum(axes: [0, 2], keepDims: true).shape, [1, 3, 1])
        XCTAssertEqual(x.sum(axes: [0, 2], keepDims: true).scalars, [14, 22, 30])
        XCTAssertEqual(x.sum(axes: [0, 1, 2]).shape, [])
        XCTAssertEqual(x.sum(axes: [0, 1, 2]).item(), 66)
        XCTAssertEqual(x.mean(axes: [-1]).scalars, [0.5, 2.5, 4.5, 6.5, 8.5, 10.5])
        XCTAssertEqual(x.variance(axes: [2]).scalars, [Float](repeating: 0.25, count: 6))
        XCTAssertEqual(x.variance(axes: [2], unbiased: true).scalars, [Float](repeating: 0.5, count: 6))
    }

    func testMaxAndArgmax() {
        var rng = RandomGenerator(seed: 22)
        for trial in 0..<3 {
            let shape = rng.shape(rank: 2 + trial % 2, maxSize: 6)
            for axis in 0..<shape.rank {
                assertGradients([rng.distinct(shape)], "max axis \(axis) \(shape)") { $0[0].max(axis: axis) }
            }
        }
        let x = Tensor(shape: [2, 3], scalars: [1, 5, 5, 7, -1, 2])
        XCTAssertEqual(x.max(axis: 1).scalars, [5, 7])
        XCTAssertEqual(x.argmax(axis: 1).dtype, .int32)
        XCTAssertEqual(x.argmax(axis: 1).scalars, [1, 0])  // first of tied maxima, as PyTorch
        XCTAssertEqual(x.argmax(axis: 0).scalars, [1, 0, 0])
        XCTAssertEqual(x.max(axis: 0, keepDims: true).shape, [1, 3])
        let withNaN = Tensor(shape: [3], scalars: [1, .nan, 3])
        XCTAssertTrue(withNaN.max(axis: 0).item().isNaN)
    }

    /// Column sums over a large batch take the parallel path; they must match a serial reference.
    func testLargeReductionsAreDeterministic() {
        var rng = RandomGenerator(seed: 23)
        let x = rng.tensor([300, 257], requiresGrad: false)
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 3
        let cols3 = x.sum(axes: [0]).scalars, rows3 = x.sum(axes: [1]).scalars
        Parallel.threadCount = 1
        XCTAssertEqual(x.sum(axes: [0]).scalars, cols3)
        XCTAssertEqual(x.sum(axes: [1]).scalars, rows3)
        let xs = x.scalars
        var col0: Float = 0
        for r in 0..<300 { col0 += xs[r * 257] }
        XCTAssertEqual(cols3[0], col0, accuracy: 1e-4)
    }
}
