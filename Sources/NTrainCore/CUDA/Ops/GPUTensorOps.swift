/// The GPU versions of `Tensor`'s differentiable ops: each CPU op calls its `gpu…` twin first
/// when `self` is on a GPU. Forward and backward both run on the device; the autograd graph is
/// the same as on the CPU.
extension Tensor {
    /// An activation whose backward kernel takes the input (`savesOutput == false`) or the output.
    func gpuActivation(_ name: String, savesOutput: Bool) -> Tensor {
        let x = self
        let y = CUDAOps.unary(name, x)
        return y.recorded(name, inputs: [x]) { g in [CUDAOps.unaryBackward(name, g, savesOutput ? y : x)] }
    }

    func gpuLeakyRelu(slope: Float) -> Tensor {
        let x = self
        return CUDAOps.unary("leaky_relu", x, parameter: slope).recorded("leaky_relu", inputs: [x]) { g in
            [CUDAOps.unaryBackward("leaky_relu", g, x, parameter: slope)]
        }
    }

    func gpuPow(_ p: Float) -> Tensor {
        let x = self
        return CUDAOps.unary("pow", x, parameter: p).recorded("pow", inputs: [x]) { g in
            [CUDAOps.unaryBackward("pow", g, x, parameter: p)]
        }
    }

    func gpuClamp(_ lo: Float, _ hi: Float) -> Tensor {
        let x = self
        return CUDAOps.clamp("clamp", x, nil, lo, hi).recorded("clamp", inputs: [x]) { g in [CUDAOps.clamp("clamp_backward", g, x, lo, hi)] }
    }

    func gpuSum() -> Tensor {
        let shape = self.shape
        return CUDAOps.sumAll(self).recorded("sum", inputs: [self]) { g in [CUDAOps.broadcast(g, to: shape)] }
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
