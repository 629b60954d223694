import XCTest
@testable import NTrainCore

final class PoolTests: XCTestCase {
    /// Distinct values 0.01 apart in random order: no ties, and a ±1e-3 probe never changes an argmax.
    private func distinct(_ shape: Shape, _ rng: inout RandomGenerator) -> Tensor {
        let perm = rng.permutation(shape.count)
        return Tensor(shape: shape, scalars: perm.map { Float($0) * 0.01 - 1 }, requiresGrad: true)
    }

    private struct Config {
        var shape: Shape
        var kernel: (Int, Int)
        var stride: (Int, Int)?
        var padding = (0, 0)
    }

    private let configs: [Config] = [
        Config(shape: [2, 3, 6, 8], kernel: (2, 2)),
        Config(shape: [1, 2, 7, 9], kernel: (3, 3), stride: (2, 2), padding: (1, 1)),
        Config(shape: [2, 2, 5, 6], kernel: (3, 2), stride: (1, 1), padding: (1, 0)),
        Config(shape: [3, 1, 7, 5], kernel: (2, 3), stride: (3, 2), padding: (1, 1)),
        Config(shape: [1, 3, 5, 5], kernel: (5, 5)),
    ]

    /// Direct pooling by definition (PyTorch semantics); `max` false gives the padded average.
    private func reference(_ x: Tensor, _ g: Pool2dGeometry, max: Bool) -> [Float] {
        let xs = x.scalars
        var out: [Float] = []
        for plane in 0..<(g.batch * g.channels) {
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    var best = -Float.infinity, sum: Float = 0
                    for ky in 0..<g.kernelHeight {
                        for kx in 0..<g.kernelWidth {
                            let y = oy * g.strideY - g.padY + ky, xx = ox * g.strideX - g.padX + kx
                            guard y >= 0, y < g.height, xx >= 0, xx < g.width else { continue }
                            let v = xs[(plane * g.height + y) * g.width + xx]
                            best = Swift.max(best, v)
                            sum += v
                        }
                    }
                    out.append(max ? best : sum / Float(g.kernelHeight * g.kernelWidth))
                }
            }
        }
        return out
    }

    func testForwardMatchesDefinition() throws {
        var rng = RandomGenerator(seed: 21)
        for (k, c) in configs.enumerated() {
            let x = distinct(c.shape, &rng)
            let g = try Pool2dGeometry(op: "test", input: c.shape, kernel: c.kernel, stride: c.stride, padding: c.padding)
            let mp = x.maxPool2d(kernel: c.kernel, stride: c.stride, padding: c.padding)
            XCTAssertEqual(mp.shape, g.outputShape, "config \(k)")
            XCTAssertEqual(mp.scalars, reference(x, g, max: true), "max config \(k)")
            let ap = x.avgPool2d(kernel: c.kernel, stride: c.stride, padding: c.padding)
            for (a, e) in zip(ap.scalars, reference(x, g, max: false)) { XCTAssertEqual(a, e, accuracy: 1e-5, "avg config \(k)") }
        }
    }

    func testMaxPoolGradientCheck() {
        var rng = RandomGenerator(seed: 22)
        for (k, c) in configs.enumerated() {
            let x = distinct(c.shape, &rng)
            let r = gradientCheck([x], epsilon: 1e-3, tolerance: 1e-2) { t in
                t[0].maxPool2d(kernel: c.kernel, stride: c.stride, padding: c.padding)
            }
            XCTAssertTrue(r.passed, "config \(k): \(r)")
        }
    }

    func testAvgPoolGradientCheck() {
        var rng = RandomGenerator(seed: 23)
        for (k, c) in configs.enumerated() {
            let x = Tensor(shape: c.shape, scalars: (0..<c.shape.count).map { _ in rng.uniform(-1, 1) }, requiresGrad: true)
            let r = gradientCheck([x]) { t in t[0].avgPool2d(kernel: c.kernel, stride: c.stride, padding: c.padding) }
            XCTAssertTrue(r.passed, "config \(k): \(r)")
        }
    }

    func testMaxPoolTiesRouteToFirstMaximumAndPaddingIsNegativeInfinity() {
        let x = Tensor(shape: [1, 1, 2, 2], scalars: [1, 1, 1, 1], requiresGrad: true)
        x.maxPool2d(kernel: (2, 2)).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [1, 0, 0, 0])

        let negative = Tensor(shape: [1, 1, 2, 2], scalars: [-3, -2, -4, -5])
        // Every window touches padding; a zero pad would win, −∞ never does.
        XCTAssertEqual(negative.maxPool2d(kernel: (2, 2), stride: (1, 1), padding: (1, 1)).scalars,
                       [-3, -2, -2, -3, -2, -2, -4, -4, -5])
        // count_include_pad: the corner window holds one real value and three zeros.
        XCTAssertEqual(negative.avgPool2d(kernel: (2, 2), stride: (1, 1), padding: (1, 1)).scalars[0], -0.75)
    }

    func testMatchesPyTorch() throws {
        let golden = try ConvGolden.load()
        for (cases, isMax) in [(golden.max_pool2d, true), (golden.avg_pool2d, false)] {
            for c in cases {
                let x = c.x.tensor(requiresGrad: true)
                let kernel = (c.kernel[0], c.kernel[1]), padding = (c.padding[0], c.padding[1])
                let stride = c.stride.map { ($0[0], $0[1]) }
                let y = isMax ? x.maxPool2d(kernel: kernel, stride: stride, padding: padding)
                              : x.avgPool2d(kernel: kernel, stride: stride, padding: padding)
                assertClose(y, c.out, rel: 1e-5, "\(isMax ? "max" : "avg") \(c.name): output")
                y.backward(c.probe.tensor)
                assertClose(x.grad, c.grad_x, rel: 1e-5, "\(isMax ? "max" : "avg") \(c.name): grad x")
            }
        }
    }

    func testGeometryErrors() {
        XCTAssertThrowsError(try Pool2dGeometry(op: "maxPool2d", input: [1, 1, 4, 4], kernel: (2, 2), padding: (2, 0))) { e in
            XCTAssertTrue("\(e)".contains("half the kernel"), "\(e)")
        }
        XCTAssertThrowsError(try Pool2dGeometry(op: "maxPool2d", input: [1, 1, 2, 2], kernel: (3, 3))) { e in
            XCTAssertTrue("\(e)".contains("too small"), "\(e)")
        }
        XCTAssertThrowsError(try Pool2dGeometry(op: "avgPool2d", input: [4, 4], kernel: (2, 2)))
        XCTAssertEqual(try? Pool2dGeometry(op: "maxPool2d", input: [64, 6, 28, 28], kernel: (2, 2)).outputShape, [64, 6, 14, 14])
    }
}
