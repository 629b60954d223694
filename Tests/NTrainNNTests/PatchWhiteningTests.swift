import Foundation
import NTrainCore
import NTrainNN
import XCTest

final class PatchWhiteningTests: XCTestCase {
    func testJacobiEigenDecompositionReconstructsTheMatrix() {
        var g = RandomGenerator(seed: 5)
        let n = 12
        // A random symmetric positive semi-definite matrix B Bᵀ.
        let b = (0..<(n * n)).map { _ in Double(g.uniform() - 0.5) }
        var m = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { for k in 0..<n { m[i * n + j] += b[i * n + k] * b[j * n + k] } } }
        let (values, vectors) = SymmetricEigen.decompose(m, n: n)
        XCTAssertEqual(values, values.sorted(by: >))
        for i in 0..<n {
            for j in 0..<n {
                var r = 0.0, dot = 0.0
                for k in 0..<n {
                    r += vectors[k * n + i] * values[k] * vectors[k * n + j]
                    dot += vectors[i * n + k] * vectors[j * n + k]
                }
                XCTAssertEqual(r, m[i * n + j], accuracy: 1e-10)
                XCTAssertEqual(dot, i == j ? 1 : 0, accuracy: 1e-12)
            }
        }
        // Known values: [[2, 1], [1, 2]] has 3 and 1.
        let small = SymmetricEigen.decompose([2, 1, 1, 2], n: 2)
        XCTAssertEqual(small.values[0], 3, accuracy: 1e-14)
        XCTAssertEqual(small.values[1], 1, accuracy: 1e-14)
    }

    func testWhiteningFiltersMakeThePatchCovarianceTheIdentity() {
        var g = RandomGenerator(seed: 9)
        // Correlated channels: the second is mostly the first, so the patches are far from white.
        let n = 20, c = 2, h = 6, w = 6
        var values = [Float](repeating: 0, count: n * c * h * w)
        for i in 0..<(n * h * w) {
            let a = g.uniform() - 0.5, e = g.uniform() - 0.5
            let img = i / (h * w), p = i % (h * w)
            values[(img * c) * h * w + p] = a
            values[(img * c + 1) * h * w + p] = 0.9 * a + 0.1 * e
        }
        let images = Tensor(shape: [n, c, h, w], scalars: values)
        let filters = PatchWhitening.filters(images: images, kernel: (2, 2), eps: 0)
        let d = c * 4
        XCTAssertEqual(filters.count, 2 * d * d)
        // Whitened patches: the filters' outputs have covariance ≈ identity (first half), the second half is the negatives.
        let conv = try! Conv2d(c, 2 * d, kernel: (2, 2), bias: false, generator: &g)
        conv.weight.assign(Tensor(shape: conv.weight.shape, scalars: filters))
        let out = conv(images)  // [n, 2d, 5, 5]
        let positions = n * 5 * 5
        let y = out.scalars
        for a in 0..<d {
            for b in 0..<d {
                var s = 0.0
                for img in 0..<n {
                    for p in 0..<25 { s += Double(y[(img * 2 * d + a) * 25 + p]) * Double(y[(img * 2 * d + b) * 25 + p]) }
                }
                XCTAssertEqual(s / Double(positions), a == b ? 1 : 0, accuracy: 2e-3, "covariance[\(a)][\(b)]")
            }
            XCTAssertEqual(y[a * 25], -y[(d + a) * 25], accuracy: 1e-6)
        }
    }

    func testDiracFiltersPassTheirChannelThrough() throws {
        var g = RandomGenerator(seed: 3)
        let conv = try Conv2d(3, 5, kernel: (3, 3), padding: (1, 1), bias: false, generator: &g)
        let before = conv.weight.scalars
        PatchWhitening.diracInitialize(conv)
        let x = Tensor(shape: [1, 3, 4, 4], scalars: (0..<48).map { Float($0) })
        let y = conv(x).scalars
        XCTAssertEqual(Array(y[0..<48]), x.scalars, "filters 0-2 are the identity on channels 0-2")
        XCTAssertEqual(Array(conv.weight.scalars[81...]), Array(before[81...]), "filters 3 and 4 keep their init")
    }
}
