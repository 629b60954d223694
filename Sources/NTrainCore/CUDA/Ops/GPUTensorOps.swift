/// The GPU versions of `Tensor`'s differentiable ops: each CPU op calls its `gpu…` twin first
/// when `self` is on a GPU. Forward and backward both run on the device; the autograd graph is
/// the same as on the CPU.
extension Tensor {
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
