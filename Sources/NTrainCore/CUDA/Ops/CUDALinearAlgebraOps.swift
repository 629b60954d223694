import Foundation

/// GEMM on a GPU and the ops built on it (matmul, linear). cuBLAS where it loads (the fast path);
/// otherwise the tiled `gemm_f32` kernel, which is also what the CUDA host emulator runs.
extension CUDAOps {
    nonisolated(unsafe) private static var cublasState: Result<CUBLAS, CUBLASError>?
    private static let cublasLock = NSLock()

    /// The process's cuBLAS, or nil when it does not load (then GEMMs use `gemm_f32`).
    /// `NTRAIN_CUBLAS=off` forces the kernel.
    static var cublas: CUBLAS? {
        cublasLock.lock()
        defer { cublasLock.unlock() }
        if cublasState == nil {
            cublasState = ProcessInfo.processInfo.environment["NTRAIN_CUBLAS"] == "off"
                ? .failure(.libraryNotFound(tried: ["NTRAIN_CUBLAS=off"])) : CUBLAS.load()
        }
        return try? cublasState?.get()
    }

    /// Row-major C = op(A)·op(B) + beta·C on device addresses (`Kernels.gemm`'s contract),
    /// batched with element strides between matrices.
    static func gemm(_ device: Device, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                     a: CUDADevicePointer, lda: Int, strideA: Int = 0, b: CUDADevicePointer, ldb: Int, strideB: Int = 0,
                     beta: Float = 0, c: CUDADevicePointer, ldc: Int, strideC: Int = 0, batch: Int = 1) {
        guard m > 0, n > 0, batch > 0, let ctx = CUDARuntime.opContext(device, op: "gemm") else { return }
        if let cublas {
            do {
                try cublas.gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, strideA: strideA,
                                b: b, ldb: ldb, strideB: strideB, beta: beta, c: c, ldc: ldc, strideC: strideC, batch: batch)
            } catch { CUDARuntime.record(error, op: "gemm", device: device) }
            return
        }
        let args = CUDAKernelArguments().int32(transA ? 1 : 0).int32(transB ? 1 : 0).int64(m).int64(n).int64(k).float(1)
            .pointer(a).int64(lda).int64(strideA).pointer(b).int64(ldb).int64(strideB).float(beta).pointer(c).int64(ldc).int64(strideC)
        do {
            try ctx.launch("gemm_f32", grid: ((n + 15) / 16, (m + 15) / 16, batch), block: (16, 16, 1), arguments: args)
        } catch { CUDARuntime.record(error, op: "gemm", device: device) }
    }

    /// [rows, k]·[k, n] (rows = every leading axis of `a`), and its two gradients.
    static func matmul(_ a: Tensor, _ b: Tensor) -> (out: Tensor, backward: (Tensor) -> [Tensor?]) {
        checkSameDevice("matmul", [a, b])
        let k = a.shape[a.rank - 1], n = b.shape[1], rows = a.count / Swift.max(1, k)
        let out = Tensor(uninitialized: Shape(Array(a.shape.dims.dropLast()) + [n]), device: a.device)
        gemm(a.device, transA: false, transB: false, m: rows, n: n, k: k, a: address(a), lda: k, b: address(b), ldb: n,
             c: address(out), ldc: n)
        return (out, { g in
            var ga: Tensor?, gb: Tensor?
            if a.requiresGrad {  // dA = g · Bᵀ
                let t = Tensor(uninitialized: a.shape, device: a.device)
                gemm(a.device, transA: false, transB: true, m: rows, n: k, k: n, a: address(g), lda: n, b: address(b), ldb: n,
                     c: address(t), ldc: k)
                ga = t
            }
            if b.requiresGrad {  // dB = Aᵀ · g
                let t = Tensor(uninitialized: b.shape, device: b.device)
                gemm(a.device, transA: true, transB: false, m: k, n: n, k: rows, a: address(a), lda: k, b: address(g), ldb: n,
                     c: address(t), ldc: n)
                gb = t
            }
            return [ga, gb]
        })
    }

    /// y = x·Wᵀ + b, the bias written first and the GEMM accumulating onto it (as on the CPU);
    /// backward gives dx = g·W, dW = gᵀ·x and db = the column sums of g.
    static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> (out: Tensor, backward: (Tensor) -> [Tensor?]) {
        checkSameDevice("linear", [x, weight] + (bias.map { [$0] } ?? []))
        let outF = weight.shape[0], inF = weight.shape[1]
        let rows = x.count / Swift.max(1, inF)
        let out = Tensor(uninitialized: Shape(Array(x.shape.dims.dropLast()) + [outF]), device: x.device)
        if let bias {
            // The bias copied into every row (source row stride 0).
            stridedCopy(shape: [rows, outF], src: bias, srcStrides: [0, 1], dst: out, dstStrides: [outF, 1])
        }
        gemm(x.device, transA: false, transB: true, m: rows, n: outF, k: inF, a: address(x), lda: inF,
             b: address(weight), ldb: inF, beta: bias == nil ? 0 : 1, c: address(out), ldc: outF)
        return (out, { g in
            var grads: [Tensor?] = [nil, nil]
            if x.requiresGrad {
                let t = Tensor(uninitialized: x.shape, device: x.device)
                gemm(x.device, transA: false, transB: false, m: rows, n: inF, k: outF, a: address(g), lda: outF,
                     b: address(weight), ldb: inF, c: address(t), ldc: inF)
                grads[0] = t
            }
            if weight.requiresGrad {
                let t = Tensor(uninitialized: weight.shape, device: x.device)
                gemm(x.device, transA: true, transB: false, m: outF, n: inF, k: rows, a: address(g), lda: outF,
                     b: address(x), ldb: inF, c: address(t), ldc: inF)
                grads[1] = t
            }
            if let bias {
                if bias.requiresGrad {
                    let t = Tensor(uninitialized: bias.shape, device: x.device)
                    launch(x.device, "sum_axis_f32", elements: outF, CUDAKernelArguments()
                        .pointer(address(g)).pointer(address(t)).int64(1).int64(rows).int64(outF))
                    grads.append(t)
                } else {
                    grads.append(nil)
                }
            }
            return grads
        })
    }
}
