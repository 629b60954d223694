/// Elementwise GPU ops: arithmetic with broadcasting, scalar ops, unary maths and activations
/// (forward and backward), in-place accumulation and the broadcast gradient (`sumToShape`).
extension CUDAOps {
    /// `name` is `add`, `sub`, `mul`, `div` or `neg_div` (−a / b), with NumPy broadcasting.
    static func binary(_ name: String, _ a: Tensor, _ b: Tensor) -> Tensor {
        checkSameDevice(name, [a, b])
        if a.shape == b.shape {
            let out = Tensor(uninitialized: a.shape, device: a.device)
            launch(a.device, "\(name)_f32", elements: a.count,
                   CUDAKernelArguments().pointer(address(a)).pointer(address(b)).pointer(address(out)).int64(a.count))
            return out
        }
        guard let shape = Shape.broadcast(a.shape, b.shape) else {
            preconditionFailure("shapes \(a.shape) and \(b.shape) cannot be broadcast together")
        }
        let out = Tensor(uninitialized: shape, device: a.device)
        guard shape.rank <= 8 else { return unsupported("\(name) of rank \(shape.rank) (at most 8 on a GPU)", shape: shape, device: a.device) }
        let index = CUDAKernelArguments.stridedIndex(shape: shape.dims, a: a.shape.broadcastStrides(to: shape),
                                                     b: b.shape.broadcastStrides(to: shape))
        launch(a.device, "\(name)_broadcast_f32", elements: shape.count, CUDAKernelArguments()
            .pointer(address(a)).pointer(address(b)).pointer(address(out)).int64(shape.count).int64Struct(index))
        return out
    }

    /// `a · s`.
    static func scale(_ a: Tensor, _ s: Float) -> Tensor { unary("scale", a, [s]) }

    /// `a + s`.
    static func addScalar(_ a: Tensor, _ s: Float) -> Tensor { unary("add_scalar", a, [s]) }

    /// `NAME_f32(a, out, n, parameters…)` of `unit`: scale and add_scalar (one parameter each), or
    /// a unary op's forward (`CUDAKernels.pointwise`).
    static func unary(_ name: String, _ a: Tensor, _ parameters: [Float] = [], in unit: CUDAKernelSource? = nil) -> Tensor {
        let out = Tensor(uninitialized: a.shape, device: a.device)
        let args = CUDAKernelArguments().pointer(address(a)).pointer(address(out)).int64(a.count)
        for p in parameters { args.float(p) }
        launch(a.device, "\(name)_f32", in: unit, elements: a.count, args)
        return out
    }

    /// `op` over `a`, by its generated kernel.
    static func unary(_ op: UnaryOp, _ a: Tensor) -> Tensor { unary(op.name, a, op.parameters, in: CUDAKernels.pointwise(op)) }

    /// `NAME_backward_f32(g, saved, out, n, parameters…)`: `op`'s input gradient from the saved
    /// input or output (`op.saves`).
    static func unaryBackward(_ op: UnaryOp, _ g: Tensor, _ saved: Tensor) -> Tensor {
        checkSameDevice(op.name, [g, saved])
        let out = Tensor(uninitialized: g.shape, device: g.device)
        let args = CUDAKernelArguments().pointer(address(g)).pointer(address(saved)).pointer(address(out)).int64(g.count)
        for p in op.parameters { args.float(p) }
        launch(g.device, "\(op.name)_backward_f32", in: CUDAKernels.pointwise(op), elements: g.count, args)
        return out
    }

    /// `y += x` in place.
    static func accumulate(_ y: Tensor, _ x: Tensor) {
        checkSameDevice("accumulate", [y, x])
        launch(y.device, "accumulate_f32", elements: y.count,
               CUDAKernelArguments().pointer(address(y)).pointer(address(x)).int64(y.count))
    }

    /// Sums `g` (a broadcast result) down to `shape`: one `sum_axis` pass per broadcast axis, each
    /// adding rows in order, as the CPU's column sums.
    static func sumToShape(_ g: Tensor, _ shape: Shape) -> Tensor {
        if g.shape == shape { return g }
        let rank = g.rank
        precondition(shape.rank <= rank, "sumToShape: \(shape) has more axes than \(g.shape)")
        let target = [Int](repeating: 1, count: rank - shape.rank) + shape.dims
        var current = g
        var dims = g.shape.dims
        for axis in 0..<rank where target[axis] == 1 && dims[axis] != 1 {
            let outer = dims[..<axis].reduce(1, *), reduced = dims[axis], inner = dims[(axis + 1)...].reduce(1, *)
            dims[axis] = 1
            let out = Tensor(uninitialized: Shape(dims), device: g.device)
            launch(g.device, "sum_axis_f32", elements: outer * inner, CUDAKernelArguments()
                .pointer(address(current)).pointer(address(out)).int64(outer).int64(reduced).int64(inner))
            current = out
        }
        return Tensor(sharing: current.storage, shape: shape, dtype: .float32)
    }

    /// The sum of every element, as a rank-0 tensor (one block's fixed tree).
    static func sumAll(_ a: Tensor) -> Tensor {
        let out = Tensor(uninitialized: [], device: a.device)
        guard a.count > 0 else { fill(out, pattern: 0); return out }
        launch(a.device, "sum_rows_f32", rows: 1,
               CUDAKernelArguments().pointer(address(a)).pointer(address(out)).int64(1).int64(a.count))
        return out
    }
}

extension CUDAOps {
    /// `t` broadcast to `shape` (NumPy rules), materialised by one strided copy.
    static func broadcast(_ t: Tensor, to shape: Shape) -> Tensor {
        if t.shape == shape { return t }
        let out = Tensor(uninitialized: shape, device: t.device)
        stridedCopy(shape: shape.dims, src: t, srcStrides: t.shape.broadcastStrides(to: shape), dst: out, dstStrides: shape.strides)
        return out
    }
}
