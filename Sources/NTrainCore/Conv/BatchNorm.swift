import Foundation

extension Kernels {
    /// Splits a batch-norm input [N, C, ...] into (N, C, S): S elements per (sample, channel) row.
    @inline(__always)
    static func batchNormLayout(_ shape: Shape) -> (n: Int, c: Int, s: Int) {
        precondition(shape.rank >= 2, "batchNorm: input must be [N, C] or [N, C, H, W], got \(shape)")
        return (shape[0], shape[1], shape.dims.dropFirst(2).reduce(1, *))
    }

    /// Per-channel mean and biased variance of `x` [N, C, ...] over every axis but 1 (two passes,
    /// accumulated in Double per row). Parallel over channels; each channel is summed by one
    /// thread in a fixed order, so results do not depend on the thread count.
    public static func batchNormStatistics(_ x: Tensor) -> (mean: Tensor, variance: Tensor) {
        let (n, c, s) = batchNormLayout(x.shape)
        let mean = Tensor(uninitialized: [c]), variance = Tensor(uninitialized: [c])
        let px = x.data, pm = mean.data, pv = variance.data
        let m = Double(max(1, n * s))
        Parallel.forEachChunk(c, minChunk: max(1, 4096 / max(1, n * s))) { _, range in
            for ch in range {
                var total = 0.0
                for i in 0..<n {
                    total += Double(sumContiguous(px + (i * c + ch) * s, s))
                }
                let mu = Float(total / m)
                var squares = 0.0
                for i in 0..<n {
                    squares += Double(laneSumSquaredDeviations(px + (i * c + ch) * s, s, center: mu))
                }
                pm[ch] = mu
                pv[ch] = Float(squares / m)
            }
        }
        return (mean, variance)
    }

    /// y = (x − mean)·invStd·weight + bias per channel, as one multiply-add per element.
    public static func batchNormApply(_ x: Tensor, mean: Tensor, invStd: Tensor, weight: Tensor?, bias: Tensor?) -> Tensor {
        let (n, c, s) = batchNormLayout(x.shape)
        let out = Tensor(uninitialized: x.shape)
        let px = x.data, po = out.data, pm = mean.data, pi = invStd.data
        let pw = weight?.data, pb = bias?.data
        Parallel.forEachChunk(n * c, minChunk: max(1, 4096 / max(1, s))) { _, range in
            for r in range {
                let ch = r % c
                let scale = pi[ch] * (pw?[ch] ?? 1)
                let shift = (pb?[ch] ?? 0) - pm[ch] * scale
                let src = px + r * s, dst = po + r * s
                for j in 0..<s { dst[j] = src[j] * scale + shift }
            }
        }
        return out
    }

    /// Batch-norm gradients. In training the mean and variance depend on x, giving the standard
    /// dx = w·invStd·(dy − mean(dy) − x̂·mean(dy·x̂)); in eval they are constants, dx = w·invStd·dy.
    /// dweight = Σ dy·x̂, dbias = Σ dy per channel. Parallel over channels (no cross-thread sums).
    public static func batchNormBackward(
        _ grad: Tensor, input x: Tensor, mean: Tensor, invStd: Tensor, weight: Tensor?, training: Bool,
        inputGrad: Bool, weightGrad: Bool, biasGrad: Bool
    ) -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        let (n, c, s) = batchNormLayout(x.shape)
        let dx = inputGrad ? Tensor(uninitialized: x.shape) : nil
        let dw = weightGrad ? Tensor(uninitialized: [c]) : nil
        let db = biasGrad ? Tensor(uninitialized: [c]) : nil
        let px = x.data, pg = grad.data, pm = mean.data, pi = invStd.data, pw = weight?.data
        let pdx = dx?.data, pdw = dw?.data, pdb = db?.data
        let m = Float(max(1, n * s))
        let needSums = training || weightGrad || biasGrad
        Parallel.forEachChunk(c, minChunk: max(1, 2048 / max(1, n * s))) { _, range in
            for ch in range {
                let mu = pm[ch], inv = pi[ch]
                var sumDy = 0.0, sumDyXmu = 0.0
                if needSums {
                    for i in 0..<n {
                        let off = (i * c + ch) * s
                        let (a, b) = laneSumAndProduct(pg + off, px + off, s, center: mu)
                        sumDy += Double(a)
                        sumDyXmu += Double(b)
                    }
                }
                pdb?[ch] = Float(sumDy)
                pdw?[ch] = Float(sumDyXmu) * inv
                guard let pdx else { continue }
                let a = inv * (pw?[ch] ?? 1)
                // dx = a·dy + k2·x + k3 (training) or a·dy (eval).
                let k2 = training ? -a * inv * inv * Float(sumDyXmu) / m : 0
                let k3 = training ? -a * Float(sumDy) / m - k2 * mu : 0
                for i in 0..<n {
                    let off = (i * c + ch) * s
                    let dy = pg + off, xr = px + off, d = pdx + off
                    for j in 0..<s { d[j] = a * dy[j] + k2 * xr[j] + k3 }
                }
            }
        }
        return (dx, dw, db)
    }
}

extension Tensor {
    /// Batch normalisation of `self` [N, C] or [N, C, H, W] over every axis but the channel axis 1
    /// (PyTorch's `batch_norm`). In training it normalises with the batch mean and biased variance
    /// and updates `runningMean`/`runningVar` in place: r ← (1 − momentum)·r + momentum·stat, with the
    /// unbiased variance. In eval it normalises with the running statistics. `weight`/`bias` [C]
    /// are the optional affine parameters (1 and 0 when nil).
    public func batchNorm(
        runningMean: Tensor, runningVar: Tensor, weight: Tensor?, bias: Tensor?, training: Bool,
        momentum: Float = 0.1, eps: Float = 1e-5
    ) -> Tensor {
        let (n, c, s) = Kernels.batchNormLayout(shape)
        for (name, t) in [("runningMean", runningMean), ("runningVar", runningVar), ("weight", weight), ("bias", bias)] {
            guard let t else { continue }
            precondition(t.shape == [c], "batchNorm: \(name) must be [\(c)] for input \(shape), got \(t.shape)")
        }
        if training { precondition(n * s > 1, "batchNorm: training needs more than one value per channel, input is \(shape)") }
        let inputs = [self] + [weight, bias].compactMap { $0 }
        return recording("batchNorm", inputs: inputs, backend.batchNorm(self, n: n, c: c, s: s, runningMean: runningMean, runningVar: runningVar,
                                                                      weight: weight, bias: bias, training: training, momentum: momentum, eps: eps))
    }
}
