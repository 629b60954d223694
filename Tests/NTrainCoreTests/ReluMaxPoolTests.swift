import XCTest
@testable import NTrainCore

/// The fused ReLU → max-pool op against `relu().maxPool2d(...)`.
final class ReluMaxPoolTests: XCTestCase {
    private let cases: [(shape: Shape, kernel: (Int, Int), stride: (Int, Int)?, padding: (Int, Int))] = [
        ([3, 4, 8, 8], (2, 2), nil, (0, 0)),
        ([2, 3, 9, 7], (2, 2), nil, (0, 0)),        // odd sizes: the last row/column is not pooled
        ([2, 2, 9, 10], (3, 3), (2, 2), (1, 1)),    // overlapping, padded windows
        ([1, 5, 6, 6], (3, 2), (1, 2), (0, 1)),
        ([2, 3, 28, 28], (2, 2), nil, (0, 0)),      // backward in SIMD lanes: 14 windows a row, overlapping groups
        ([1, 2, 4, 32], (2, 2), nil, (0, 0)),       // 16 windows a row: two whole groups
    ]

    private func bits(_ x: Tensor, _ r: Tensor, _ op: (Tensor) -> Tensor) -> [[UInt32]] {
        x.grad = nil
        let y = op(x)
        (y * r).sum().backward()
        return [y.scalars.map(\.bitPattern), x.grad!.scalars.map(\.bitPattern)]
    }

    func testBitIdenticalToReluThenMaxPool() {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        for threads in [1, 2, 3] {
            Parallel.threadCount = threads
            for (i, c) in cases.enumerated() {
                var rng = RandomGenerator(seed: UInt64(20 + i))
                let x = Tensor(shape: c.shape, scalars: (0..<c.shape.count).map { _ in rng.uniform(-1, 1) }, requiresGrad: true)
                x.data[3] = .nan
                x.data[7] = -.infinity
                x.data[11] = .infinity
                let outShape = x.maxPool2d(kernel: c.kernel, stride: c.stride, padding: c.padding).shape
                let r = Tensor(shape: outShape, scalars: (0..<outShape.count).map { _ in rng.uniform(-1, 1) })
                for j in stride(from: 5, to: r.count, by: 13) { r.data[j] = -0.0 }  // −0 gradients become +0
                let expected = bits(x, r) { $0.relu().maxPool2d(kernel: c.kernel, stride: c.stride, padding: c.padding) }
                let got = bits(x, r) { $0.reluMaxPool2d(kernel: c.kernel, stride: c.stride, padding: c.padding) }
                XCTAssertEqual(got[0], expected[0], "case \(i), \(threads) threads: output")
                XCTAssertEqual(got[1], expected[1], "case \(i), \(threads) threads: gradient")
            }
        }
    }

    func testGradientCheck() {
        for (i, c) in cases.enumerated() {
            var rng = RandomGenerator(seed: UInt64(30 + i))
            // Values 0.1 apart and 0.05 off zero: no probe crosses a ReLU kink or changes a window's maximum.
            let x = Tensor(shape: c.shape, scalars: rng.distinct(c.shape).scalars.map { $0 + 0.05 }, requiresGrad: true)
            let r = gradientCheck([x], epsilon: 1e-3, tolerance: 1e-2) { t in
                t[0].reluMaxPool2d(kernel: c.kernel, stride: c.stride, padding: c.padding)
            }
            XCTAssertTrue(r.passed, "case \(i): \(r)")
        }
    }
}
