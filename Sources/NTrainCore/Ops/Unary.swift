import CFloatMath
import Foundation

extension Kernels {
    /// Elements per chunk below which elementwise kernels stay on one thread (thread start-up costs
    /// more than the work).
    public static let elementwiseMinChunk = 16384

    /// A fresh tensor shaped like `a`, filled by `body(src, dst, range)` over disjoint chunks in
    /// parallel. `body` runs once per chunk, so its inner pointer loop inlines and vectorises.
    @inline(__always)
    public static func map(
        _ a: Tensor, _ body: (_ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ range: Range<Int>) -> Void
    ) -> Tensor {
        let out = Tensor(uninitialized: a.shape)
        let pa = a.data, po = out.data
        Parallel.forEachChunk(a.count, minChunk: elementwiseMinChunk) { _, r in body(pa, po, r) }
        return out
    }

    /// Like `map`, over two same-shaped tensors (typically an upstream gradient and a saved tensor).
    @inline(__always)
    public static func map2(
        _ a: Tensor, _ b: Tensor,
        _ body: (_ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ range: Range<Int>) -> Void
    ) -> Tensor {
        precondition(a.shape == b.shape, "elementwise op on shapes \(a.shape) and \(b.shape)")
        let out = Tensor(uninitialized: a.shape)
        let pa = a.data, pb = b.data, po = out.data
        Parallel.forEachChunk(a.count, minChunk: elementwiseMinChunk) { _, r in body(pa, pb, po, r) }
        return out
    }
}

// MARK: Differentiable unary math

extension Tensor {
    /// Elementwise eˣ.
    public func exp() -> Tensor {
        if device != .cpu { return gpuActivation("exp", savesOutput: true) }
        let y = Kernels.map(self) { x, o, r in Kernels.exp(x + r.lowerBound, into: o + r.lowerBound, count: r.count) }
        return y.recorded("exp", inputs: [self]) { g in
            [Kernels.map2(g, y) { g, y, o, r in for i in r { o[i] = g[i] * y[i] } }]
        }
    }

    /// Elementwise natural logarithm.
    public func log() -> Tensor {
        if device != .cpu { return gpuActivation("log") }
        let x = self
        return Kernels.map(x) { x, o, r in for i in r { o[i] = Foundation.log(x[i]) } }
            .recorded("log", inputs: [x]) { g in
                [Kernels.map2(g, x) { g, x, o, r in for i in r { o[i] = g[i] / x[i] } }]
            }
    }

    /// Elementwise square root.
    public func sqrt() -> Tensor {
        if device != .cpu { return gpuActivation("sqrt", savesOutput: true) }
        let y = Kernels.map(self) { x, o, r in for i in r { o[i] = ntrain_sqrtf(x[i]) } }
        return y.recorded("sqrt", inputs: [self]) { g in
            [Kernels.map2(g, y) { g, y, o, r in for i in r { o[i] = g[i] * 0.5 / y[i] } }]
        }
    }

    /// Elementwise |x|; the gradient at 0 is 0, as in PyTorch.
    public func abs() -> Tensor {
        if device != .cpu { return gpuActivation("abs") }
        let x = self
        return Kernels.map(x) { x, o, r in for i in r { o[i] = Swift.abs(x[i]) } }
            .recorded("abs", inputs: [x]) { g in
                [Kernels.map2(g, x) { g, x, o, r in
                    for i in r {
                        let gv = g[i], xv = x[i]
                        o[i] = xv > 0 ? gv : (xv < 0 ? -gv : 0)
                    }
                }]
            }
    }

    /// Elementwise xᵖ.
    public func pow(_ p: Float) -> Tensor {
        if device != .cpu { return gpuActivation("pow", p) }
        let x = self
        let y: Tensor
        if p == 2 {
            y = Kernels.map(x) { x, o, r in for i in r { o[i] = x[i] * x[i] } }
        } else {
            y = Kernels.map(x) { x, o, r in for i in r { o[i] = Foundation.pow(x[i], p) } }
        }
        return y.recorded("pow", inputs: [x]) { g in
            if p == 2 {
                return [Kernels.map2(g, x) { g, x, o, r in for i in r { o[i] = 2 * x[i] * g[i] } }]
            }
            if p == 0 { return [Tensor.zeros(x.shape)] }
            let q = p - 1
            return [Kernels.map2(g, x) { g, x, o, r in for i in r { o[i] = p * Foundation.pow(x[i], q) * g[i] } }]
        }
    }

    /// Elementwise clamp to [min, max] (either bound may be nil). The gradient flows where
    /// min ≤ x ≤ max, as in PyTorch.
    public func clamp(min lo: Float?, max hi: Float?) -> Tensor {
        let x = self
        let a = lo ?? -Float.infinity, b = hi ?? Float.infinity
        precondition(!(a > b), "clamp: min \(a) is larger than max \(b)")
        if device != .cpu { return gpuActivation("clamp", a, b) }
        return Kernels.map(x) { x, o, r in for i in r { o[i] = Swift.min(Swift.max(x[i], a), b) } }
            .recorded("clamp", inputs: [x]) { g in
                [Kernels.map2(g, x) { g, x, o, r in for i in r {
                    let gv = g[i], xv = x[i]
                    let low = xv >= a ? gv : 0
                    o[i] = xv <= b ? low : 0
                } }]
            }
    }
}
