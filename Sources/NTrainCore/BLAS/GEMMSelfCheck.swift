/// A few single-precision GEMMs whose exact answers are known, run once after OpenBLAS is loaded.
///
/// Some OpenBLAS builds compute wrong results with some kernel sets on some newer CPUs; this
/// catches that before a model trains on it. Inputs are small integers, so every product and sum
/// is exact in Float and the check is equality, independent of summation order and FMA.
/// The shapes cover all four transpose cases, beta 0 and 1, edges that are not multiples of any
/// kernel's unroll, and an inner dimension past OpenBLAS's blocking.
public enum GEMMSelfCheck {
    /// C = alpha·op(A)·op(B) + beta·C, row major, as `cblas_sgemm` with CblasRowMajor.
    public typealias Gemm = (
        _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) -> Void

    struct Case { var m, n, k: Int; var transA, transB: Bool; var alpha, beta: Float }

    static let cases: [Case] = [
        Case(m: 1, n: 1, k: 1, transA: false, transB: false, alpha: 1, beta: 0),
        Case(m: 7, n: 5, k: 3, transA: true, transB: false, alpha: 1, beta: 0),
        Case(m: 33, n: 17, k: 65, transA: false, transB: true, alpha: 2, beta: 1),
        Case(m: 37, n: 45, k: 131, transA: true, transB: true, alpha: 1, beta: 0),
        Case(m: 12, n: 20, k: 600, transA: false, transB: false, alpha: 0.5, beta: 1),
    ]

    /// Nil when every case gives the exact answer, else which case disagreed and where.
    public static func run(_ gemm: Gemm) -> String? {
        for (index, c) in cases.enumerated() {
            let (rowsA, colsA) = c.transA ? (c.k, c.m) : (c.m, c.k)
            let (rowsB, colsB) = c.transB ? (c.n, c.k) : (c.k, c.n)
            let a = (0..<(rowsA * colsA)).map { Float(($0 * 7 + 3) % 9) - 4 }
            let b = (0..<(rowsB * colsB)).map { Float(($0 * 5 + 1) % 7) - 3 }
            var out = (0..<(c.m * c.n)).map { Float($0 % 5) - 2 }
            var expected = out
            for i in 0..<c.m {
                for j in 0..<c.n {
                    var sum: Float = 0
                    for p in 0..<c.k {
                        let x = c.transA ? a[p * colsA + i] : a[i * colsA + p]
                        let y = c.transB ? b[j * colsB + p] : b[p * colsB + j]
                        sum += x * y
                    }
                    expected[i * c.n + j] = c.alpha * sum + c.beta * expected[i * c.n + j]
                }
            }
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    out.withUnsafeMutableBufferPointer { pc in
                        gemm(c.transA, c.transB, c.m, c.n, c.k, c.alpha, pa.baseAddress!, colsA,
                             pb.baseAddress!, colsB, c.beta, pc.baseAddress!, c.n)
                    }
                }
            }
            if let wrong = out.indices.first(where: { out[$0] != expected[$0] }) {
                let ops = "\(c.transA ? "Aᵀ" : "A")·\(c.transB ? "Bᵀ" : "B")"
                return "case \(index + 1) (\(c.m)×\(c.n)×\(c.k), \(ops)): C[\(wrong / c.n)][\(wrong % c.n)] = "
                    + "\(out[wrong]), expected \(expected[wrong])"
            }
        }
        return nil
    }
}
