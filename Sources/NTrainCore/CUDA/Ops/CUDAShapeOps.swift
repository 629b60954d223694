/// Copies and index ops on a GPU: strided copies (permute, pad, concat), row gathers, one-hot and
/// the maximum along an axis.
extension CUDAOps {
    /// dst[dstOffset + Σ idx·dstStrides] = src[srcOffset + Σ idx·srcStrides] over `shape`
    /// (offsets and strides in elements; rank at most 8).
    static func stridedCopy(shape: [Int], src: Tensor, srcOffset: Int = 0, srcStrides: [Int],
                            dst: Tensor, dstOffset: Int = 0, dstStrides: [Int]) {
        checkSameDevice("strided copy", [src, dst])
        let n = shape.reduce(1, *)
        guard n > 0 else { return }
        guard shape.count <= 8 else {
            let op = "a strided copy of rank \(shape.count) (at most 8 on a GPU)"
            return CUDARuntime.record(CUDAUnsupportedOp(op: op, device: src.device), op: op, device: src.device)
        }
        let index = CUDAKernelArguments.stridedIndex(shape: shape, a: srcStrides, b: dstStrides)
        launch(src.device, "strided_copy_f32", elements: n, CUDAKernelArguments()
            .pointer(address(src, offset: srcOffset)).pointer(address(dst, offset: dstOffset)).int64(n).int64Struct(index))
    }

    /// `a` with its axes reordered (result axis i is axis `axes[i]` of `a`).
    static func permute(_ a: Tensor, _ axes: [Int]) -> Tensor {
        let strides = a.shape.strides
        let outShape = Shape(axes.map { a.shape[$0] })
        let out = Tensor(uninitialized: outShape, device: a.device)
        stridedCopy(shape: outShape.dims, src: a, srcStrides: axes.map { strides[$0] }, dst: out, dstStrides: outShape.strides)
        return out
    }

    /// out[i] = scores[i, idx[i]] for scores [N, C] and int32 indices [N] (checked on the host).
    static func gatherRows(_ scores: Tensor, _ indices: Tensor) -> Tensor {
        let n = scores.shape[0], c = scores.shape[1]
        let out = Tensor(uninitialized: [n], device: scores.device)
        launch(scores.device, "gather_rows_f32", elements: n, CUDAKernelArguments()
            .pointer(address(scores)).pointer(address(indices)).pointer(address(out)).int64(n).int64(c))
        return out
    }

    /// The gradient of `gatherRows`: g[i] at [i, idx[i]] of a zeroed [N, C].
    static func gatherRowsBackward(_ g: Tensor, _ indices: Tensor, classes c: Int) -> Tensor {
        let n = g.count
        let out = filled([n, c], pattern: 0, device: g.device)
        launch(g.device, "gather_rows_backward_f32", elements: n, CUDAKernelArguments()
            .pointer(address(g)).pointer(address(indices)).pointer(address(out)).int64(n).int64(c))
        return out
    }

    /// One-hot rows [N, C] of int32 indices [N] (checked on the host).
    static func oneHot(_ indices: Tensor, classes c: Int) -> Tensor {
        let n = indices.count
        let out = filled([n, c], pattern: 0, device: indices.device)
        launch(indices.device, "one_hot_f32", elements: n,
               CUDAKernelArguments().pointer(address(indices)).pointer(address(out)).int64(n).int64(c))
        return out
    }

    /// Maximum along the middle axis of [outer, reduced, inner]: values and int32 indices (first
    /// maximum; NaN wins), as the CPU's `maxAlongAxis`.
    static func maxAlongAxis(_ a: Tensor, outer: Int, reduced: Int, inner: Int) -> (values: Tensor, indices: Tensor) {
        let values = Tensor(uninitialized: [outer * inner], device: a.device)
        let indices = Tensor(uninitialized: [outer * inner], dtype: .int32, device: a.device)
        launch(a.device, "max_axis_f32", elements: outer * inner, CUDAKernelArguments()
            .pointer(address(a)).pointer(address(values)).pointer(address(indices)).int64(outer).int64(reduced).int64(inner))
        return (values, indices)
    }

    /// The gradient of `maxAlongAxis` into a zeroed tensor of `shape`.
    static func maxAlongAxisBackward(_ g: Tensor, _ indices: Tensor, shape: Shape, outer: Int, reduced: Int, inner: Int) -> Tensor {
        let out = filled(shape, pattern: 0, device: g.device)
        launch(g.device, "max_axis_backward_f32", elements: outer * inner, CUDAKernelArguments()
            .pointer(address(g)).pointer(address(indices)).pointer(address(out)).int64(outer).int64(reduced).int64(inner))
        return out
    }
}
