import XCTest
@testable import NTrainCore

final class MatmulTests: XCTestCase {
    func testValues() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [3, 2], scalars: [7, 8, 9, 10, 11, 12])
        XCTAssertEqual(a.matmul(b).scalars, [58, 64, 139, 154])
        let w = Tensor(shape: [2, 3], scalars: [1, 0, -1, 2, 1, 0]), bias = Tensor(shape: [2], scalars: [0.5, -1])
        XCTAssertEqual(Tensor.linear(a, weight: w, bias: bias).scalars, [-1.5, 3, -1.5, 12])
        XCTAssertEqual(Tensor.linear(a, weight: w, bias: nil).scalars, [-2, 4, -2, 13])
    }

    /// Very wide products and long inner products with a small result are split into blocks;
    /// every transpose combination must still equal the definition.
    func testSplitProductsMatchTheDefinition() {
        var rng = RandomGenerator(seed: 31)
        for (m, n, k) in [(3, 9000, 5), (4, 6, 9500), (1, 1, 8193)] {
            for transA in [false, true] {
                for transB in [false, true] {
                    let a = (0..<(m * k)).map { _ in rng.uniform(-1, 1) }, b = (0..<(k * n)).map { _ in rng.uniform(-1, 1) }
                    var c = [Float](repeating: 0.5, count: m * n)
                    let lda = transA ? m : k, ldb = transB ? k : n
                    Kernels.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 2, a: a, lda: lda, b: b, ldb: ldb,
                                 beta: 3, c: &c, ldc: n)
                    for (i, j) in [(0, 0), (m - 1, n - 1), (m / 2, n / 2), (0, n - 1), (m - 1, 4097 % n)] {
                        var s = 0.0
                        for p in 0..<k {
                            let av = transA ? a[p * lda + i] : a[i * lda + p], bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                            s += Double(av) * Double(bv)
                        }
                        let expected = 2 * s + 3 * 0.5
                        XCTAssertEqual(Double(c[i * n + j]), expected, accuracy: 1e-3 * max(1, abs(expected)),
                                       "m \(m) n \(n) k \(k) transA \(transA) transB \(transB) at (\(i), \(j))")
                    }
                }
            }
        }
    }

    func testGradients() {
        var rng = RandomGenerator(seed: 61)
        for _ in 0..<3 {
            let m = 1 + rng.int(below: 6), k = 1 + rng.int(below: 7), n = 1 + rng.int(below: 5), batch = 1 + rng.int(below: 3)
            assertGradients([rng.tensor([m, k]), rng.tensor([k, n])], "matmul \(m)x\(k)x\(n)") { $0[0].matmul($0[1]) }
            assertGradients([rng.tensor([batch, m, k]), rng.tensor([batch, k, n])], "bmm \(batch)x\(m)x\(k)x\(n)") {
                $0[0].matmul($0[1])
            }
            assertGradients([rng.tensor([batch, m, k]), rng.tensor([k, n])], "3d·2d") { $0[0].matmul($0[1]) }
            assertGradients([rng.tensor([m, k]), rng.tensor([n, k]), rng.tensor([n])], "linear") {
                Tensor.linear($0[0], weight: $0[1], bias: $0[2])
            }
            assertGradients([rng.tensor([m, k]), rng.tensor([n, k])], "linear no bias") {
                Tensor.linear($0[0], weight: $0[1], bias: nil)
            }
        }
    }

    /// Only some inputs need gradients: the others get none and no work is wasted on them.
    func testPartialGradients() {
        var rng = RandomGenerator(seed: 62)
        let x = rng.tensor([4, 3], requiresGrad: false), w = rng.tensor([5, 3]), b = rng.tensor([5], requiresGrad: false)
        Tensor.linear(x, weight: w, bias: b).sum().backward()
        XCTAssertNil(x.grad)
        XCTAssertNil(b.grad)
        XCTAssertEqual(w.grad?.shape, [5, 3])
    }

    /// Large products are split across threads; results must match the single-threaded GEMM.
    func testLargeLinearIsThreadCountStableAgainstSerial() {
        var rng = RandomGenerator(seed: 63)
        let x = rng.tensor([256, 120], requiresGrad: false), w = rng.tensor([84, 120], requiresGrad: false)
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 1
        let y1 = Tensor.linear(x, weight: w, bias: nil).scalars
        Parallel.threadCount = 4
        let y4 = Tensor.linear(x, weight: w, bias: nil).scalars
        for i in stride(from: 0, to: y1.count, by: 13) { XCTAssertEqual(y1[i], y4[i], accuracy: 1e-4) }
        let xs = x.scalars, ws = w.scalars
        var ref: Float = 0
        for j in 0..<120 { ref += xs[255 * 120 + j] * ws[83 * 120 + j] }
        XCTAssertEqual(y4[255 * 84 + 83], ref, accuracy: 1e-4)
    }
}
