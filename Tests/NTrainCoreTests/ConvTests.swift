import XCTest
@testable import NTrainCore

final class ConvTests: XCTestCase {
    private func random(_ shape: Shape, _ rng: inout RandomGenerator, scale: Float = 1, requiresGrad: Bool = true) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.count).map { _ in rng.uniform(-scale, scale) }, requiresGrad: requiresGrad)
    }

    /// Direct 7-loop convolution, the definition the fast kernel must match.
    private func referenceConv(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ g: Conv2dGeometry) -> [Float] {
        var out = [Float](repeating: 0, count: g.outputShape.count)
        let cg = g.inChannels / g.groups, og = g.outChannels / g.groups
        let xs = x.scalars, ws = w.scalars, bs = b?.scalars
        for n in 0..<g.batch {
            for o in 0..<g.outChannels {
                let grp = o / og
                for oy in 0..<g.outHeight {
                    for ox in 0..<g.outWidth {
                        var s: Float = bs?[o] ?? 0
                        for ci in 0..<cg {
                            let c = grp * cg + ci
                            for ki in 0..<g.kernelHeight {
                                let iy = oy * g.strideY - g.padY + ki * g.dilationY
                                guard iy >= 0 && iy < g.height else { continue }
                                for kj in 0..<g.kernelWidth {
                                    let ix = ox * g.strideX - g.padX + kj * g.dilationX
                                    guard ix >= 0 && ix < g.width else { continue }
                                    s += xs[((n * g.inChannels + c) * g.height + iy) * g.width + ix]
                                        * ws[((o * cg + ci) * g.kernelHeight + ki) * g.kernelWidth + kj]
                                }
                            }
                        }
                        out[((n * g.outChannels + o) * g.outHeight + oy) * g.outWidth + ox] = s
                    }
                }
            }
        }
        return out
    }

    private struct Config {
        var n, c, h, w, o: Int
        var kernel: (Int, Int)
        var stride = (1, 1), padding = (0, 0), dilation = (1, 1)
        var groups = 1
        var bias = true
    }

    private let configs: [Config] = [
        Config(n: 2, c: 4, h: 7, w: 9, o: 6, kernel: (3, 2), stride: (2, 2), padding: (1, 1), dilation: (2, 2), groups: 2),
        Config(n: 3, c: 3, h: 5, w: 6, o: 5, kernel: (3, 3)),
        Config(n: 2, c: 3, h: 4, w: 5, o: 4, kernel: (1, 1)),
        Config(n: 1, c: 2, h: 6, w: 7, o: 3, kernel: (2, 3), stride: (2, 1), padding: (0, 2), dilation: (1, 2), bias: false),
        Config(n: 3, c: 3, h: 5, w: 5, o: 6, kernel: (3, 3), stride: (1, 2), padding: (1, 1), groups: 3),
        Config(n: 2, c: 2, h: 5, w: 3, o: 2, kernel: (1, 1), stride: (2, 2), padding: (1, 0)),
        Config(n: 5, c: 1, h: 9, w: 9, o: 2, kernel: (5, 5), padding: (2, 2)),
        // Large enough for several multi-image blocks per chunk (see Kernels.convBlockImages).
        Config(n: 11, c: 8, h: 16, w: 15, o: 4, kernel: (3, 3), padding: (1, 0), groups: 2),
        // Many taps per group (K = 108 ≥ 96): the weight gradient goes through dY transposed.
        Config(n: 4, c: 24, h: 6, w: 7, o: 6, kernel: (3, 3), padding: (1, 1), groups: 2),
    ]

    private func make(_ cfg: Config, _ rng: inout RandomGenerator) -> (x: Tensor, w: Tensor, b: Tensor?, g: Conv2dGeometry) {
        let x = random([cfg.n, cfg.c, cfg.h, cfg.w], &rng)
        let w = random([cfg.o, cfg.c / cfg.groups, cfg.kernel.0, cfg.kernel.1], &rng, scale: 0.5)
        let b = cfg.bias ? random([cfg.o], &rng) : nil
        let g = try! Conv2dGeometry(input: x.shape, weight: w.shape, stride: cfg.stride, padding: cfg.padding,
                                    dilation: cfg.dilation, groups: cfg.groups)
        return (x, w, b, g)
    }

    func testForwardMatchesDirectConvolution() {
        var rng = RandomGenerator(seed: 11)
        for (k, cfg) in configs.enumerated() {
            let (x, w, b, g) = make(cfg, &rng)
            let y = x.conv2d(weight: w, bias: b, stride: cfg.stride, padding: cfg.padding, dilation: cfg.dilation, groups: cfg.groups)
            XCTAssertEqual(y.shape, g.outputShape, "config \(k)")
            let expected = referenceConv(x, w, b, g)
            for (i, (a, e)) in zip(y.scalars, expected).enumerated() {
                XCTAssertEqual(a, e, accuracy: 1e-5 + 1e-5 * abs(e), "config \(k) element \(i)")
            }
        }
    }

    func testGradientCheck() {
        var rng = RandomGenerator(seed: 12)
        for (k, cfg) in configs.enumerated() {
            let (x, w, b, _) = make(cfg, &rng)
            let inputs = [x, w] + (b.map { [$0] } ?? [])
            let r = gradientCheck(inputs, epsilon: 1e-2, tolerance: 1e-2, maxElements: 60) { t in
                t[0].conv2d(weight: t[1], bias: t.count > 2 ? t[2] : nil, stride: cfg.stride, padding: cfg.padding,
                            dilation: cfg.dilation, groups: cfg.groups)
            }
            XCTAssertTrue(r.passed, "config \(k): \(r)")
        }
    }

    /// Both unfoldings (per output row, and wide: per kernel tap over padded rows) against the
    /// definition and against each other, forward and backward.
    func testWideAndNarrowUnfoldingBothMatchTheDefinition() {
        let saved = Kernels.wideColumnsMaxWidthRatio
        defer { Kernels.wideColumnsMaxWidthRatio = saved }
        var results: [[[Float]]] = []
        for ratio in [0, Double.infinity] {
            Kernels.wideColumnsMaxWidthRatio = ratio
            var rng = RandomGenerator(seed: 15)
            var run: [[Float]] = []
            for (k, cfg) in configs.enumerated() {
                let (x, w, b, g) = make(cfg, &rng)
                XCTAssertEqual(g.unfoldsWide, ratio > 0 && cfg.stride == (1, 1) && cfg.dilation == (1, 1) && cfg.kernel.1 > 1,
                               "config \(k)")
                let y = x.conv2d(weight: w, bias: b, stride: cfg.stride, padding: cfg.padding, dilation: cfg.dilation, groups: cfg.groups)
                for (i, (a, e)) in zip(y.scalars, referenceConv(x, w, b, g)).enumerated() {
                    XCTAssertEqual(a, e, accuracy: 1e-5 + 1e-5 * abs(e), "ratio \(ratio) config \(k) element \(i)")
                }
                let inputs = [x, w] + (b.map { [$0] } ?? [])
                let r = gradientCheck(inputs, epsilon: 1e-2, tolerance: 1e-2, maxElements: 60) { t in
                    t[0].conv2d(weight: t[1], bias: t.count > 2 ? t[2] : nil, stride: cfg.stride, padding: cfg.padding,
                                dilation: cfg.dilation, groups: cfg.groups)
                }
                XCTAssertTrue(r.passed, "ratio \(ratio) config \(k): \(r)")
                run += [y.scalars] + inputs.map { $0.grad!.scalars }
            }
            results.append(run)
        }
        for (a, e) in zip(results[0].joined(), results[1].joined()) { XCTAssertEqual(a, e, accuracy: 1e-5 * max(1, abs(e))) }
    }

    func testGradientOnlyForInputsThatNeedIt() {
        var rng = RandomGenerator(seed: 13)
        let x = random([2, 2, 5, 5], &rng, requiresGrad: false)
        let w = random([3, 2, 3, 3], &rng)
        let b = random([3], &rng, requiresGrad: false)
        x.conv2d(weight: w, bias: b, padding: (1, 1)).sum().backward()
        XCTAssertNil(x.grad)
        XCTAssertNil(b.grad)
        XCTAssertEqual(w.grad?.shape, w.shape)
    }

    func testMatchesPyTorch() throws {
        let saved = Kernels.wideColumnsMaxWidthRatio
        defer { Kernels.wideColumnsMaxWidthRatio = saved }
        for ratio in [0, Double.infinity] {
            Kernels.wideColumnsMaxWidthRatio = ratio
            try matchPyTorch()
        }
    }

    private func matchPyTorch() throws {
        for c in try ConvGolden.load().conv2d {
            let x = c.x.tensor(requiresGrad: true), w = c.weight.tensor(requiresGrad: true)
            let b = c.bias?.tensor(requiresGrad: true)
            let y = x.conv2d(weight: w, bias: b, stride: (c.stride[0], c.stride[1]), padding: (c.padding[0], c.padding[1]),
                             dilation: (c.dilation[0], c.dilation[1]), groups: c.groups)
            assertClose(y, c.out, rel: 1e-4, abs: 1e-5, "\(c.name): output")
            y.backward(c.probe.tensor)
            assertClose(x.grad, c.grad_x, rel: 1e-4, abs: 1e-5, "\(c.name): grad x")
            assertClose(w.grad, c.grad_weight, rel: 1e-4, abs: 1e-5, "\(c.name): grad weight")
            assertClose(b?.grad, c.grad_bias, rel: 1e-4, abs: 1e-5, "\(c.name): grad bias")
        }
    }

    func testDeterministicAcrossRunsAndThreadCounts() {
        var rng = RandomGenerator(seed: 14)
        let x = random([7, 3, 10, 11], &rng), w = random([4, 3, 3, 3], &rng), b = random([4], &rng)
        let probe = random([7, 4, 8, 9], &rng, requiresGrad: false)
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        func run(threads: Int) -> [[Float]] {
            Parallel.threadCount = threads
            for t in [x, w, b] { t.grad = nil }
            let y = x.conv2d(weight: w, bias: b)
            y.backward(probe)
            return [y.scalars, x.grad!.scalars, w.grad!.scalars, b.grad!.scalars]
        }
        let first = run(threads: 3)
        XCTAssertEqual(run(threads: 3), first, "same thread count must be bit-identical")
        let single = run(threads: 1)
        // Images are independent: output and input gradient do not depend on the thread count.
        XCTAssertEqual(single[0], first[0])
        XCTAssertEqual(single[1], first[1])
        for (a, e) in zip(single[2], first[2]) { XCTAssertEqual(a, e, accuracy: 1e-4 * max(1, abs(e))) }
    }

    /// Threads claim image blocks (forward) and chunks (backward) as they become free, so which
    /// thread computes what changes from run to run; the bits must not (24 images of 32×32:
    /// blocks of 2).
    func testBlocksClaimedByAnyThreadGiveTheSameBits() {
        var rng = RandomGenerator(seed: 15)
        let x = random([24, 3, 32, 32], &rng), w = random([8, 3, 3, 3], &rng), b = random([8], &rng)
        let probe = random([24, 8, 32, 32], &rng, requiresGrad: false)
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 2
        let g = try! Conv2dGeometry(input: x.shape, weight: w.shape, padding: (1, 1))
        XCTAssertGreaterThan(ConvBlocks(n: 24, g).count, 4)
        func run() -> [[UInt32]] {
            for t in [x, w, b] { t.grad = nil }
            let y = x.conv2d(weight: w, bias: b, padding: (1, 1))
            y.backward(probe)
            return [y, x.grad!, w.grad!, b.grad!].map { $0.scalars.map(\.bitPattern) }
        }
        let first = run()
        for _ in 0..<6 {
            for (a, e) in zip(run(), first) { XCTAssertEqual(zip(a, e).filter { $0 != $1 }.count, 0, "values that differ") }
        }
    }

    /// Backward tasks are single blocks (per-block partial sums added up afterwards) or, when
    /// those would not fit the budget, whole chunks accumulating in place: the same bits either
    /// way, for both weight-gradient layouts (dY·colsᵀ with 27 taps, cols·dYᵀ with 108) and
    /// products long enough for OpenBLAS to split their inner dimension.
    func testPerBlockAndPerChunkPartialSumsGiveTheSameBits() {
        let saved = Parallel.threadCount, budget = Kernels.blockPartialsBudget
        defer { Parallel.threadCount = saved; Kernels.blockPartialsBudget = budget }
        Parallel.threadCount = 2
        var rng = RandomGenerator(seed: 16)
        for (c, o) in [(3, 128), (12, 32)] {  // the first is conv_bn's conv1
            let x = random([8, c, 28, 28], &rng), w = random([o, c, 3, 3], &rng), b = random([o], &rng)
            let probe = random([8, o, 28, 28], &rng, requiresGrad: false)
            let blocks = ConvBlocks(n: 8, try! Conv2dGeometry(input: x.shape, weight: w.shape, padding: (1, 1)))
            XCTAssertGreaterThan(blocks.count, blocks.chunkCount, "the default must take the per-block path")
            func run() -> [[UInt32]] {
                for t in [x, w, b] { t.grad = nil }
                x.conv2d(weight: w, bias: b, padding: (1, 1)).backward(probe)
                return [x.grad!, w.grad!, b.grad!].map { $0.scalars.map(\.bitPattern) }
            }
            Kernels.blockPartialsBudget = budget
            let perBlock = run()
            Kernels.blockPartialsBudget = 0
            let perChunk = run()
            for (name, (a, e)) in zip(["dx", "dw", "db"], zip(perChunk, perBlock)) {
                XCTAssertEqual(zip(a, e).filter { $0 != $1 }.count, 0, "\(name) values that differ, taps \(c * 9)")
            }
        }
    }

    func testGeometryErrorsExplainTheProblem() {
        XCTAssertThrowsError(try Conv2dGeometry(input: [1, 3, 8, 8], weight: [4, 2, 3, 3])) { e in
            XCTAssertTrue("\(e)".contains("input has 3 channels"), "\(e)")
        }
        XCTAssertThrowsError(try Conv2dGeometry(input: [1, 3, 8, 8], weight: [4, 1, 3, 3], groups: 2)) { e in
            XCTAssertTrue("\(e)".contains("divide by groups"), "\(e)")
        }
        XCTAssertThrowsError(try Conv2dGeometry(input: [1, 1, 4, 4], weight: [2, 1, 5, 5])) { e in
            XCTAssertTrue("\(e)".contains("too small"), "\(e)")
        }
        XCTAssertThrowsError(try Conv2dGeometry(input: [1, 16], weight: [2, 1, 5, 5])) { e in
            XCTAssertTrue("\(e)".contains("[N, C, H, W]"), "\(e)")
        }
        XCTAssertThrowsError(try Conv2dGeometry(input: [1, 1, 8, 8], weight: [2, 1, 3, 3], stride: (0, 1)))
        let g = try? Conv2dGeometry(input: [64, 1, 32, 32], weight: [6, 1, 5, 5])
        XCTAssertEqual(g?.outputShape, [64, 6, 28, 28])
    }
}
