import XCTest
@testable import NTrainCore

/// The fused conv → ReLU → max-pool and conv → GELU → average-pool ops against the three ops
/// run one after another.
final class FusedConvTests: XCTestCase {
    private enum Kind: CaseIterable { case reluMax, geluAverage }
    private struct Case {
        var n, c, h, w, o: Int
        var kernel: (Int, Int)
        var stride = (1, 1), padding = (0, 0), dilation = (1, 1)
        var groups = 1
        var bias = true
        var pool = (2, 2), poolStride: (Int, Int)? = nil, poolPadding = (0, 0)
    }

    private let cases: [Case] = [
        // LeNet's conv1 and conv2 shapes (several multi-image blocks per chunk at n = 9).
        Case(n: 9, c: 1, h: 32, w: 32, o: 6, kernel: (5, 5)),
        Case(n: 9, c: 6, h: 14, w: 14, o: 16, kernel: (5, 5)),
        // One image per block (large columns), no bias, odd sizes the pool does not cover.
        Case(n: 3, c: 8, h: 13, w: 11, o: 5, kernel: (3, 3), padding: (1, 1), bias: false),
        // Overlapping, padded 3x3 / stride-2 pool; grouped, strided, dilated convolution.
        Case(n: 4, c: 4, h: 9, w: 10, o: 6, kernel: (3, 2), stride: (1, 2), padding: (1, 1), dilation: (2, 1), groups: 2,
             pool: (3, 3), poolStride: (2, 2), poolPadding: (1, 1)),
        // 1x1 convolution (no im2col).
        Case(n: 2, c: 3, h: 6, w: 6, o: 4, kernel: (1, 1)),
    ]

    private func inputs(_ k: Case, seed: UInt64) -> (x: Tensor, w: Tensor, b: Tensor?, r: Tensor) {
        var rng = RandomGenerator(seed: seed)
        func random(_ shape: Shape, _ scale: Float) -> Tensor {
            Tensor(shape: shape, scalars: (0..<shape.count).map { _ in rng.uniform(-scale, scale) }, requiresGrad: true)
        }
        let x = random([k.n, k.c, k.h, k.w], 1)
        let w = random([k.o, k.c / k.groups, k.kernel.0, k.kernel.1], 0.5)
        let b = k.bias ? random([k.o], 0.3) : nil
        let outShape = separate(.reluMax)(x, w, b, k).shape
        let r = Tensor(shape: outShape, scalars: (0..<outShape.count).map { _ in rng.uniform(-1, 1) })
        for j in stride(from: 5, to: r.count, by: 13) { r.data[j] = -0.0 }  // −0 gradients become +0 in both
        return (x, w, b, r)
    }

    private func separate(_ kind: Kind) -> (Tensor, Tensor, Tensor?, Case) -> Tensor {
        { x, w, b, k in
            let y = x.conv2d(weight: w, bias: b, stride: k.stride, padding: k.padding, dilation: k.dilation, groups: k.groups)
            switch kind {
            case .reluMax: return y.relu().maxPool2d(kernel: k.pool, stride: k.poolStride, padding: k.poolPadding)
            case .geluAverage: return y.gelu().avgPool2d(kernel: k.pool, stride: k.poolStride, padding: k.poolPadding)
            }
        }
    }

    private func fused(_ kind: Kind) -> (Tensor, Tensor, Tensor?, Case) -> Tensor {
        { x, w, b, k in
            switch kind {
            case .reluMax:
                return x.conv2dReluMaxPool(weight: w, bias: b, stride: k.stride, padding: k.padding, dilation: k.dilation,
                                           groups: k.groups, poolKernel: k.pool, poolStride: k.poolStride, poolPadding: k.poolPadding)
            case .geluAverage:
                return x.conv2dGeluAvgPool(weight: w, bias: b, stride: k.stride, padding: k.padding, dilation: k.dilation,
                                           groups: k.groups, poolKernel: k.pool, poolStride: k.poolStride, poolPadding: k.poolPadding)
            }
        }
    }

    /// Output, input, weight and bias gradients of `op` for the upstream gradient `r`, as bit patterns.
    private func run(_ op: (Tensor, Tensor, Tensor?, Case) -> Tensor, _ k: Case, _ t: (x: Tensor, w: Tensor, b: Tensor?, r: Tensor))
        -> [[UInt32]] {
        for p in [t.x, t.w] + (t.b.map { [$0] } ?? []) { p.grad = nil }
        let y = op(t.x, t.w, t.b, k)
        (y * t.r).sum().backward()
        let tensors = [y, t.x.grad!, t.w.grad!] + (t.b.map { [$0.grad!] } ?? [])
        return tensors.map { $0.scalars.map(\.bitPattern) }
    }

    func testBitIdenticalToSeparateOpsAtEveryThreadCountAndUnfolding() {
        let saved = (Parallel.threadCount, Kernels.wideColumnsMaxWidthRatio)
        defer { (Parallel.threadCount, Kernels.wideColumnsMaxWidthRatio) = saved }
        for kind in Kind.allCases {
            for (threads, ratio) in [(1, 1.2), (2, 1.2), (3, 1.2), (2, 0), (2, .infinity)] {
                Parallel.threadCount = threads
                Kernels.wideColumnsMaxWidthRatio = ratio
                for (i, k) in cases.enumerated() {
                    let t = inputs(k, seed: UInt64(40 + i))
                    let expected = run(separate(kind), k, t), got = run(fused(kind), k, t)
                    for (part, name) in ["output", "input grad", "weight grad", "bias grad"].prefix(expected.count).enumerated() {
                        XCTAssertEqual(got[part], expected[part], "\(kind) case \(i), \(threads) threads, wide ratio \(ratio): \(name) differs")
                    }
                }
            }
        }
    }

    func testEvaluationWithoutGradientsMatches() {
        for kind in Kind.allCases {
            for (i, k) in cases.enumerated() {
                let t = inputs(k, seed: UInt64(60 + i))
                let (a, b) = noGrad { (separate(kind)(t.x, t.w, t.b, k), fused(kind)(t.x, t.w, t.b, k)) }
                XCTAssertEqual(b.shape, a.shape, "\(kind) case \(i)")
                XCTAssertEqual(b.scalars.map(\.bitPattern), a.scalars.map(\.bitPattern), "\(kind) case \(i)")
            }
        }
    }

    func testNaNAndInfinityFollowTheSeparateOps() {
        // ReLU maps NaN to 0 before the pool sees it; +∞ survives; the gradient follows the same path.
        for kind in Kind.allCases {
            let k = cases[0]
            let t = inputs(k, seed: 80)
            t.x.data[5] = .nan
            t.x.data[300] = .infinity
            XCTAssertEqual(run(fused(kind), k, t), run(separate(kind), k, t), "\(kind)")
        }
    }

    func testGradientCheck() {
        for kind in Kind.allCases {
            for (i, k) in cases.enumerated() where k.n * k.h * k.w < 2000 {
                let t = inputs(k, seed: UInt64(90 + i))
                let params = [t.x, t.w] + (t.b.map { [$0] } ?? [])
                let r = gradientCheck(params, epsilon: 1e-3, tolerance: 2e-2, maxElements: 50) { p in
                    self.fused(kind)(p[0], p[1], p.count > 2 ? p[2] : nil, k)
                }
                XCTAssertTrue(r.passed, "\(kind) case \(i): \(r)")
            }
        }
    }

    func testOnlyRequestedGradientsAreComputed() {
        for kind in Kind.allCases {
            let k = cases[1]
            let t = inputs(k, seed: 99)
            let x = Tensor(shape: t.x.shape, scalars: t.x.scalars)  // no gradient wanted
            let y = fused(kind)(x, t.w, t.b, k)
            (y * t.r).sum().backward()
            XCTAssertNil(x.grad)
            XCTAssertNotNil(t.w.grad)
            XCTAssertNotNil(t.b?.grad)
        }
    }
}
