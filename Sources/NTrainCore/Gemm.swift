extension Kernels {
    /// Products with more columns, or (for a small C) more inner terms, than this are split into
    /// blocks of `gemmBlock` (see `gemm`).
    static let gemmSplitAbove = 8192
    static let gemmBlock = 4096

    /// C = alpha·op(A)·op(B) + beta·C for row-major matrices, through OpenBLAS `cblas_sgemm` (`BLAS.sgemm`).
    /// op(A) is m×k, op(B) is k×n, C is m×n; lda/ldb/ldc are the row strides of the stored matrices.
    ///
    /// OpenBLAS 0.3.21 is slow on very thin products (conv_bn's fc1 at batch 8: 8×25,088 by
    /// 25,088×10 at 13 GFLOP/s; its gradients 8×10·10×25,088 and 10×8·8×25,088 at 26–33), so
    /// wide products run as column blocks of 4,096 (each column is computed as before, so the
    /// result is the same) and long inner products with a small C as inner blocks of 4,096 added
    /// up in order (deterministic, rounded differently from one call): 2–4x faster measured.
    @inline(__always)
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            // BLAS leaves C untouched when k = 0; scale it by beta as the formula says.
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        if n > gemmSplitAbove {
            for j in stride(from: 0, to: n, by: gemmBlock) {
                // Column j of op(B) starts at column j of B, or at row j when B is stored transposed.
                blasGemm(transA, transB, m, min(gemmBlock, n - j), k, alpha, a, lda,
                         transB ? b + j * ldb : b + j, ldb, beta, c + j, ldc)
            }
            return
        }
        if k > gemmSplitAbove && m * n <= gemmBlock {
            for p in stride(from: 0, to: k, by: gemmBlock) {
                // Inner index p: column p of op(A) and row p of op(B).
                blasGemm(transA, transB, m, n, min(gemmBlock, k - p), alpha, transA ? a + p * lda : a + p, lda,
                         transB ? b + p : b + p * ldb, ldb, p == 0 ? beta : 1, c, ldc)
            }
            return
        }
        blasGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    @inline(__always)
    private static func blasGemm(
        _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
        _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                   b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
}
