extension Kernels {
    /// Sum of `n` contiguous floats with eight fixed-order partial sums: vectorised, deterministic,
    /// and more accurate than one running sum.
    @inline(__always)
    public static func sumContiguous(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>(repeating: 0)
        var i = 0
        let raw = UnsafeRawPointer(p)
        while i + 8 <= n {
            acc += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        var s = acc.sum()
        while i < n { s += p[i]; i += 1 }
        return s
    }

    /// Views `shape` as [outer, reduced, inner] around the axes `first...last`.
    @inline(__always)
    static func split(_ shape: Shape, _ first: Int, _ last: Int) -> (outer: Int, reduced: Int, inner: Int) {
        let d = shape.dims
        return (d[..<first].reduce(1, *), d[first...last].reduce(1, *), d[(last + 1)...].reduce(1, *))
    }

    /// dst[o, i] = Σ_r src[o, r, i] for a [outer, reduced, inner] layout. Every output is summed
    /// in the same order whatever the thread count.
    public static func sumAxis(
        _ src: UnsafePointer<Float>, outer: Int, reduced: Int, inner: Int, into dst: UnsafeMutablePointer<Float>
    ) {
        let block = reduced * inner
        if reduced == 0 { dst.update(repeating: 0, count: outer * inner); return }
        if inner == 1 {
            Parallel.forEachChunk(outer, minChunk: Swift.max(1, elementwiseMinChunk / Swift.max(1, reduced))) { _, range in
                for o in range { dst[o] = sumContiguous(src + o * reduced, reduced) }
            }
            return
        }
        // Column sums: add whole rows so the inner loop vectorises.
        func columns(_ o: Int, _ cols: Range<Int>) {
            let s = src + o * block, t = dst + o * inner
            for i in cols { t[i] = s[i] }
            for r in 1..<Swift.max(1, reduced) {
                let row = s + r * inner
                for i in cols { t[i] += row[i] }
            }
        }
        if outer == 1 {
            Parallel.forEachChunk(inner, minChunk: Swift.max(64, elementwiseMinChunk / Swift.max(1, reduced))) { _, range in
                columns(0, range)
            }
        } else {
            Parallel.forEachChunk(outer, minChunk: Swift.max(1, elementwiseMinChunk / Swift.max(1, block))) { _, range in
                for o in range { columns(o, 0..<inner) }
            }
        }
    }

    /// Resolves and sorts reduction axes, rejecting duplicates.
    public static func reductionAxes(_ axes: [Int], of shape: Shape) -> [Int] {
        let resolved = axes.map { shape.axis($0) }.sorted()
        precondition(Set(resolved).count == resolved.count, "duplicate reduction axes \(axes) for shape \(shape)")
        return resolved
    }

    /// The shape of reducing `axes` of `shape` (sorted, resolved), with or without the size-1 dims.
    public static func reducedShape(_ shape: Shape, axes: [Int], keepDims: Bool) -> Shape {
        var dims: [Int] = []
        for d in 0..<shape.rank {
            if axes.contains(d) { if keepDims { dims.append(1) } } else { dims.append(shape[d]) }
        }
        return Shape(dims)
    }

    /// Sum over `axes` (resolved, sorted), keeping them as size-1 dims. Runs of adjacent axes are
    /// reduced in one pass each.
    public static func sum(_ a: Tensor, axes: [Int]) -> Tensor {
        var current = a
        var dims = a.shape.dims
        var k = 0
        while k < axes.count {
            let first = axes[k]
            var last = first
            while k + 1 < axes.count && axes[k + 1] == last + 1 { k += 1; last += 1 }
            let (outer, reduced, inner) = split(Shape(dims), first, last)
            for d in first...last { dims[d] = 1 }
            let out = Tensor(uninitialized: Shape(dims))
            sumAxis(current.data, outer: outer, reduced: reduced, inner: inner, into: out.data)
            current = out
            k += 1
        }
        return current === a ? a.copy() : current
    }

    /// Maximum and its first index along `axis`, both shaped like `a` with that axis of size 1.
    /// NaN propagates (a NaN is the maximum), as in PyTorch.
    public static func maxAlongAxis(_ a: Tensor, axis: Int) -> (values: Tensor, indices: Tensor) {
        let ax = a.shape.axis(axis)
        let (outer, reduced, inner) = split(a.shape, ax, ax)
        precondition(reduced > 0, "max over an empty axis \(axis) of shape \(a.shape)")
        var dims = a.shape.dims
        dims[ax] = 1
        let values = Tensor(uninitialized: Shape(dims)), indices = Tensor(uninitialized: Shape(dims), dtype: .int32)
        let src = a.data, pv = values.data, pi = indices.int32Data
        Parallel.forEachChunk(outer, minChunk: Swift.max(1, elementwiseMinChunk / Swift.max(1, reduced * inner))) { _, range in
            for o in range {
                let s = src + o * reduced * inner, v = pv + o * inner, ix = pi + o * inner
                for i in 0..<inner { v[i] = s[i]; ix[i] = 0 }
                for r in 1..<Swift.max(1, reduced) {
                    let row = s + r * inner
                    for i in 0..<inner where row[i] > v[i] || (row[i].isNaN && !v[i].isNaN) {
                        v[i] = row[i]
                        ix[i] = Int32(r)
                    }
                }
            }
        }
        return (values, indices)
    }
}
