import XCTest
@testable import NTrainCore

final class BatchNormTests: XCTestCase {
    private func random(_ shape: Shape, _ rng: inout RandomGenerator, lo: Float = -1, hi: Float = 1, requiresGrad: Bool = true) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.count).map { _ in rng.uniform(lo, hi) }, requiresGrad: requiresGrad)
    }

    func testTrainingNormalisesWithBatchStatisticsAndUpdatesRunningStats() {
        // Channel 0 holds 1, 2, 3, 4 (mean 2.5, biased var 1.25, unbiased 5/3); channel 1 is constant 7.
        let x = Tensor(shape: [2, 2, 1, 2], scalars: [1, 2, 7, 7, 3, 4, 7, 7])
        let rm = Tensor(shape: [2], scalars: [0, 1]), rv = Tensor(shape: [2], scalars: [1, 2])
        let y = x.batchNorm(runningMean: rm, runningVar: rv, weight: nil, bias: nil, training: true, momentum: 0.1, eps: 1e-5)
        let s = Float(1.25 + 1e-5).squareRoot()
        let expected: [Float] = [-1.5 / s, -0.5 / s, 0, 0, 0.5 / s, 1.5 / s, 0, 0]
        for (a, e) in zip(y.scalars, expected) { XCTAssertEqual(a, e, accuracy: 1e-5) }
        XCTAssertEqual(rm.scalars[0], 0.25, accuracy: 1e-6)
        XCTAssertEqual(rm.scalars[1], 0.9 * 1 + 0.1 * 7, accuracy: 1e-6)
        XCTAssertEqual(rv.scalars[0], 0.9 + 0.1 * 5 / 3, accuracy: 1e-6)
        XCTAssertEqual(rv.scalars[1], 0.9 * 2, accuracy: 1e-6)
    }

    func testEvalUsesRunningStatisticsAndLeavesThemAlone() {
        let x = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        let rm = Tensor(shape: [2], scalars: [1, -1]), rv = Tensor(shape: [2], scalars: [4, 0.25])
        let w = Tensor(shape: [2], scalars: [2, 3]), b = Tensor(shape: [2], scalars: [0.5, -0.5])
        let y = x.batchNorm(runningMean: rm, runningVar: rv, weight: w, bias: b, training: false, eps: 0)
        // (x − mean) / sqrt(var) · w + b per channel.
        let expected: [Float] = [0 / 2 * 2 + 0.5, 3 / 0.5 * 3 - 0.5, 2 / 2 * 2 + 0.5, 5 / 0.5 * 3 - 0.5]
        XCTAssertEqual(y.scalars, expected)
        XCTAssertEqual(rm.scalars, [1, -1])
        XCTAssertEqual(rv.scalars, [4, 0.25])
    }

    func testGradientCheckTrainingAndEval() {
        var rng = RandomGenerator(seed: 31)
        for shape: Shape in [[5, 3], [3, 4, 3, 5], [2, 3, 1, 7]] {
            for training in [true, false] {
                let c = shape[1]
                let x = random(shape, &rng, lo: -2, hi: 2)
                let w = random([c], &rng, lo: 0.5, hi: 1.5), b = random([c], &rng)
                let rm = random([c], &rng, requiresGrad: false), rv = random([c], &rng, lo: 0.5, hi: 1.5, requiresGrad: false)
                let r = gradientCheck([x, w, b], epsilon: 1e-2, tolerance: 1e-2) { t in
                    t[0].batchNorm(runningMean: rm, runningVar: rv, weight: t[1], bias: t[2], training: training)
                }
                XCTAssertTrue(r.passed, "\(shape) training \(training): \(r)")
            }
        }
        // Without affine parameters.
        let x = random([4, 2, 3, 3], &rng)
        let rm = Tensor.zeros([2]), rv = Tensor.ones([2])
        let r = gradientCheck([x]) { t in t[0].batchNorm(runningMean: rm, runningVar: rv, weight: nil, bias: nil, training: true) }
        XCTAssertTrue(r.passed, "no affine: \(r)")
    }

    func testMatchesPyTorch() throws {
        for c in try ConvGolden.load().batch_norm {
            let x = c.x.tensor(requiresGrad: true)
            let w = c.weight?.tensor(requiresGrad: true), b = c.bias?.tensor(requiresGrad: true)
            let rm = c.running_mean.tensor, rv = c.running_var.tensor
            let y = x.batchNorm(runningMean: rm, runningVar: rv, weight: w, bias: b, training: c.training,
                                momentum: c.momentum, eps: c.eps)
            assertClose(y, c.out, rel: 1e-5, abs: 1e-5, "\(c.name): output")
            assertClose(rm, c.new_running_mean, rel: 1e-5, "\(c.name): running mean")
            assertClose(rv, c.new_running_var, rel: 1e-5, "\(c.name): running var")
            y.backward(c.probe.tensor)
            assertClose(x.grad, c.grad_x, rel: 1e-4, abs: 1e-5, "\(c.name): grad x")
            assertClose(w?.grad, c.grad_weight, rel: 1e-5, abs: 1e-5, "\(c.name): grad weight")
            assertClose(b?.grad, c.grad_bias, rel: 1e-5, abs: 1e-5, "\(c.name): grad bias")
        }
    }

    func testStatisticsDoNotDependOnThreadCount() {
        var rng = RandomGenerator(seed: 32)
        let x = random([9, 5, 4, 3], &rng, requiresGrad: false)
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 1
        let one = Kernels.batchNormStatistics(x)
        Parallel.threadCount = 4
        let four = Kernels.batchNormStatistics(x)
        XCTAssertEqual(one.mean.scalars, four.mean.scalars)
        XCTAssertEqual(one.variance.scalars, four.variance.scalars)
    }
}
