/// Matrix products on the CPU: OpenBLAS GEMMs, split over the worker threads by rows.
extension CPUBackend {
    public func matmul(_ a: Tensor, _ b: Tensor) -> Differentiated {
        if b.rank == 2 && (a.rank == 2 || a.rank == 3) {
            let k = a.shape[a.rank - 1], n = b.shape[1]
            let rows = a.rank == 2 ? a.shape[0] : a.shape[0] * a.shape[1]
            let out = Tensor(uninitialized: Shape(Array(a.shape.dims.dropLast()) + [n]))
            Kernels.parallelGemm(transA: false, transB: false, m: rows, n: n, k: k,
                                 a: a.data, lda: k, b: b.data, ldb: n, c: out.data, ldc: n)
            return (out, { g in
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
            })
        }
        let batch = a.shape[0], m = a.shape[1], k = a.shape[2], n = b.shape[2]
        let out = Tensor(uninitialized: [batch, m, n])
        Kernels.batchedGemm(batch: batch, transA: false, transB: false, m: m, n: n, k: k,
                            a: a.data, lda: k, strideA: m * k, b: b.data, ldb: n, strideB: k * n,
                            c: out.data, ldc: n, strideC: m * n)
        return (out, { g in
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
        })
    }

    public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Differentiated {
        let outF = weight.shape[0], inF = weight.shape[1]
        let rows = x.count / Swift.max(1, inF)
        let out = Tensor(uninitialized: Shape(Array(x.shape.dims.dropLast()) + [outF]))
        let py = out.data
        if let bias {
            let pb = bias.data
            for r in 0..<rows { (py + r * outF).update(from: pb, count: outF) }
        }
        Kernels.parallelGemm(transA: false, transB: true, m: rows, n: outF, k: inF, a: x.data, lda: inF,
                             b: weight.data, ldb: inF, beta: bias == nil ? 0 : 1, c: py, ldc: outF)
        return (out, { g in
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
        })
    }
}
