/// Raw kernels: they compute results and never record autograd history. Differentiable ops on
/// `Tensor` call these in both their forward and backward passes.
public enum Kernels {
    /// Elementwise `op(a, b)` with NumPy broadcasting.
    @inline(__always)
    public static func binary(_ a: Tensor, _ b: Tensor, _ op: (Float, Float) -> Float) -> Tensor {
        let pa = a.data, pb = b.data
        if a.shape == b.shape {
            let out = Tensor(uninitialized: a.shape)
            let po = out.data
            for i in 0..<a.count { po[i] = op(pa[i], pb[i]) }
            return out
        }
        guard let shape = Shape.broadcast(a.shape, b.shape) else {
            preconditionFailure("shapes \(a.shape) and \(b.shape) cannot be broadcast together")
        }
        let out = Tensor(uninitialized: shape)
        let po = out.data
        if b.count == 1 {
            let s = pb[0]
            for i in 0..<out.count { po[i] = op(pa[i % a.count], s) }
            return out
        }
        if a.count == 1 {
            let s = pa[0]
            for i in 0..<out.count { po[i] = op(s, pb[i % b.count]) }
            return out
        }
        let sa = a.shape.broadcastStrides(to: shape), sb = b.shape.broadcastStrides(to: shape)
        forEachIndex(shape) { o, idx in
            var ia = 0, ib = 0
            for d in 0..<idx.count { ia += idx[d] * sa[d]; ib += idx[d] * sb[d] }
            po[o] = op(pa[ia], pb[ib])
        }
        return out
    }

    /// Elementwise `op(a)`.
    @inline(__always)
    public static func unary(_ a: Tensor, _ op: (Float) -> Float) -> Tensor {
        let out = Tensor(uninitialized: a.shape)
        let pa = a.data, po = out.data
        for i in 0..<a.count { po[i] = op(pa[i]) }
        return out
    }

    // These run on the tensors' backend (the first operand's device).
    public static func add(_ a: Tensor, _ b: Tensor) -> Tensor { a.backend.binary(.add, a, b) }
    public static func sub(_ a: Tensor, _ b: Tensor) -> Tensor { a.backend.binary(.sub, a, b) }
    public static func mul(_ a: Tensor, _ b: Tensor) -> Tensor { a.backend.binary(.mul, a, b) }
    public static func div(_ a: Tensor, _ b: Tensor) -> Tensor { a.backend.binary(.div, a, b) }
    public static func scale(_ a: Tensor, _ s: Float) -> Tensor { a.backend.scale(a, s) }

    /// Sums `g` (shaped like a broadcast result) down to `shape`, the gradient of broadcasting.
    public static func sumToShape(_ g: Tensor, _ shape: Shape) -> Tensor {
        g.shape == shape ? g : g.backend.sumToShape(g, shape)
    }

    /// Visits every multi-index of `shape` in row-major order with its flat position.
    @inline(__always)
    public static func forEachIndex(_ shape: Shape, _ body: (Int, [Int]) -> Void) {
        let n = shape.count
        guard n > 0 else { return }
        var idx = [Int](repeating: 0, count: shape.rank)
        for flat in 0..<n {
            body(flat, idx)
            var d = shape.rank - 1
            while d >= 0 {
                idx[d] += 1
                if idx[d] < shape.dims[d] { break }
                idx[d] = 0
                d -= 1
            }
        }
    }
}

// MARK: Differentiable arithmetic

extension Tensor {
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        Kernels.add(a, b).recorded("add", inputs: [a, b]) { g in
            [Kernels.sumToShape(g, a.shape), Kernels.sumToShape(g, b.shape)]
        }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        Kernels.sub(a, b).recorded("sub", inputs: [a, b]) { g in
            [Kernels.sumToShape(g, a.shape), Kernels.sumToShape(Kernels.scale(g, -1), b.shape)]
        }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        Kernels.mul(a, b).recorded("mul", inputs: [a, b]) { g in
            [a.requiresGrad ? Kernels.sumToShape(Kernels.mul(g, b), a.shape) : nil,
             b.requiresGrad ? Kernels.sumToShape(Kernels.mul(g, a), b.shape) : nil]
        }
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        Kernels.div(a, b).recorded("div", inputs: [a, b]) { g in
            [a.requiresGrad ? Kernels.sumToShape(Kernels.div(g, b), a.shape) : nil,
             b.requiresGrad ? Kernels.sumToShape(negatedQuotient(Kernels.mul(g, a), Kernels.mul(b, b)), b.shape) : nil]
        }
    }

    public static prefix func - (a: Tensor) -> Tensor { a * -1 }

    /// −x / y, the divisor's gradient.
    private static func negatedQuotient(_ x: Tensor, _ y: Tensor) -> Tensor { x.backend.binary(.negDiv, x, y) }

    public static func + (a: Tensor, s: Float) -> Tensor {
        a.backend.addScalar(a, s).recorded("add_scalar", inputs: [a]) { g in [g] }
    }

    public static func - (a: Tensor, s: Float) -> Tensor { a + (-s) }

    public static func * (a: Tensor, s: Float) -> Tensor {
        Kernels.scale(a, s).recorded("mul_scalar", inputs: [a]) { g in [Kernels.scale(g, s)] }
    }

    public static func / (a: Tensor, s: Float) -> Tensor { a * (1 / s) }
    public static func + (s: Float, a: Tensor) -> Tensor { a + s }
    public static func * (s: Float, a: Tensor) -> Tensor { a * s }
    public static func - (s: Float, a: Tensor) -> Tensor { (a * -1) + s }
}
