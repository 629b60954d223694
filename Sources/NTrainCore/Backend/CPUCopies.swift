/// Copies, accumulation and gathers on the CPU.
extension CPUBackend {
    public func stridedCopy(shape: [Int], src: Tensor, srcOffset: Int, srcStrides: [Int], dst: Tensor, dstOffset: Int, dstStrides: [Int]) {
        Kernels.stridedCopy(shape: shape, src: src.data + srcOffset, srcStrides: srcStrides, dst: dst.data + dstOffset, dstStrides: dstStrides)
    }

    public func broadcast(_ a: Tensor, to shape: Shape) -> Tensor {
        let out = Tensor(uninitialized: shape)
        Kernels.stridedCopy(shape: shape.dims, src: a.data, srcStrides: a.shape.broadcastStrides(to: shape),
                            dst: out.data, dstStrides: shape.strides)
        return out
    }

    public func permute(_ a: Tensor, _ axes: [Int]) -> Tensor {
        if a.rank == 2 && axes == [1, 0] { return Kernels.transpose2D(a) }
        let inStrides = a.shape.strides
        let outShape = Shape(axes.map { a.shape[$0] })
        let out = Tensor(uninitialized: outShape)
        Kernels.stridedCopy(shape: outShape.dims, src: a.data, srcStrides: axes.map { inStrides[$0] },
                            dst: out.data, dstStrides: outShape.strides)
        return out
    }

    /// Host to host: `t` itself (there is one host device).
    public func transfer(_ t: Tensor, to device: Device) -> Tensor {
        precondition(t.device == device, "the CPU backend moves host tensors only (\(t.device) to \(device))")
        return t
    }

    public var supportsDataParallel: Bool { true }

    public func accumulate(_ y: Tensor, _ x: Tensor) {
        let a = y.data, b = x.data
        for i in 0..<y.count { a[i] += b[i] }
    }

    public func gatherRows(_ scores: Tensor, classes idx: [Int]) -> Differentiated {
        let n = scores.shape[0], c = scores.shape[1]
        let out = Tensor(uninitialized: [n])
        let src = scores.data, dst = out.data
        for i in 0..<n { dst[i] = src[i * c + idx[i]] }
        let inShape = scores.shape
        return (out, { g in
            let gin = Tensor.zeros(inShape)
            let pg = g.data, po = gin.data
            for i in 0..<n { po[i * c + idx[i]] = pg[i] }
            return [gin]
        })
    }

    public func oneHot(_ idx: [Int], classes: Int, device: Device) -> Tensor {
        let out = Tensor.zeros([idx.count, classes])
        let po = out.data
        for (i, k) in idx.enumerated() { po[i * classes + k] = 1 }
        return out
    }
}
