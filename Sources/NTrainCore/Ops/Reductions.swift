extension Tensor {
    /// Sum of all elements, as a scalar tensor.
    public func sum() -> Tensor {
        if device != .cpu { return gpuSum() }
        let shape = self.shape
        return Tensor(Kernels.sumContiguous(data, count)).recorded("sum", inputs: [self]) { g in
            [Tensor.full(shape, g.item())]
        }
    }

    /// Sum over `axes` (negative allowed). With `keepDims` the reduced axes stay as size 1.
    /// An empty `axes` reduces nothing (the result is a copy).
    public func sum(axes: [Int], keepDims: Bool = false) -> Tensor {
        let resolved = Kernels.reductionAxes(axes, of: shape)
        if device != .cpu { return gpuSum(axes: resolved, keepDims: keepDims) }
        let kept = Kernels.sum(self, axes: resolved)
        let outShape = Kernels.reducedShape(shape, axes: resolved, keepDims: keepDims)
        let inShape = shape, keptShape = kept.shape
        return Tensor(sharing: kept.storage, shape: outShape, dtype: .float32)
            .recorded("sum_axes", inputs: [self]) { g in
                [Kernels.broadcast(Tensor(sharing: g.storage, shape: keptShape, dtype: .float32), to: inShape)]
            }
    }

    /// Mean of all elements, as a scalar tensor.
    public func mean() -> Tensor {
        if device != .cpu { return gpuMean() }
        let n = Float(count), shape = self.shape
        return Tensor(Kernels.sumContiguous(data, count) / n).recorded("mean", inputs: [self]) { g in
            [Tensor.full(shape, g.item() / n)]
        }
    }

    /// Mean over `axes` (negative allowed), keeping them as size 1 with `keepDims`.
    public func mean(axes: [Int], keepDims: Bool = false) -> Tensor {
        let resolved = Kernels.reductionAxes(axes, of: shape)
        let n = Float(resolved.reduce(1) { $0 * shape[$1] })
        if device != .cpu { return gpuSum(axes: resolved, keepDims: keepDims) * (1 / n) }
        let kept = Kernels.sum(self, axes: resolved)
        let pk = kept.data
        for i in 0..<kept.count { pk[i] /= n }
        let outShape = Kernels.reducedShape(shape, axes: resolved, keepDims: keepDims)
        let inShape = shape, keptShape = kept.shape
        return Tensor(sharing: kept.storage, shape: outShape, dtype: .float32)
            .recorded("mean_axes", inputs: [self]) { g in
                let scaled = Kernels.map(Tensor(sharing: g.storage, shape: keptShape, dtype: .float32)) { g, o, r in
                    for i in r { o[i] = g[i] / n }
                }
                return [Kernels.broadcast(scaled, to: inShape)]
            }
    }

    /// Maximum values along `axis`; the gradient goes to the first maximal element, as in PyTorch.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor {
        let ax = shape.axis(axis)
        if device != .cpu { return gpuMax(axis: ax, keepDims: keepDims) }
        let (values, indices) = Kernels.maxAlongAxis(self, axis: ax)
        let outShape = Kernels.reducedShape(shape, axes: [ax], keepDims: keepDims)
        let inShape = shape
        return Tensor(sharing: values.storage, shape: outShape, dtype: .float32)
            .recorded("max", inputs: [self]) { g in
                let (outer, reduced, inner) = Kernels.split(inShape, ax, ax)
                let gin = Tensor.zeros(inShape)
                let pg = g.data, pi = indices.int32Data, po = gin.data
                for o in 0..<outer {
                    for i in 0..<inner {
                        let k = o * inner + i
                        po[(o * reduced + Int(pi[k])) * inner + i] = pg[k]
                    }
                }
                return [gin]
            }
    }

    /// Index of the first maximum along `axis`, as int32 with that axis removed (not differentiable).
    public func argmax(axis: Int) -> Tensor {
        let ax = shape.axis(axis)
        if device != .cpu {
            let (outer, reduced, inner) = Kernels.split(shape, ax, ax)
            let indices = CUDAOps.maxAlongAxis(self, outer: outer, reduced: reduced, inner: inner).indices
            return Tensor(sharing: indices.storage, shape: Kernels.reducedShape(shape, axes: [ax], keepDims: false), dtype: .int32)
        }
        let indices = Kernels.maxAlongAxis(self, axis: ax).indices
        return Tensor(sharing: indices.storage, shape: Kernels.reducedShape(shape, axes: [ax], keepDims: false), dtype: .int32)
    }

    /// Variance over `axes`: mean of squared deviations, divided by n − 1 when `unbiased`
    /// (PyTorch's `correction=1`) and by n otherwise.
    public func variance(axes: [Int], keepDims: Bool = false, unbiased: Bool = false) -> Tensor {
        let resolved = Kernels.reductionAxes(axes, of: shape)
        let n = resolved.reduce(1) { $0 * shape[$1] }
        let divisor = Float(unbiased ? n - 1 : n)
        if device != .cpu {  // composed: mean of squared deviations
            let deviation = self - mean(axes: resolved, keepDims: true)
            return (deviation * deviation).sum(axes: resolved, keepDims: keepDims) * (1 / divisor)
        }
        let inShape = shape
        let mean = Kernels.sum(self, axes: resolved)
        let pm = mean.data
        for i in 0..<mean.count { pm[i] /= Float(n) }
        let keptShape = mean.shape
        // Deviations are kept for the backward pass: d var / dx = 2 (x − mean) / divisor.
        let deviation = Kernels.map2(self, Kernels.broadcast(mean, to: inShape)) { x, m, o, r in
            for i in r { o[i] = x[i] - m[i] }
        }
        let squared = Kernels.map(deviation) { d, o, r in for i in r { o[i] = d[i] * d[i] } }
        let kept = Kernels.sum(squared, axes: resolved)
        let pk = kept.data
        for i in 0..<kept.count { pk[i] /= divisor }
        let outShape = Kernels.reducedShape(inShape, axes: resolved, keepDims: keepDims)
        return Tensor(sharing: kept.storage, shape: outShape, dtype: .float32)
            .recorded("variance", inputs: [self]) { g in
                let gb = Kernels.broadcast(Tensor(sharing: g.storage, shape: keptShape, dtype: .float32), to: inShape)
                let scale = 2 / divisor
                return [Kernels.map2(gb, deviation) { g, d, o, r in for i in r { o[i] = g[i] * d[i] * scale } }]
            }
    }
}
