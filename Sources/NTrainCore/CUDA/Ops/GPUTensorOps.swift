/// The GPU versions of `Tensor`'s differentiable ops: each CPU op calls its `gpu…` twin first
/// when `self` is on a GPU. Forward and backward both run on the device; the autograd graph is
/// the same as on the CPU.
extension Tensor {
    func gpuSum() -> Tensor {
        let shape = self.shape
        return CUDAOps.sumAll(self).recorded("sum", inputs: [self]) { g in [CUDAOps.broadcast(g, to: shape)] }
    }

    /// Sum over `axes` (resolved), one `sum_axis` pass per axis.
    func gpuSum(axes: [Int], keepDims: Bool) -> Tensor {
        var kept = shape.dims
        for a in axes { kept[a] = 1 }
        let inShape = shape, keptShape = Shape(kept)
        let out = Kernels.reducedShape(shape, axes: axes, keepDims: keepDims)
        let summed = axes.isEmpty ? copy() : CUDAOps.sumToShape(self, keptShape)
        return Tensor(sharing: summed.storage, shape: out, dtype: .float32).recorded("sum_axes", inputs: [self]) { g in
            [CUDAOps.broadcast(Tensor(sharing: g.storage, shape: keptShape, dtype: .float32), to: inShape)]
        }
    }

    /// Maximum along `ax`; the gradient goes to the first maximum.
    func gpuMax(axis ax: Int, keepDims: Bool) -> Tensor {
        let (outer, reduced, inner) = Kernels.split(shape, ax, ax)
        let (values, indices) = CUDAOps.maxAlongAxis(self, outer: outer, reduced: reduced, inner: inner)
        let inShape = shape
        return Tensor(sharing: values.storage, shape: Kernels.reducedShape(shape, axes: [ax], keepDims: keepDims), dtype: .float32)
            .recorded("max", inputs: [self]) { g in
                [CUDAOps.maxAlongAxisBackward(g, indices, shape: inShape, outer: outer, reduced: reduced, inner: inner)]
            }
    }

    func gpuMean() -> Tensor {
        let shape = self.shape, n = Float(count)
        return CUDAOps.scale(CUDAOps.sumAll(self), 1 / n).recorded("mean", inputs: [self]) { g in
            [CUDAOps.broadcast(CUDAOps.scale(g, 1 / n), to: shape)]
        }
    }

    func gpuMatmul(_ other: Tensor) -> Tensor {
        let (out, backward) = CUDAOps.matmul(self, other)
        return out.recorded("matmul", inputs: [self, other], backward: backward)
    }

    static func gpuLinear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        let (out, backward) = CUDAOps.linear(x, weight: weight, bias: bias)
        return out.recorded("linear", inputs: bias.map { [x, weight, $0] } ?? [x, weight], backward: backward)
    }
}

extension Tensor {
    func gpuConv2d(weight: Tensor, bias: Tensor?, geometry g: Conv2dGeometry) -> Tensor {
        let (out, backward) = CUDAOps.conv2d(self, weight: weight, bias: bias, geometry: g)
        return out.recorded("conv2d", inputs: bias.map { [self, weight, $0] } ?? [self, weight], backward: backward)
    }

    func gpuMaxPool2d(geometry g: Pool2dGeometry) -> Tensor {
        let (out, backward) = CUDAOps.maxPool2d(self, geometry: g)
        return out.recorded("maxPool2d", inputs: [self]) { [backward($0)] }
    }

    func gpuAvgPool2d(geometry g: Pool2dGeometry) -> Tensor {
        let (out, backward) = CUDAOps.avgPool2d(self, geometry: g)
        return out.recorded("avgPool2d", inputs: [self]) { [backward($0)] }
    }

    func gpuBatchNorm(n: Int, c: Int, s: Int, runningMean: Tensor, runningVar: Tensor, weight: Tensor?, bias: Tensor?,
                      training: Bool, momentum: Float, eps: Float) -> Tensor {
        if training { precondition(n * s > 1, "batchNorm: training needs more than one value per channel, input is \(shape)") }
        let (out, backward) = CUDAOps.batchNorm(self, n: n, c: c, s: s, runningMean: runningMean, runningVar: runningVar,
                                                weight: weight, bias: bias, training: training, momentum: momentum, eps: eps)
        let inputs = [self] + [weight, bias].compactMap { $0 }
        return out.recorded("batchNorm", inputs: inputs) { grad in
            let (dx, dw, db) = backward(grad)
            var grads: [Tensor?] = [dx]
            if weight != nil { grads.append(dw) }
            if bias != nil { grads.append(db) }
            return grads
        }
    }
}

extension Tensor {
    /// Softmax or log-softmax along `axis` on a GPU: one block per row for the last axis, one
    /// thread per column otherwise; the backward pass is composed from GPU ops.
    func gpuSoftmax(axis ax: Int, log: Bool) -> Tensor {
        let (outer, reduced, inner) = Kernels.split(shape, ax, ax)
        let y = Tensor(uninitialized: shape, device: device)
        if inner == 1 {
            CUDAOps.launch(device, "softmax_rows_f32", rows: outer, CUDAKernelArguments()
                .pointer(CUDAOps.address(self)).pointer(CUDAOps.address(y)).int64(outer).int64(reduced).int32(log ? 1 : 0))
        } else {
            CUDAOps.launch(device, "softmax_columns_f32", elements: outer * inner, CUDAKernelArguments()
                .pointer(CUDAOps.address(self)).pointer(CUDAOps.address(y)).int64(outer).int64(reduced).int64(inner)
                .int32(log ? 1 : 0))
        }
        var kept = shape.dims
        kept[ax] = 1
        let keptShape = Shape(kept)
        return y.recorded(log ? "log_softmax" : "softmax", inputs: [self]) { g in
            if log {  // dx = g − softmax ⊙ Σ_axis g
                return [Kernels.sub(g, Kernels.mul(CUDAOps.unary("exp", y), CUDAOps.sumToShape(g, keptShape)))]
            }
            let gy = Kernels.mul(g, y)  // dx = y ⊙ (g − Σ_axis g ⊙ y)
            return [Kernels.sub(gy, Kernels.mul(y, CUDAOps.sumToShape(gy, keptShape)))]
        }
    }
}
