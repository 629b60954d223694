/// Elementwise arithmetic on the CPU (Kernels.binary, which broadcasts).
extension CPUBackend {
    public func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) -> Tensor {
        switch op {
        case .add: return Kernels.binary(a, b, +)
        case .sub: return Kernels.binary(a, b, -)
        case .mul: return Kernels.binary(a, b, *)
        case .div: return Kernels.binary(a, b, /)
        case .negDiv: return Kernels.binary(a, b) { -$0 / $1 }
        }
    }

    public func scale(_ a: Tensor, _ s: Float) -> Tensor { Kernels.unary(a) { $0 * s } }

    public func addScalar(_ a: Tensor, _ s: Float) -> Tensor { Kernels.unary(a) { $0 + s } }

    public func sumToShape(_ g: Tensor, _ shape: Shape) -> Tensor {
        let out = Tensor.zeros(shape)
        let po = out.data, pg = g.data
        if shape.count == 1 {
            var s: Float = 0
            for i in 0..<g.count { s += pg[i] }
            po[0] = s
            return out
        }
        let so = shape.broadcastStrides(to: g.shape)
        Kernels.forEachIndex(g.shape) { i, idx in
            var o = 0
            for d in 0..<idx.count { o += idx[d] * so[d] }
            po[o] += pg[i]
        }
        return out
    }
}
