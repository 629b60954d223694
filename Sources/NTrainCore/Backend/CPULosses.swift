import Foundation

/// The classification losses on the CPU: one pass per row, the loss summed in double.
extension CPUBackend {
    public func crossEntropy(_ logits: Tensor, _ targets: Tensor, n: Int, c: Int, labelSmoothing eps: Float) -> (loss: Tensor, backward: (Tensor) -> Tensor) {
        let x = logits.data, t = targets.int32Data
        let probs = Tensor(uninitialized: [n, c])
        let pp = probs.data
        var total = 0.0
        for i in 0..<n {
            let row = x + i * c, prow = pp + i * c
            var m = -Float.infinity
            for j in 0..<c { m = max(m, row[j]) }
            var s: Float = 0
            for j in 0..<c {
                let e = Foundation.exp(row[j] - m)
                prow[j] = e
                s += e
            }
            let logZ = m + Foundation.log(s)
            let inv = 1 / s
            var sumLogP: Float = 0
            for j in 0..<c {
                prow[j] *= inv
                sumLogP += row[j] - logZ
            }
            let target = Int(t[i])
            let nll = -(row[target] - logZ)
            total += Double((1 - eps) * nll - eps / Float(c) * sumLogP)
        }
        return (Tensor(Float(total / Double(n))), { g in
            // Read through the tensors (not the pointers above) so their storage outlives the forward.
            let pp = probs.data, t = targets.int32Data
            let scale = g.item() / Float(n)
            let grad = Tensor(uninitialized: [n, c])
            let gp = grad.data
            let off = eps / Float(c)
            for i in 0..<n {
                for j in 0..<c { gp[i * c + j] = (pp[i * c + j] - off) * scale }
                gp[i * c + Int(t[i])] -= (1 - eps) * scale
            }
            return grad
        })
    }

    public func nllLoss(_ logProbabilities: Tensor, _ targets: Tensor, n: Int, c: Int) -> (loss: Tensor, backward: (Tensor) -> Tensor) {
        let x = logProbabilities.data, t = targets.int32Data
        var total = 0.0
        for i in 0..<n { total -= Double(x[i * c + Int(t[i])]) }
        return (Tensor(Float(total / Double(n))), { g in
            let t = targets.int32Data
            let grad = Tensor.zeros([n, c])
            let v = -g.item() / Float(n)
            for i in 0..<n { grad.data[i * c + Int(t[i])] = v }
            return grad
        })
    }

    public func meanLoss(_ prediction: Tensor, _ target: Tensor, targetNeedsGradient: Bool, value: @escaping (Float, Float) -> Float,
                         derivative: @escaping (Float, Float) -> Float) -> (loss: Tensor, backward: (Tensor) -> (Tensor, Tensor?)) {
        let n = prediction.count
        let p = prediction.data, t = target.data
        var total = 0.0
        for i in 0..<n { total += Double(value(p[i], t[i])) }
        return (Tensor(Float(total / Double(max(1, n)))), { g in
            let p = prediction.data, t = target.data
            let s = g.item() / Float(max(1, n))
            let gp = Tensor(uninitialized: prediction.shape)
            for i in 0..<n { gp.data[i] = derivative(p[i], t[i]) * s }
            // d/dtarget is −d/dprediction for the difference-based losses; binary ones give none.
            return (gp, targetNeedsGradient ? Kernels.scale(gp, -1) : nil)
        })
    }
}
