extension Tensor {
    /// The same elements viewed with shape `dims` (one entry may be -1, inferred). Shares storage,
    /// like PyTorch's `view`.
    public func reshaped(_ dims: [Int]) -> Tensor {
        let inferred = dims.indices.filter { dims[$0] == -1 }
        precondition(inferred.count <= 1, "reshape: at most one -1 allowed in \(dims)")
        precondition(dims.allSatisfy { $0 >= -1 }, "reshape: invalid dimension in \(dims)")
        var resolved = dims
        if let i = inferred.first {
            let known = dims.enumerated().reduce(1) { $1.offset == i ? $0 : $0 * $1.element }
            precondition(known > 0 && count % known == 0, "reshape: cannot view \(shape) as \(dims)")
            resolved[i] = count / known
        }
        let newShape = Shape(resolved)
        precondition(newShape.count == count, "reshape: cannot view \(shape) (\(count) elements) as \(dims)")
        let old = shape
        let view = Tensor(sharing: storage, shape: newShape, dtype: dtype)
        guard dtype == .float32 else { return view }
        return view.recorded("reshape", inputs: [self]) { g in
            [Tensor(sharing: g.storage, shape: old, dtype: .float32)]
        }
    }

    /// Collapses the axes from `axis` on into one (PyTorch's `flatten(start_dim=axis)`).
    public func flattened(from axis: Int = 1) -> Tensor {
        if rank == 0 { return reshaped([1]) }
        let a = shape.axis(axis)
        return reshaped(Array(shape.dims[..<a]) + [shape.dims[a...].reduce(1, *)])
    }

    /// The transpose of a matrix.
    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed() needs a 2-D tensor, got \(shape)")
        return Kernels.permute(self, [1, 0]).recorded("transpose", inputs: [self]) { g in [Kernels.permute(g, [1, 0])] }
    }

    /// The axes reordered: result axis i is axis `axes[i]` of `self` (negative axes allowed).
    public func permuted(_ axes: [Int]) -> Tensor {
        let resolved = axes.map { shape.axis($0) }
        var inverse = [Int](repeating: 0, count: resolved.count)
        for (i, a) in resolved.enumerated() where a < inverse.count { inverse[a] = i }
        return Kernels.permute(self, resolved).recorded("permute", inputs: [self]) { g in [Kernels.permute(g, inverse)] }
    }

    /// The elements in reverse order along `axis` (PyTorch's `torch.flip(x, [axis])`): a strided
    /// copy reading that axis backwards. The gradient is flipped back.
    public func flipped(axis: Int) -> Tensor {
        let a = shape.axis(axis)
        let dims = shape.dims, strides = shape.strides
        var backwards = strides
        backwards[a] = -strides[a]
        let offset = Swift.max(0, dims[a] - 1) * strides[a]
        func flip(_ x: Tensor) -> Tensor {
            let out = Tensor(uninitialized: x.shape, device: x.device)
            x.backend.stridedCopy(shape: dims, src: x, srcOffset: offset, srcStrides: backwards, dst: out, dstOffset: 0, dstStrides: strides)
            return out
        }
        return flip(self).recorded("flip", inputs: [self]) { g in [flip(g)] }
    }

    /// Pads every axis with `pads[d].before` and `pads[d].after` elements of `value` (constant
    /// padding, one pair per dimension, outermost first).
    public func padded(_ pads: [(before: Int, after: Int)], value: Float = 0) -> Tensor {
        precondition(pads.count == rank, "padded: \(pads.count) pad pairs for a \(rank)-D tensor of shape \(shape)")
        precondition(pads.allSatisfy { $0.before >= 0 && $0.after >= 0 }, "padded: negative padding \(pads)")
        let inShape = shape
        let outShape = Shape((0..<rank).map { shape[$0] + pads[$0].before + pads[$0].after })
        let outStrides = outShape.strides
        let offset = (0..<rank).reduce(0) { $0 + pads[$1].before * outStrides[$1] }
        let out = Tensor.full(outShape, value, device: device)
        backend.stridedCopy(shape: inShape.dims, src: self, srcOffset: 0, srcStrides: inShape.strides, dst: out, dstOffset: offset, dstStrides: outStrides)
        return out.recorded("pad", inputs: [self]) { g in
            let gin = Tensor(uninitialized: inShape, device: g.device)
            g.backend.stridedCopy(shape: inShape.dims, src: g, srcOffset: offset, srcStrides: outStrides, dst: gin, dstOffset: 0, dstStrides: inShape.strides)
            return [gin]
        }
    }

    /// Joins `tensors` along `axis`; all other dimensions must match.
    public static func concat(_ tensors: [Tensor], axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concat needs at least one tensor")
        let first = tensors[0].shape
        let ax = first.axis(axis)
        for t in tensors {
            precondition(t.rank == first.rank && (0..<first.rank).allSatisfy { $0 == ax || t.shape[$0] == first[$0] },
                         "concat along axis \(axis): shapes \(tensors.map { $0.shape }) differ off that axis")
        }
        var outDims = first.dims
        outDims[ax] = tensors.reduce(0) { $0 + $1.shape[ax] }
        let outShape = Shape(outDims)
        let outStrides = outShape.strides
        let device = tensors[0].device, backend = tensors[0].backend
        let out = Tensor(uninitialized: outShape, device: device)
        var offsets: [Int] = []
        var start = 0
        for t in tensors {
            offsets.append(start * outStrides[ax])
            backend.stridedCopy(shape: t.shape.dims, src: t, srcOffset: 0, srcStrides: t.shape.strides, dst: out, dstOffset: offsets.last!, dstStrides: outStrides)
            start += t.shape[ax]
        }
        return out.recorded("concat", inputs: tensors) { g in
            zip(tensors, offsets).map { t, offset -> Tensor? in
                guard t.requiresGrad else { return nil }
                let gt = Tensor(uninitialized: t.shape, device: device)
                g.backend.stridedCopy(shape: t.shape.dims, src: g, srcOffset: offset, srcStrides: outStrides, dst: gt, dstOffset: 0, dstStrides: t.shape.strides)
                return gt
            }
        }
    }
}
