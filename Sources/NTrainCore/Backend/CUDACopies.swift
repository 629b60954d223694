/// Copies, accumulation and gathers on a GPU (elementwise.cu).
extension CUDABackend {
    public func stridedCopy(shape: [Int], src: Tensor, srcOffset: Int, srcStrides: [Int], dst: Tensor, dstOffset: Int, dstStrides: [Int]) {
        CUDAOps.stridedCopy(shape: shape, src: src, srcOffset: srcOffset, srcStrides: srcStrides, dst: dst, dstOffset: dstOffset, dstStrides: dstStrides)
    }

    public func broadcast(_ a: Tensor, to shape: Shape) -> Tensor { CUDAOps.broadcast(a, to: shape) }

    public func permute(_ a: Tensor, _ axes: [Int]) -> Tensor { CUDAOps.permute(a, axes) }

    public func accumulate(_ y: Tensor, _ x: Tensor) { CUDAOps.accumulate(y, x) }

    public func transfer(_ t: Tensor, to device: Device) -> Tensor { CUDAOps.transfer(t, to: device) }

    public var supportsDataParallel: Bool { false }

    public func gatherRows(_ scores: Tensor, classes idx: [Int]) -> Differentiated {
        let onDevice = Tensor(shape: [idx.count], int32s: idx.map { Int32($0) }).to(scores.device)
        let c = scores.shape[1]
        return (CUDAOps.gatherRows(scores, onDevice), { g in [CUDAOps.gatherRowsBackward(g, onDevice, classes: c)] })
    }

    public func oneHot(_ idx: [Int], classes: Int, device: Device) -> Tensor {
        let onDevice = Tensor(shape: [idx.count], int32s: idx.map { Int32($0) }).to(device)
        return CUDAOps.oneHot(onDevice, classes: classes)
    }
}
