/// Eigenvalues and eigenvectors of a small symmetric matrix by cyclic Jacobi rotations, in
/// double precision (what patch whitening needs for its 12x12 or 27x27 patch covariance; LAPACK's
/// `syev` would give the same to rounding, but this is deterministic and needs no LAPACK symbols).
public enum SymmetricEigen {
    /// `matrix` is n x n, row-major and symmetric. Returns the eigenvalues in descending order and
    /// the matching unit eigenvectors as rows (`vectors[k * n ..< (k + 1) * n]` for value k).
    public static func decompose(_ matrix: [Double], n: Int) -> (values: [Double], vectors: [Double]) {
        precondition(matrix.count == n * n, "SymmetricEigen: \(matrix.count) entries for a \(n)x\(n) matrix")
        var a = matrix
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        let scale = max(1e-300, a.reduce(0) { $0 + $1 * $1 })
        for _ in 0..<100 {
            var off = 0.0
            for p in 0..<n { for q in (p + 1)..<n { off += a[p * n + q] * a[p * n + q] } }
            if off <= 1e-30 * scale { break }
            for p in 0..<n {
                for q in (p + 1)..<n where a[p * n + q] != 0 {
                    // The rotation that zeroes a[p][q] (Golub & Van Loan, Algorithm 8.4.1).
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        let order = (0..<n).sorted { a[$0 * n + $0] > a[$1 * n + $1] }
        var vectors = [Double](repeating: 0, count: n * n)
        for (row, k) in order.enumerated() {
            // Column k of v is the eigenvector; a fixed sign (largest component positive) makes the result unique.
            let column = (0..<n).map { v[$0 * n + k] }
            let sign = column.max(by: { abs($0) < abs($1) }).map { $0 < 0 ? -1.0 : 1.0 } ?? 1
            for i in 0..<n { vectors[row * n + i] = sign * column[i] }
        }
        return (order.map { a[$0 * n + $0] }, vectors)
    }
}
