import CFloatMath
import Foundation

/// The unary ops on the CPU: an op's own scalar functions (`UnaryOp.forward`/`backward`) in one
/// parallel pass, or, for the ops where a benchmark shows it pays (docs/benchmarks.md, "Unary
/// kernels"), a hand-written loop the compiler vectorises or the Ops/FastMath.swift kernels.
extension CPUBackend {
    public func unary(_ op: UnaryOp, _ x: Tensor, recording: Bool) -> (output: Tensor, saved: Tensor?) {
        if let fast = fastUnary(op, x, recording: recording) { return fast }
        let y = genericUnary(op, x)
        return (y, op.saves == .output ? y : x)
    }

    public func unaryBackward(_ op: UnaryOp, _ g: Tensor, saved s: Tensor) -> Tensor {
        fastUnaryBackward(op, g, saved: s) ?? genericUnaryBackward(op, g, saved: s)
    }

    /// `op.forward` over `x`, one indirect call per element: what an op without a hand-written
    /// kernel runs (public for the benchmark that decides which ops keep one).
    public func genericUnary(_ op: UnaryOp, _ x: Tensor) -> Tensor {
        let f = op.forward
        return Kernels.map(x) { x, o, r in for i in r { o[i] = f(x[i]) } }
    }

    /// `op.backward` over `g` and the saved tensor (x or y, `op.saves`).
    public func genericUnaryBackward(_ op: UnaryOp, _ g: Tensor, saved s: Tensor) -> Tensor {
        let b = op.backward
        return Kernels.map2(g, s) { g, s, o, r in for i in r { o[i] = b(g[i], s[i]) } }
    }

    /// The hand-written forward of `op`, if it has one; the same values as `op.forward`.
    func fastUnary(_ op: UnaryOp, _ x: Tensor, recording: Bool) -> (output: Tensor, saved: Tensor?)? {
        guard op.isBuiltin else { return nil }
        switch op.name {
        case "exp": return saveOutput(Kernels.map(x) { x, o, r in Kernels.exp(x + r.lowerBound, into: o + r.lowerBound, count: r.count) })
        case "sqrt": return saveOutput(Kernels.map(x) { x, o, r in for i in r { o[i] = ntrain_sqrtf(x[i]) } })
        case "abs": return (Kernels.map(x) { x, o, r in for i in r { o[i] = Swift.abs(x[i]) } }, x)
        case "pow" where op.parameters[0] == 2: return (Kernels.map(x) { x, o, r in for i in r { o[i] = x[i] * x[i] } }, x)
        case "clamp":
            let a = op.parameters[0], b = op.parameters[1]
            return (Kernels.map(x) { x, o, r in for i in r { o[i] = Swift.min(Swift.max(x[i], a), b) } }, x)
        case "relu": return (Kernels.map(x) { x, o, r in for i in r { o[i] = x[i] > 0 ? x[i] : 0 } }, x)
        case "leaky_relu":
            let slope = op.parameters[0]
            return (Kernels.map(x) { x, o, r in for i in r { let xv = x[i]; o[i] = xv > 0 ? xv : xv * slope } }, x)
        case "gelu":
            // When recorded, GELU′(x) is computed in the same pass and kept: the backward is one multiply.
            guard recording else { return (Kernels.map(x) { x, o, r in for i in r { o[i] = Kernels.gelu(x[i]) } }, nil) }
            let derivative = Tensor(uninitialized: x.shape)
            let pd = derivative.data
            let y = Kernels.map(x) { x, o, r in
                Kernels.gelu(x + r.lowerBound, into: o + r.lowerBound, derivative: pd + r.lowerBound, count: r.count)
            }
            return (y, derivative)
        case "sigmoid": return saveOutput(Kernels.map(x) { x, o, r in Kernels.sigmoid(x + r.lowerBound, into: o + r.lowerBound, count: r.count) })
        case "tanh": return saveOutput(Kernels.map(x) { x, o, r in Kernels.tanh(x + r.lowerBound, into: o + r.lowerBound, count: r.count) })
        default: return nil
        }
    }

    private func saveOutput(_ y: Tensor) -> (output: Tensor, saved: Tensor?) { (y, y) }

    /// The hand-written backward of `op`, if it has one. `saved` is what `fastUnary` (or, for
    /// ops without a fast forward, `unary`) kept: x, y, or for GELU, GELU′(x).
    func fastUnaryBackward(_ op: UnaryOp, _ g: Tensor, saved s: Tensor) -> Tensor? {
        guard op.isBuiltin else { return nil }
        switch op.name {
        case "exp": return Kernels.map2(g, s) { g, y, o, r in for i in r { o[i] = g[i] * y[i] } }
        case "sqrt": return Kernels.map2(g, s) { g, y, o, r in for i in r { o[i] = g[i] * 0.5 / y[i] } }
        case "abs":
            return Kernels.map2(g, s) { g, x, o, r in
                for i in r {
                    let gv = g[i], xv = x[i]
                    o[i] = xv > 0 ? gv : (xv < 0 ? -gv : 0)
                }
            }
        case "pow" where op.parameters[0] == 2: return Kernels.map2(g, s) { g, x, o, r in for i in r { o[i] = 2 * x[i] * g[i] } }
        case "clamp":
            let a = op.parameters[0], b = op.parameters[1]
            return Kernels.map2(g, s) { g, x, o, r in for i in r {
                let gv = g[i], xv = x[i]
                let low = xv >= a ? gv : 0
                o[i] = xv <= b ? low : 0
            } }
        case "relu": return Kernels.map2(g, s) { g, x, o, r in for i in r { let gv = g[i]; o[i] = x[i] > 0 ? gv : 0 } }
        case "leaky_relu":
            let slope = op.parameters[0]
            return Kernels.map2(g, s) { g, x, o, r in for i in r { let gv = g[i]; o[i] = x[i] > 0 ? gv : gv * slope } }
        case "gelu": return Kernels.map2(g, s) { g, d, o, r in for i in r { o[i] = g[i] * d[i] } }
        case "sigmoid": return Kernels.map2(g, s) { g, y, o, r in for i in r { o[i] = g[i] * y[i] * (1 - y[i]) } }
        case "tanh": return Kernels.map2(g, s) { g, y, o, r in for i in r { o[i] = g[i] * (1 - y[i] * y[i]) } }
        default: return nil
        }
    }
}
