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
        if a.device != .cpu {
            guard b.rank == 2 && (a.rank == 2 || a.rank == 3) else {
                return CUDAOps.unsupported("batched matmul \(a.shape)·\(b.shape)", shape: a.shape, device: a.device)
            }
            precondition(b.shape[0] == a.shape[a.rank - 1], "matmul: inner dimensions differ in \(a.shape) · \(b.shape)")
            return gpuMatmul(b)
        }
        if b.rank == 2 && (a.rank == 2 || a.rank == 3) {
            let k = a.shape[a.rank - 1], n = b.shape[1]
            precondition(b.shape[0] == k, "matmul: inner dimensions differ in \(a.shape) · \(b.shape)")
            let rows = a.rank == 2 ? a.shape[0] : a.shape[0] * a.shape[1]
            let out = Tensor(uninitialized: Shape(Array(a.shape.dims.dropLast()) + [n]))
            Kernels.parallelGemm(transA: false, transB: false, m: rows, n: n, k: k,
                                 a: a.data, lda: k, b: b.data, ldb: n, c: out.data, ldc: n)
            return out.recorded("matmul", inputs: [a, b]) { g in
                var ga: Tensor?, gb: Tensor?
                if a.requiresGrad {  // dA = g · Bᵀ
                    let t = Tensor(uninitialized: a.shape)
                    Kernels.parallelGemm(transA: false, transB: true, m: rows, n: k, k: n,
                                         a: g.data, lda: n, b: b.data, ldb: n, c: t.data, ldc: k)
                    ga = t
                }
                if b.requiresGrad {  // dB = Aᵀ · g, summed over every row (and batch entry)
                    let t = Tensor(uninitialized: b.shape)
                    Kernels.parallelGemm(transA: true, transB: false, m: k, n: n, k: rows,
                                         a: a.data, lda: k, b: g.data, ldb: n, c: t.data, ldc: n)
                    gb = t
                }
                return [ga, gb]
            }
        }
        precondition(a.rank == 3 && b.rank == 3 && a.shape[0] == b.shape[0] && a.shape[2] == b.shape[1],
                     "matmul: cannot multiply \(a.shape) by \(b.shape); expected [m,k]·[k,n], [B,m,k]·[B,k,n] or [B,m,k]·[k,n]")
        let batch = a.shape[0], m = a.shape[1], k = a.shape[2], n = b.shape[2]
        let out = Tensor(uninitialized: [batch, m, n])
        Kernels.batchedGemm(batch: batch, transA: false, transB: false, m: m, n: n, k: k,
                            a: a.data, lda: k, strideA: m * k, b: b.data, ldb: n, strideB: k * n,
                            c: out.data, ldc: n, strideC: m * n)
        return out.recorded("bmm", inputs: [a, b]) { g in
            var ga: Tensor?, gb: Tensor?
            if a.requiresGrad {  // dA[i] = g[i] · B[i]ᵀ
                let t = Tensor(uninitialized: a.shape)
                Kernels.batchedGemm(batch: batch, transA: false, transB: true, m: m, n: k, k: n,
                                    a: g.data, lda: n, strideA: m * n, b: b.data, ldb: n, strideB: k * n,
                                    c: t.data, ldc: k, strideC: m * k)
                ga = t
            }
            if b.requiresGrad {  // dB[i] = A[i]ᵀ · g[i]
                let t = Tensor(uninitialized: b.shape)
                Kernels.batchedGemm(batch: batch, transA: true, transB: false, m: k, n: n, k: m,
                                    a: a.data, lda: k, strideA: m * k, b: g.data, ldb: n, strideB: m * n,
                                    c: t.data, ldc: n, strideC: k * n)
                gb = t
            }
            return [ga, gb]
        }
    }

    /// Fully connected layer y = x·Wᵀ + b, fused: the bias is written first and GEMM accumulates
    /// onto it. `x` is [..., in], `weight` [out, in], `bias` [out]; the result is [..., out].
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        precondition(x.rank >= 1 && weight.rank == 2 && x.shape[x.rank - 1] == weight.shape[1],
                     "linear: input \(x.shape) does not match weight \(weight.shape) (expected [..., in] and [out, in])")
        let outF = weight.shape[0], inF = weight.shape[1]
        if let bias { precondition(bias.shape == [outF], "linear: bias \(bias.shape) should be [\(outF)] for weight \(weight.shape)") }
        if x.device != .cpu { return gpuLinear(x, weight: weight, bias: bias) }
        let rows = x.count / Swift.max(1, inF)
        let out = Tensor(uninitialized: Shape(Array(x.shape.dims.dropLast()) + [outF]))
        let py = out.data
        if let bias {
            let pb = bias.data
            for r in 0..<rows { (py + r * outF).update(from: pb, count: outF) }
        }
        Kernels.parallelGemm(transA: false, transB: true, m: rows, n: outF, k: inF, a: x.data, lda: inF,
                             b: weight.data, ldb: inF, beta: bias == nil ? 0 : 1, c: py, ldc: outF)
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        return out.recorded("linear", inputs: inputs) { g in
            var grads: [Tensor?] = [nil, nil]
            if x.requiresGrad {  // dx = g · W
                let t = Tensor(uninitialized: x.shape)
                Kernels.parallelGemm(transA: false, transB: false, m: rows, n: inF, k: outF,
                                     a: g.data, lda: outF, b: weight.data, ldb: inF, c: t.data, ldc: inF)
                grads[0] = t
            }
            if weight.requiresGrad {  // dW = gᵀ · x
                let t = Tensor(uninitialized: weight.shape)
                Kernels.parallelGemm(transA: true, transB: false, m: outF, n: inF, k: rows,
                                     a: g.data, lda: outF, b: x.data, ldb: inF, c: t.data, ldc: inF)
                grads[1] = t
            }
            if let bias {  // db = column sums of g
                if bias.requiresGrad {
                    let t = Tensor(uninitialized: bias.shape)
                    Kernels.sumAxis(g.data, outer: 1, reduced: rows, inner: outF, into: t.data)
                    grads.append(t)
                } else {
                    grads.append(nil)
                }
            }
            return grads
        }
    }
}
