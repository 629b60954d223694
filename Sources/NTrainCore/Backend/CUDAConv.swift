/// Matrix products, convolution, pooling and batch norm on a GPU: cuBLAS GEMMs and the CUDA
/// kernels of CUDA/Kernels, forward and backward on the device.
extension CUDABackend {
    public func matmul(_ a: Tensor, _ b: Tensor) -> Differentiated {
        guard b.rank == 2 && (a.rank == 2 || a.rank == 3) else {
            return (CUDAOps.unsupported("batched matmul \(a.shape)·\(b.shape)", shape: a.shape, device: a.device), { _ in [nil, nil] })
        }
        let (out, backward) = CUDAOps.matmul(a, b)
        return (out, backward)
    }

    public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Differentiated {
        let (out, backward) = CUDAOps.linear(x, weight: weight, bias: bias)
        return (out, backward)
    }

    public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry: Conv2dGeometry) -> Differentiated {
        let (out, backward) = CUDAOps.conv2d(x, weight: weight, bias: bias, geometry: geometry)
        return (out, backward)
    }

    public func maxPool2d(_ x: Tensor, geometry: Pool2dGeometry) -> Differentiated {
        let (out, backward) = CUDAOps.maxPool2d(x, geometry: geometry)
        return (out, { [backward($0)] })
    }

    public func avgPool2d(_ x: Tensor, geometry: Pool2dGeometry) -> Differentiated {
        let (out, backward) = CUDAOps.avgPool2d(x, geometry: geometry)
        return (out, { [backward($0)] })
    }

    public func batchNorm(_ x: Tensor, n: Int, c: Int, s: Int, runningMean: Tensor, runningVar: Tensor, weight: Tensor?, bias: Tensor?,
                          training: Bool, momentum: Float, eps: Float) -> Differentiated {
        let (out, backward) = CUDAOps.batchNorm(x, n: n, c: c, s: s, runningMean: runningMean, runningVar: runningVar,
                                                weight: weight, bias: bias, training: training, momentum: momentum, eps: eps)
        return (out, { grad in
            let (dx, dw, db) = backward(grad)
            var grads: [Tensor?] = [dx]
            if weight != nil { grads.append(dw) }
            if bias != nil { grads.append(db) }
            return grads
        })
    }
}
