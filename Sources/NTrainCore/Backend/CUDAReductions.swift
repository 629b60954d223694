/// Reductions and softmax on a GPU, each with its backward on the device.
extension CUDABackend {
    public func sumAll(_ x: Tensor) -> Differentiated {
        let shape = x.shape
        return (CUDAOps.sumAll(x), { g in [CUDAOps.broadcast(g, to: shape)] })
    }

    /// One `sum_axis` pass per axis.
    public func sum(_ x: Tensor, axes: [Int], keepDims: Bool) -> Differentiated {
        let keptShape = Kernels.reducedShape(x.shape, axes: axes, keepDims: true), inShape = x.shape
        let summed = axes.isEmpty ? x.copy() : CUDAOps.sumToShape(x, keptShape)
        return (Tensor(sharing: summed.storage, shape: Kernels.reducedShape(x.shape, axes: axes, keepDims: keepDims), dtype: .float32), { g in
            [CUDAOps.broadcast(Tensor(sharing: g.storage, shape: keptShape, dtype: .float32), to: inShape)]
        })
    }

    /// The mean of squared deviations, on the device; d var / dx = 2 (x − mean) / divisor.
    public func variance(_ x: Tensor, axes: [Int], keepDims: Bool, unbiased: Bool) -> Differentiated {
        let n = axes.reduce(1) { $0 * x.shape[$1] }
        let divisor = Float(unbiased ? n - 1 : n)
        let keptShape = Kernels.reducedShape(x.shape, axes: axes, keepDims: true), inShape = x.shape
        let mean = CUDAOps.scale(CUDAOps.sumToShape(x, keptShape), 1 / Float(n))
        let deviation = CUDAOps.binary("sub", x, mean)
        let kept = CUDAOps.scale(CUDAOps.sumToShape(CUDAOps.binary("mul", deviation, deviation), keptShape), 1 / divisor)
        return (Tensor(sharing: kept.storage, shape: Kernels.reducedShape(inShape, axes: axes, keepDims: keepDims), dtype: .float32), { g in
            let gb = CUDAOps.broadcast(Tensor(sharing: g.storage, shape: keptShape, dtype: .float32), to: inShape)
            return [CUDAOps.scale(CUDAOps.binary("mul", gb, deviation), 2 / divisor)]
        })
    }

    /// The gradient goes to the first maximum.
    public func maxAlong(_ x: Tensor, axis ax: Int, keepDims: Bool) -> Differentiated {
        let (outer, reduced, inner) = Kernels.split(x.shape, ax, ax)
        let (values, indices) = CUDAOps.maxAlongAxis(x, outer: outer, reduced: reduced, inner: inner)
        let inShape = x.shape
        return (Tensor(sharing: values.storage, shape: Kernels.reducedShape(x.shape, axes: [ax], keepDims: keepDims), dtype: .float32), { g in
            [CUDAOps.maxAlongAxisBackward(g, indices, shape: inShape, outer: outer, reduced: reduced, inner: inner)]
        })
    }

    public func argmax(_ x: Tensor, axis ax: Int) -> Tensor {
        let (outer, reduced, inner) = Kernels.split(x.shape, ax, ax)
        let indices = CUDAOps.maxAlongAxis(x, outer: outer, reduced: reduced, inner: inner).indices
        return Tensor(sharing: indices.storage, shape: Kernels.reducedShape(x.shape, axes: [ax], keepDims: false), dtype: .int32)
    }

    /// One block per row for the last axis, one thread per column otherwise; the backward pass is
    /// composed from device ops.
    public func softmax(_ x: Tensor, axis ax: Int, log: Bool) -> Differentiated {
        let (outer, reduced, inner) = Kernels.split(x.shape, ax, ax)
        let y = Tensor(uninitialized: x.shape, device: x.device)
        if inner == 1 {
            CUDAOps.launch(x.device, "softmax_rows_f32", rows: outer, CUDAKernelArguments()
                .pointer(CUDAOps.address(x)).pointer(CUDAOps.address(y)).int64(outer).int64(reduced).int32(log ? 1 : 0))
        } else {
            CUDAOps.launch(x.device, "softmax_columns_f32", elements: outer * inner, CUDAKernelArguments()
                .pointer(CUDAOps.address(x)).pointer(CUDAOps.address(y)).int64(outer).int64(reduced).int64(inner)
                .int32(log ? 1 : 0))
        }
        let keptShape = Kernels.reducedShape(x.shape, axes: [ax], keepDims: true)
        return (y, { g in
            if log {  // dx = g − softmax ⊙ Σ_axis g
                return [CUDAOps.binary("sub", g, CUDAOps.binary("mul", CUDAOps.unary(.exp, y), CUDAOps.sumToShape(g, keptShape)))]
            }
            let gy = CUDAOps.binary("mul", g, y)  // dx = y ⊙ (g − Σ_axis g ⊙ y)
            return [CUDAOps.binary("sub", gy, CUDAOps.binary("mul", y, CUDAOps.sumToShape(gy, keptShape)))]
        })
    }
}
