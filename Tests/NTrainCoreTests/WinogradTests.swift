import XCTest
@testable import NTrainCore

/// 3x3 stride-1 convolutions with at least 32 channels in and out run as Winograd F(2x2, 3x3)
/// (forward and input gradient): against the definition in double precision, across tile blocks
/// that span images, odd sizes (tiles partly outside the output) and paddings 0, 1 and 2.
final class WinogradTests: XCTestCase {
    private struct Case { var n, c, h, w, o, pad: Int }

    private let cases = [
        Case(n: 2, c: 32, h: 7, w: 7, o: 32, pad: 1),
        Case(n: 3, c: 33, h: 6, w: 5, o: 40, pad: 0),
        Case(n: 2, c: 32, h: 5, w: 8, o: 36, pad: 2),
        Case(n: 2, c: 48, h: 3, w: 3, o: 32, pad: 1),
        Case(n: 1, c: 32, h: 2, w: 9, o: 32, pad: 1),
        // 9 images of 5x6 tiles: blocks of 64 tiles start and end inside images.
        Case(n: 9, c: 32, h: 9, w: 11, o: 32, pad: 1),
    ]

    private func tensor(_ shape: Shape, _ rng: inout RandomGenerator, scale: Float = 1) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.count).map { _ in rng.uniform(-scale, scale) }, requiresGrad: true)
    }

    /// out[n, o, y, x] = Σ x[n, c, y + i − p, x + j − p] · w[o, c, i, j] in double, with the sum of
    /// the terms' magnitudes (the scale of the rounding error).
    private func reference(_ x: [Float], _ w: [Float], bias: [Float]?, n: Int, c: Int, h: Int, wd: Int, o: Int, pad: Int,
                           rotated: Bool = false) -> (values: [Double], scale: [Double]) {
        let oh = h + 2 * pad - 2, ow = wd + 2 * pad - 2
        var values = [Double](repeating: 0, count: n * o * oh * ow), scale = values
        for b in 0..<n {
            for oc in 0..<o {
                for y in 0..<oh {
                    for xx in 0..<ow {
                        var s = Double(bias?[oc] ?? 0), a = abs(s)
                        for ic in 0..<c {
                            for i in 0..<3 {
                                let iy = y + i - pad
                                guard iy >= 0 && iy < h else { continue }
                                for j in 0..<3 {
                                    let ix = xx + j - pad
                                    guard ix >= 0 && ix < wd else { continue }
                                    // The input gradient's kernels: weight[ic][oc] rotated 180°.
                                    let k = rotated ? w[((ic * o + oc) * 3 + 2 - i) * 3 + 2 - j] : w[((oc * c + ic) * 3 + i) * 3 + j]
                                    let term = Double(x[((b * c + ic) * h + iy) * wd + ix]) * Double(k)
                                    s += term
                                    a += abs(term)
                                }
                            }
                        }
                        values[((b * o + oc) * oh + y) * ow + xx] = s
                        scale[((b * o + oc) * oh + y) * ow + xx] = a
                    }
                }
            }
        }
        return (values, scale)
    }

    private func assertClose(_ got: [Float], _ want: (values: [Double], scale: [Double]), _ what: String) {
        XCTAssertEqual(got.count, want.values.count, what)
        var worst = 0.0
        for (i, g) in got.enumerated() { worst = max(worst, abs(Double(g) - want.values[i]) / (want.scale[i] + 1e-6)) }
        XCTAssertLessThan(worst, 1e-6, "\(what): largest error relative to the terms' magnitude")
    }

    func testForwardAndGradientsMatchTheDefinition() throws {
        var rng = RandomGenerator(seed: 21)
        for (k, t) in cases.enumerated() {
            let x = tensor([t.n, t.c, t.h, t.w], &rng), w = tensor([t.o, t.c, 3, 3], &rng, scale: 0.3), b = tensor([t.o], &rng)
            let g = try Conv2dGeometry(input: x.shape, weight: w.shape, padding: (t.pad, t.pad))
            XCTAssertTrue(Kernels.usesWinograd(g), "case \(k)")
            let y = x.conv2d(weight: w, bias: b, padding: (t.pad, t.pad))
            assertClose(y.scalars, reference(x.scalars, w.scalars, bias: b.scalars, n: t.n, c: t.c, h: t.h, wd: t.w, o: t.o, pad: t.pad),
                        "case \(k) forward")
            let probe = tensor(g.outputShape, &rng)
            y.backward(probe)
            // dX: dY padded by 2 − p, convolved with the rotated, transposed kernels.
            assertClose(try XCTUnwrap(x.grad).scalars,
                        reference(probe.scalars, w.scalars, bias: nil, n: t.n, c: t.o, h: g.outHeight, wd: g.outWidth, o: t.c,
                                  pad: 2 - t.pad, rotated: true), "case \(k) input gradient")
            // dW and db (im2col) against the definition.
            var dw = [Double](repeating: 0, count: w.count), db = [Double](repeating: 0, count: t.o)
            let xs = x.scalars, ps = probe.scalars
            for n in 0..<t.n {
                for o in 0..<t.o {
                    for oy in 0..<g.outHeight {
                        for ox in 0..<g.outWidth {
                            let d = Double(ps[((n * t.o + o) * g.outHeight + oy) * g.outWidth + ox])
                            db[o] += d
                            for c in 0..<t.c {
                                for i in 0..<3 {
                                    let iy = oy + i - t.pad
                                    guard iy >= 0 && iy < t.h else { continue }
                                    for j in 0..<3 {
                                        let ix = ox + j - t.pad
                                        guard ix >= 0 && ix < t.w else { continue }
                                        dw[((o * t.c + c) * 3 + i) * 3 + j] += d * Double(xs[((n * t.c + c) * t.h + iy) * t.w + ix])
                                    }
                                }
                            }
                        }
                    }
                }
            }
            for (i, (a, e)) in zip(try XCTUnwrap(w.grad).scalars, dw).enumerated() {
                XCTAssertEqual(Double(a), e, accuracy: 1e-4 * (1 + abs(e)), "case \(k) weight gradient \(i)")
            }
            for (a, e) in zip(try XCTUnwrap(b.grad).scalars, db) { XCTAssertEqual(Double(a), e, accuracy: 1e-4 * (1 + abs(e)), "case \(k) bias") }
        }
    }

    func testGradientCheck() {
        var rng = RandomGenerator(seed: 22)
        let x = tensor([1, 32, 4, 5], &rng), w = tensor([32, 32, 3, 3], &rng, scale: 0.3), b = tensor([32], &rng)
        let r = gradientCheck([x, w, b], epsilon: 1e-2, tolerance: 1e-2, maxElements: 60) { t in
            t[0].conv2d(weight: t[1], bias: t[2], padding: (1, 1))
        }
        XCTAssertTrue(r.passed, "\(r)")
    }

    /// Tile blocks are the same computation on any thread: output and input gradient do not
    /// depend on the thread count.
    func testSameBitsOnAnyThreadCount() {
        var rng = RandomGenerator(seed: 23)
        let x = tensor([9, 32, 9, 11], &rng), w = tensor([32, 32, 3, 3], &rng, scale: 0.3)
        let probe = tensor([9, 32, 9, 11], &rng)
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        func run(threads: Int) -> [[UInt32]] {
            Parallel.threadCount = threads
            x.grad = nil
            let y = x.conv2d(weight: w, padding: (1, 1))
            y.backward(probe)
            return [y.scalars.map(\.bitPattern), x.grad!.scalars.map(\.bitPattern)]
        }
        let three = run(threads: 3)
        XCTAssertEqual(run(threads: 3), three)
        XCTAssertEqual(run(threads: 1), three)
    }

    /// Fewer than 32 channels, other kernels, strides, dilations, groups or more padding keep im2col.
    func testOnlyThreeByThreeStrideOneWithEnoughChannels() throws {
        func uses(_ c: Int, _ o: Int, kernel: Int = 3, stride: Int = 1, pad: Int = 1, dilation: Int = 1, groups: Int = 1) throws -> Bool {
            Kernels.usesWinograd(try Conv2dGeometry(input: [1, c, 9, 9], weight: [o, c / groups, kernel, kernel], stride: (stride, stride),
                                                    padding: (pad, pad), dilation: (dilation, dilation), groups: groups))
        }
        XCTAssertTrue(try uses(32, 32))
        XCTAssertFalse(try uses(24, 64))
        XCTAssertFalse(try uses(64, 16))
        XCTAssertFalse(try uses(32, 32, kernel: 5, pad: 2))
        XCTAssertFalse(try uses(32, 32, stride: 2))
        XCTAssertFalse(try uses(32, 32, dilation: 2))
        XCTAssertFalse(try uses(64, 64, groups: 2))
        XCTAssertFalse(try uses(32, 32, pad: 3))
    }
}
