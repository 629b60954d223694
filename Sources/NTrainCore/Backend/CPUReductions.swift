/// Reductions and softmax on the CPU, each with its backward (sums in the fixed orders of
/// Ops/ReductionKernels.swift, so any thread count gives the same bits).
extension CPUBackend {
    public func sumAll(_ x: Tensor) -> Differentiated {
        let shape = x.shape
        return (Tensor(Kernels.sumContiguous(x.data, x.count)), { g in [Tensor.full(shape, g.item())] })
    }

    public func sum(_ x: Tensor, axes: [Int], keepDims: Bool) -> Differentiated {
        let kept = Kernels.sum(x, axes: axes)
        let outShape = Kernels.reducedShape(x.shape, axes: axes, keepDims: keepDims)
        let inShape = x.shape, keptShape = kept.shape
        return (Tensor(sharing: kept.storage, shape: outShape, dtype: .float32), { g in
            [Kernels.broadcast(Tensor(sharing: g.storage, shape: keptShape, dtype: .float32), to: inShape)]
        })
    }

    public func variance(_ x: Tensor, axes: [Int], keepDims: Bool, unbiased: Bool) -> Differentiated {
        let n = axes.reduce(1) { $0 * x.shape[$1] }
        let divisor = Float(unbiased ? n - 1 : n)
        let inShape = x.shape
        let mean = Kernels.sum(x, axes: axes)
        let pm = mean.data
        for i in 0..<mean.count { pm[i] /= Float(n) }
        let keptShape = mean.shape
        // Deviations are kept for the backward pass: d var / dx = 2 (x − mean) / divisor.
        let deviation = Kernels.map2(x, Kernels.broadcast(mean, to: inShape)) { x, m, o, r in
            for i in r { o[i] = x[i] - m[i] }
        }
        let squared = Kernels.map(deviation) { d, o, r in for i in r { o[i] = d[i] * d[i] } }
        let kept = Kernels.sum(squared, axes: axes)
        let pk = kept.data
        for i in 0..<kept.count { pk[i] /= divisor }
        let outShape = Kernels.reducedShape(inShape, axes: axes, keepDims: keepDims)
        return (Tensor(sharing: kept.storage, shape: outShape, dtype: .float32), { g in
            let gb = Kernels.broadcast(Tensor(sharing: g.storage, shape: keptShape, dtype: .float32), to: inShape)
            let scale = 2 / divisor
            return [Kernels.map2(gb, deviation) { g, d, o, r in for i in r { o[i] = g[i] * d[i] * scale } }]
        })
    }

    public func maxAlong(_ x: Tensor, axis ax: Int, keepDims: Bool) -> Differentiated {
        let (values, indices) = Kernels.maxAlongAxis(x, axis: ax)
        let outShape = Kernels.reducedShape(x.shape, axes: [ax], keepDims: keepDims)
        let inShape = x.shape
        return (Tensor(sharing: values.storage, shape: outShape, dtype: .float32), { g in
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
        })
    }

    public func argmax(_ x: Tensor, axis ax: Int) -> Tensor {
        let indices = Kernels.maxAlongAxis(x, axis: ax).indices
        return Tensor(sharing: indices.storage, shape: Kernels.reducedShape(x.shape, axes: [ax], keepDims: false), dtype: .int32)
    }

    public func softmax(_ x: Tensor, axis ax: Int, log: Bool) -> Differentiated {
        let y = Kernels.softmax(x, axis: ax, log: log)
        if log {
            return (y, { g in
                // dx = g − softmax ⊙ Σ_axis g
                let total = Kernels.broadcast(Kernels.sum(g, axes: [ax]), to: y.shape)
                return [Kernels.map2(g, total) { g, t, o, r in
                    Kernels.exp(y.data + r.lowerBound, into: o + r.lowerBound, count: r.count)  // softmax
                    for i in r { o[i] = g[i] - o[i] * t[i] }
                }]
            })
        }
        return (y, { g in
            // dx = y ⊙ (g − Σ_axis g ⊙ y)
            let gy = Kernels.map2(g, y) { g, y, o, r in for i in r { o[i] = g[i] * y[i] } }
            let dot = Kernels.broadcast(Kernels.sum(gy, axes: [ax]), to: y.shape)
            return [Kernels.map2(gy, dot) { gy, d, o, r in
                let yv = y.data
                for i in r { o[i] = gy[i] - yv[i] * d[i] }
            }]
        })
    }
}
