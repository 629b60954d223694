import CFloatMath
import Foundation

/// The unary ops on the CPU: one vectorisable pass per op (Kernels.map), transcendental functions
/// from Ops/FastMath.swift.
extension CPUBackend {
    public func unary(_ op: UnaryOp, _ x: Tensor, recording: Bool) -> (output: Tensor, saved: Tensor?) {
        switch op {
        case .exp: return saveOutput(Kernels.map(x) { x, o, r in Kernels.exp(x + r.lowerBound, into: o + r.lowerBound, count: r.count) })
        case .log: return (Kernels.map(x) { x, o, r in for i in r { o[i] = Foundation.log(x[i]) } }, x)
        case .sqrt: return saveOutput(Kernels.map(x) { x, o, r in for i in r { o[i] = ntrain_sqrtf(x[i]) } })
        case .abs: return (Kernels.map(x) { x, o, r in for i in r { o[i] = Swift.abs(x[i]) } }, x)
        case .pow(let p):
            if p == 2 { return (Kernels.map(x) { x, o, r in for i in r { o[i] = x[i] * x[i] } }, x) }
            return (Kernels.map(x) { x, o, r in for i in r { o[i] = Foundation.pow(x[i], p) } }, x)
        case let .clamp(a, b): return (Kernels.map(x) { x, o, r in for i in r { o[i] = Swift.min(Swift.max(x[i], a), b) } }, x)
        case .relu: return (Kernels.map(x) { x, o, r in for i in r { o[i] = x[i] > 0 ? x[i] : 0 } }, x)
        case .leakyRelu(let slope): return (Kernels.map(x) { x, o, r in for i in r { let xv = x[i]; o[i] = xv > 0 ? xv : xv * slope } }, x)
        case .gelu:
            // When recorded, GELU′(x) is computed in the same pass and kept: the backward is one multiply.
            guard recording else { return (Kernels.map(x) { x, o, r in for i in r { o[i] = Kernels.gelu(x[i]) } }, nil) }
            let derivative = Tensor(uninitialized: x.shape)
            let pd = derivative.data
            let y = Kernels.map(x) { x, o, r in
                Kernels.gelu(x + r.lowerBound, into: o + r.lowerBound, derivative: pd + r.lowerBound, count: r.count)
            }
            return (y, derivative)
        case .sigmoid: return saveOutput(Kernels.map(x) { x, o, r in Kernels.sigmoid(x + r.lowerBound, into: o + r.lowerBound, count: r.count) })
        case .tanh: return saveOutput(Kernels.map(x) { x, o, r in Kernels.tanh(x + r.lowerBound, into: o + r.lowerBound, count: r.count) })
        }
    }

    private func saveOutput(_ y: Tensor) -> (output: Tensor, saved: Tensor?) { (y, y) }

    /// `saved` is the input x, the output y (`gradientFromOutput`), or GELU′(x).
    public func unaryBackward(_ op: UnaryOp, _ g: Tensor, saved s: Tensor) -> Tensor {
        switch op {
        case .exp: return Kernels.map2(g, s) { g, y, o, r in for i in r { o[i] = g[i] * y[i] } }
        case .log: return Kernels.map2(g, s) { g, x, o, r in for i in r { o[i] = g[i] / x[i] } }
        case .sqrt: return Kernels.map2(g, s) { g, y, o, r in for i in r { o[i] = g[i] * 0.5 / y[i] } }
        case .abs:
            return Kernels.map2(g, s) { g, x, o, r in
                for i in r {
                    let gv = g[i], xv = x[i]
                    o[i] = xv > 0 ? gv : (xv < 0 ? -gv : 0)
                }
            }
        case .pow(let p):
            if p == 2 { return Kernels.map2(g, s) { g, x, o, r in for i in r { o[i] = 2 * x[i] * g[i] } } }
            if p == 0 { return Tensor.zeros(s.shape) }
            let q = p - 1
            return Kernels.map2(g, s) { g, x, o, r in for i in r { o[i] = p * Foundation.pow(x[i], q) * g[i] } }
        case let .clamp(a, b):
            return Kernels.map2(g, s) { g, x, o, r in for i in r {
                let gv = g[i], xv = x[i]
                let low = xv >= a ? gv : 0
                o[i] = xv <= b ? low : 0
            } }
        case .relu: return Kernels.map2(g, s) { g, x, o, r in for i in r { let gv = g[i]; o[i] = x[i] > 0 ? gv : 0 } }
        case .leakyRelu(let slope): return Kernels.map2(g, s) { g, x, o, r in for i in r { let gv = g[i]; o[i] = x[i] > 0 ? gv : gv * slope } }
        case .gelu: return Kernels.map2(g, s) { g, d, o, r in for i in r { o[i] = g[i] * d[i] } }
        case .sigmoid: return Kernels.map2(g, s) { g, y, o, r in for i in r { o[i] = g[i] * y[i] * (1 - y[i]) } }
        case .tanh: return Kernels.map2(g, s) { g, y, o, r in for i in r { o[i] = g[i] * (1 - y[i] * y[i]) } }
        }
    }
}
