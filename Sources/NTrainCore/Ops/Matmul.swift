extension Kernels {
    /// Multiply-adds per chunk below which a GEMM is not split across threads.
    public static let gemmMinChunkFlops = 1 << 18

    /// `gemm` with the rows of C split across threads (OpenBLAS itself runs single-threaded).
    /// Each row of C is computed by one call whose split depends only on the thread count.
    public static func parallelGemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let minRows = Swift.max(1, gemmMinChunkFlops / Swift.max(1, n * k))
        Parallel.forEachChunk(m, minChunk: minRows) { _, rows in
            // Row r of op(A) starts at row r of A, or at column r when A is stored transposed.
            let aStart = transA ? a + rows.lowerBound : a + rows.lowerBound * lda
            gemm(transA: transA, transB: transB, m: rows.count, n: n, k: k, alpha: alpha,
                 a: aStart, lda: lda, b: b, ldb: ldb, beta: beta, c: c + rows.lowerBound * ldc, ldc: ldc)
        }
    }

    /// Batched C[i] = op(A[i])·op(B[i]) for contiguous stacks of row-major matrices, parallel over
    /// the batch. A stride of 0 reuses one matrix for every batch entry.
    public static func batchedGemm(
        batch: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, strideA: Int, b: UnsafePointer<Float>, ldb: Int, strideB: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, strideC: Int
    ) {
        let minBatch = Swift.max(1, gemmMinChunkFlops / Swift.max(1, m * n * k))
        Parallel.forEachChunk(batch, minChunk: minBatch) { _, range in
            for i in range {
                gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a + i * strideA, lda: lda,
                     b: b + i * strideB, ldb: ldb, beta: beta, c: c + i * strideC, ldc: ldc)
            }
        }
    }
}

extension Tensor {
    /// Matrix product: [m, k]·[k, n] → [m, n]; batched [B, m, k]·[B, k, n] → [B, m, n]; and
    /// [B, m, k]·[k, n] → [B, m, n] (one matrix applied to every batch entry).
    public func matmul(_ other: Tensor) -> Tensor {
        let a = self, b = other
        if b.rank == 2 && (a.rank == 2 || a.rank == 3) {
            precondition(b.shape[0] == a.shape[a.rank - 1], "matmul: inner dimensions differ in \(a.shape) · \(b.shape)")
            return recording("matmul", inputs: [a, b], backend.matmul(a, b))
        }
        precondition(a.rank == 3 && b.rank == 3 && a.shape[0] == b.shape[0] && a.shape[2] == b.shape[1],
                     "matmul: cannot multiply \(a.shape) by \(b.shape); expected [m,k]·[k,n], [B,m,k]·[B,k,n] or [B,m,k]·[k,n]")
        return recording("bmm", inputs: [a, b], backend.matmul(a, b))
    }

    /// Fully connected layer y = x·Wᵀ + b, fused: the bias is written first and GEMM accumulates
    /// onto it. `x` is [..., in], `weight` [out, in], `bias` [out]; the result is [..., out].
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        precondition(x.rank >= 1 && weight.rank == 2 && x.shape[x.rank - 1] == weight.shape[1],
                     "linear: input \(x.shape) does not match weight \(weight.shape) (expected [..., in] and [out, in])")
        let outF = weight.shape[0]
        if let bias { precondition(bias.shape == [outF], "linear: bias \(bias.shape) should be [\(outF)] for weight \(weight.shape)") }
        return x.recording("linear", inputs: bias.map { [x, weight, $0] } ?? [x, weight], x.backend.linear(x, weight: weight, bias: bias))
    }
}
