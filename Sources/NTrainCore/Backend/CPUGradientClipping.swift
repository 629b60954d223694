import Foundation

/// Gradient clipping on the CPU (PyTorch's `clip_grad_norm_` and `clip_grad_value_`).
extension CPUBackend {
    public func clipGradNorm(_ grads: [Tensor], maxNorm: Float, normType: Float) -> Float {
        let total: Double
        if normType == .infinity {
            var m = 0.0
            for g in grads { m = max(m, Double(Self.maxAbs(g))) }
            total = m
        } else {
            var acc = 0.0
            for g in grads {
                let norm = Self.vectorNorm(g, p: Double(normType))
                acc += normType == 1 ? norm : pow(norm, Double(normType))
            }
            total = normType == 1 ? acc : pow(acc, 1 / Double(normType))
        }
        let totalNorm = Float(total)
        // PyTorch: coef = max_norm / (total + 1e-6), clamped to 1, computed in float32.
        let coef = maxNorm / (totalNorm + 1e-6)
        if !(coef >= 1) {
            for g in grads {
                let d = g.data
                for j in 0..<g.count { d[j] = d[j] * coef }
            }
        }
        return totalNorm
    }

    public func clipGradValue(_ grads: [Tensor], clipValue: Float) {
        let hi = abs(clipValue), lo = -hi
        for g in grads {
            let d = g.data
            for j in 0..<g.count {
                let x = d[j]
                // NaN stays NaN, as in torch.clamp.
                d[j] = x < lo ? lo : (x > hi ? hi : x)
            }
        }
    }

    /// The p-norm of one tensor, in double precision (a float32 result is then taken by the caller).
    static func vectorNorm(_ t: Tensor, p: Double) -> Double {
        let d = t.data, n = t.count
        if p == 2 {
            var s = 0.0
            for j in 0..<n { let x = Double(d[j]); s += x * x }
            return s.squareRoot()
        }
        if p == 1 {
            var s = 0.0
            for j in 0..<n { s += Double(abs(d[j])) }
            return s
        }
        var s = 0.0
        for j in 0..<n { s += pow(Double(abs(d[j])), p) }
        return pow(s, 1 / p)
    }

    static func maxAbs(_ t: Tensor) -> Float {
        let d = t.data
        var m: Float = 0
        for j in 0..<t.count {
            let a = abs(d[j])
            m = (a > m || a.isNaN) ? a : m // NaN propagates, as in torch's max norm
        }
        return m
    }
}
