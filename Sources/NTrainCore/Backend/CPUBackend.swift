import CFloatMath

/// The backend of tensors in host memory: each update is one pass over the elements, split over
/// the worker threads in chunks (bit-identical for any thread count: each element is independent).
public struct CPUBackend: Backend {
    public init() {}

    /// Host ops run to completion when called and cannot fail afterwards.
    public func synchronize(_ device: Device) throws(BackendError) {}

    public func sgdStep(_ p: Tensor, grad: Tensor, buffer: Tensor?, _ u: SGDUpdate) {
        let n = p.count, w = p.data, g = grad.data
        let negLR = u.negativeLR, wd = u.weightDecay, mom = u.momentum, keep = u.keep, nesterov = u.nesterov
        guard let buffer, mom != 0 else {
            parallelUpdate(n) { r in
                if wd == 0 {
                    for j in r { w[j] = w[j] + negLR * g[j] }
                } else {
                    for j in r { w[j] = w[j] + negLR * (g[j] + wd * w[j]) }
                }
            }
            return
        }
        let b = buffer.data
        if u.first {
            // PyTorch's first step: the buffer is a clone of the (decayed) gradient.
            parallelUpdate(n) { r in
                for j in r {
                    let gj = wd == 0 ? g[j] : g[j] + wd * w[j]
                    b[j] = gj
                    w[j] = w[j] + negLR * (nesterov ? gj + mom * gj : gj)
                }
            }
            return
        }
        parallelUpdate(n) { r in
            for j in r {
                let gj = wd == 0 ? g[j] : g[j] + wd * w[j]
                let bj = b[j] * mom + keep * gj
                b[j] = bj
                w[j] = w[j] + negLR * (nesterov ? gj + mom * bj : bj)
            }
        }
    }

    public func adamStep(_ p: Tensor, grad: Tensor, m mt: Tensor, v vt: Tensor, vmax vmaxt: Tensor?, _ u: AdamUpdate) {
        let n = p.count, w = p.data, g = grad.data, m = mt.data, v = vt.data
        let amsgrad = vmaxt != nil, vmax = vmaxt?.data ?? v
        let shrinks = u.shrink != nil, shrink = u.shrink ?? 1, l2 = u.l2
        let w1 = u.w1, decay2 = u.decay2, w2 = u.w2, bc2Sqrt = u.bc2Sqrt, eps = u.eps, negStep = u.negativeStep
        parallelUpdate(n) { r in
            for j in r {
                var wj = w[j]
                if shrinks { wj = wj * shrink }
                let gj = l2 == 0 ? g[j] : g[j] + l2 * wj
                let (mj, vj) = updateMoments(m, v, j, gradient: gj, w1: w1, decay2: decay2, w2: w2)
                var vhat = vj
                if amsgrad {
                    vhat = Swift.max(vmax[j], vj)
                    vmax[j] = vhat
                }
                let denom = ntrain_sqrtf(vhat) / bc2Sqrt + eps
                w[j] = wj + negStep * (mj / denom)
            }
        }
    }

    public func nadamStep(_ p: Tensor, grad: Tensor, m mt: Tensor, v vt: Tensor, _ u: NAdamUpdate) {
        let w = p.data, g = grad.data, m = mt.data, v = vt.data
        let shrinks = u.shrink != nil, shrink = u.shrink ?? 1, l2 = u.l2
        let w1 = u.w1, decay2 = u.decay2, w2 = u.w2, bc2 = u.bc2, eps = u.eps
        let gradCoef = u.gradCoefficient, avgCoef = u.averageCoefficient
        parallelUpdate(p.count) { r in
            for j in r {
                var wj = w[j]
                if shrinks { wj = wj * shrink }
                let gj = l2 == 0 ? g[j] : g[j] + l2 * wj
                let (mj, vj) = updateMoments(m, v, j, gradient: gj, w1: w1, decay2: decay2, w2: w2)
                let denom = ntrain_sqrtf(vj / bc2) + eps
                wj = wj + gradCoef * (gj / denom)
                w[j] = wj + avgCoef * (mj / denom)
            }
        }
    }

    public func adagradStep(_ p: Tensor, grad: Tensor, sum: Tensor, _ u: AdagradUpdate) {
        let n = p.count, w = p.data, g = grad.data, s = sum.data
        let wd = u.weightDecay, eps = u.eps, negCLR = u.negativeCLR
        parallelUpdate(n) { r in
            for j in r {
                let wj = w[j]
                let gj = wd == 0 ? g[j] : g[j] + wd * wj
                let sj = s[j] + gj * gj
                s[j] = sj
                w[j] = wj + negCLR * (gj / (ntrain_sqrtf(sj) + eps))
            }
        }
    }

    public func rmspropStep(_ p: Tensor, grad: Tensor, squareAverage: Tensor, buffer: Tensor?, gradAverage: Tensor?, _ u: RMSpropUpdate) {
        let n = p.count, w = p.data, g = grad.data, s = squareAverage.data
        let mom = buffer == nil ? 0 : u.momentum, centered = gradAverage != nil
        let b = buffer?.data ?? s, ga = gradAverage?.data ?? s
        let decay = u.decay, keep = u.keep, eps = u.eps, wd = u.weightDecay, negLR = u.negativeLR
        parallelUpdate(n) { r in
            for j in r {
                let wj = w[j]
                let gj = wd == 0 ? g[j] : g[j] + wd * wj
                let sj = s[j] * decay + keep * gj * gj
                s[j] = sj
                var avg: Float
                if centered {
                    let aj = lerp(ga[j], gj, keep)
                    ga[j] = aj
                    avg = ntrain_sqrtf(sj + -1 * aj * aj)
                } else {
                    avg = ntrain_sqrtf(sj)
                }
                avg = avg + eps
                if mom > 0 {
                    let bj = b[j] * mom + gj / avg
                    b[j] = bj
                    w[j] = wj + negLR * bj
                } else {
                    w[j] = wj + negLR * (gj / avg)
                }
            }
        }
    }

    public func allFinite(_ tensors: [Tensor]) -> Bool {
        for t in tensors {
            let n = t.count
            // A float is ±Inf or NaN exactly when its exponent bits are all ones, i.e. |bits| ≥ 0x7f80_0000.
            // An integer max over the magnitudes is branch-free and vectorises (a float sum would not).
            let largest = UnsafeMutableRawPointer(t.data).withMemoryRebound(to: UInt32.self, capacity: n) { bits in
                var m: UInt32 = 0
                for j in 0..<n { m = max(m, bits[j] & 0x7fff_ffff) }
                return m
            }
            if largest >= 0x7f80_0000 { return false }
        }
        return true
    }
}

/// An elementwise update over `count` elements on the worker threads.
func parallelUpdate(_ count: Int, _ body: (Range<Int>) -> Void) {
    Parallel.forEachChunk(count, minChunk: 8192) { _, r in body(r) }
}

/// PyTorch's CPU `lerp` (`a + w·(b − a)`, switching form at w = 0.5 for accuracy), used for the
/// running averages so they round as PyTorch's do.
@inline(__always)
func lerp(_ a: Float, _ b: Float, _ w: Float) -> Float {
    abs(w) < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w)
}

/// Adam's and NAdam's running moments of element `j`: m = lerp(m, g, 1 − β1) and
/// v = β2·v + (1 − β2)·g², stored back and returned (`w1` = 1 − β1, `w2` = 1 − β2).
@inline(__always)
func updateMoments(_ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>, _ j: Int, gradient g: Float,
                   w1: Float, decay2: Float, w2: Float) -> (m: Float, v: Float) {
    let mj = lerp(m[j], g, w1)
    m[j] = mj
    let vj = v[j] * decay2 + w2 * g * g
    v[j] = vj
    return (mj, vj)
}
