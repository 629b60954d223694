extension Kernels {
    /// Copies the elements of an n-d region, read with `srcStrides` from `src` and written with
    /// `dstStrides` to `dst` (strides in elements; a 0 source stride broadcasts). This one kernel
    /// implements permute, broadcast, pad, slice and concat. Adjacent dims that are contiguous in
    /// both layouts are merged first, so most calls become a few long contiguous row copies.
    public static func stridedCopy(
        shape: [Int], src: UnsafePointer<Float>, srcStrides: [Int], dst: UnsafeMutablePointer<Float>, dstStrides: [Int]
    ) {
        precondition(shape.count == srcStrides.count && shape.count == dstStrides.count, "stridedCopy: rank mismatch")
        if shape.contains(0) { return }
        // Coalesce: drop size-1 dims, merge dim pairs that are contiguous in both layouts.
        var dims: [Int] = [], ss: [Int] = [], ds: [Int] = []
        for d in 0..<shape.count where shape[d] != 1 {
            if let last = dims.last, ss[ss.count - 1] == srcStrides[d] * shape[d], ds[ds.count - 1] == dstStrides[d] * shape[d] {
                dims[dims.count - 1] = last * shape[d]
                ss[ss.count - 1] = srcStrides[d]
                ds[ds.count - 1] = dstStrides[d]
            } else {
                dims.append(shape[d]); ss.append(srcStrides[d]); ds.append(dstStrides[d])
            }
        }
        if dims.isEmpty { dst[0] = src[0]; return }
        let inner = dims.removeLast(), sIn = ss.removeLast(), dIn = ds.removeLast()
        let rows = dims.reduce(1, *)
        let outerDims = dims, outerSS = ss, outerDS = ds
        Parallel.forEachChunk(rows, minChunk: Swift.max(1, elementwiseMinChunk / inner)) { _, range in
            for row in range {
                var rest = row, so = 0, dOff = 0
                var d = outerDims.count - 1
                while d >= 0 {
                    let i = rest % outerDims[d]
                    rest /= outerDims[d]
                    so += i * outerSS[d]
                    dOff += i * outerDS[d]
                    d -= 1
                }
                let s = src + so, t = dst + dOff
                if sIn == 1 && dIn == 1 {
                    t.update(from: s, count: inner)
                } else if sIn == 0 && dIn == 1 {
                    t.update(repeating: s[0], count: inner)
                } else {
                    for j in 0..<inner { t[j * dIn] = s[j * sIn] }
                }
            }
        }
    }

    /// `a` broadcast (NumPy rules) to `shape`, as a fresh contiguous tensor.
    public static func broadcast(_ a: Tensor, to shape: Shape) -> Tensor {
        if a.shape == shape { return a }
        precondition(Shape.broadcast(a.shape, shape) == shape, "cannot broadcast \(a.shape) to \(shape)")
        return a.backend.broadcast(a, to: shape)
    }

    /// `a` with its axes reordered: result axis i is input axis `axes[i]`.
    public static func permute(_ a: Tensor, _ axes: [Int]) -> Tensor {
        precondition(axes.count == a.rank && Set(axes) == Set(0..<a.rank), "permute: \(axes) is not a permutation of the axes of \(a.shape)")
        return a.backend.permute(a, axes)
    }

    /// The transpose of a host matrix, in cache-friendly tiles (`permute(a, [1, 0])` on the CPU).
    static func transpose2D(_ a: Tensor) -> Tensor {
        precondition(a.rank == 2, "transpose2D needs a matrix, got \(a.shape)")
        let rows = a.shape[0], cols = a.shape[1]
        let out = Tensor(uninitialized: [cols, rows])
        let src = a.data, dst = out.data
        let tile = 32
        let rowTiles = (rows + tile - 1) / tile
        Parallel.forEachChunk(rowTiles, minChunk: Swift.max(1, elementwiseMinChunk / Swift.max(1, tile * cols))) { _, range in
            for rt in range {
                let r0 = rt * tile, r1 = Swift.min(rows, r0 + tile)
                var c0 = 0
                while c0 < cols {
                    let c1 = Swift.min(cols, c0 + tile)
                    for r in r0..<r1 {
                        for c in c0..<c1 { dst[c * rows + r] = src[r * cols + c] }
                    }
                    c0 = c1
                }
            }
        }
        return out
    }
}
