extension Kernels {
    /// Planes per parallel chunk so each chunk has a few thousand elements of work.
    @inline(__always)
    static func planesPerChunk(_ planeSize: Int) -> Int { max(1, 4096 / max(1, planeSize)) }

    /// Max pooling over each [H, W] plane, parallel over the N·C planes. Padding acts as −∞.
    /// Returns the output and, per output element, the flat in-plane index of its maximum
    /// (int32; the first maximum in row-major window order wins ties and NaN propagates, as in PyTorch).
    public static func maxPool2d(_ x: Tensor, geometry g: Pool2dGeometry) -> (output: Tensor, indices: Tensor) {
        precondition(x.shape == g.inputShape, "maxPool2d: input \(x.shape) does not match \(g)")
        let out = Tensor(uninitialized: g.outputShape)
        let indices = Tensor(uninitialized: g.outputShape, dtype: .int32)
        let planes = g.batch * g.channels, planeIn = g.height * g.width, planeOut = g.outHeight * g.outWidth
        let src = x.data, dst = out.data, idx = indices.int32Data
        guard out.count > 0 else { return (out, indices) }
        Parallel.forEachChunk(planes, minChunk: planesPerChunk(planeIn)) { _, range in
            for plane in range {
                maxPoolPlane(src + plane * planeIn, g, into: dst + plane * planeOut, indices: idx + plane * planeOut)
            }
        }
        return (out, indices)
    }

    /// Max pooling of one [H, W] plane, its rows `rowStride` floats apart (default W), into its
    /// [oh, ow] output and argmax indices (y·rowStride + x).
    @inline(__always)
    static func maxPoolPlane(_ xp: UnsafePointer<Float>, _ g: Pool2dGeometry, rowStride: Int? = nil,
                             into op: UnsafeMutablePointer<Float>, indices ip: UnsafeMutablePointer<Int32>) {
        let h = g.height, w = g.width, oh = g.outHeight, ow = g.outWidth, rs = rowStride ?? g.width
        let kh = g.kernelHeight, kw = g.kernelWidth, sy = g.strideY, sx = g.strideX, py = g.padY, px = g.padX
        if g.isTwoByTwo {
            maxPool2x2(xp, rowStride: rs, outHeight: oh, outWidth: ow, into: op, indices: ip)
            return
        }
        for oy in 0..<oh {
            let y0 = max(oy * sy - py, 0), y1 = min(oy * sy - py + kh, h)
            for ox in 0..<ow {
                let x0 = max(ox * sx - px, 0), x1 = min(ox * sx - px + kw, w)
                var best = -Float.infinity
                var bestIndex = y0 * rs + x0
                for y in y0..<y1 {
                    let row = xp + y * rs
                    for xx in x0..<x1 {
                        // Selects rather than branches: comparisons on data mispredict.
                        let v = row[xx]
                        let better = v > best || v.isNaN
                        best = better ? v : best
                        bestIndex = better ? y * rs + xx : bestIndex
                    }
                }
                op[oy * ow + ox] = best
                ip[oy * ow + ox] = Int32(bestIndex)
            }
        }
    }

    /// The common 2x2, stride 2, unpadded window on one plane, unrolled.
    @inline(__always)
    static func maxPool2x2(
        _ xp: UnsafePointer<Float>, rowStride w: Int, outHeight oh: Int, outWidth ow: Int,
        into op: UnsafeMutablePointer<Float>, indices ip: UnsafeMutablePointer<Int32>
    ) {
        for oy in 0..<oh {
            let r0 = xp + 2 * oy * w, r1 = r0 + w
            let base = Int32(2 * oy * w), down = Int32(w)
            for ox in 0..<ow {
                let a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1]
                let col = base + Int32(2 * ox)
                var best = a, at = col
                var better = b > best || b.isNaN
                best = better ? b : best; at = better ? col + 1 : at
                better = c > best || c.isNaN
                best = better ? c : best; at = better ? col + down : at
                better = d > best || d.isNaN
                best = better ? d : best; at = better ? col + down + 1 : at
                op[oy * ow + ox] = best
                ip[oy * ow + ox] = at
            }
        }
    }

    /// Gradient of `maxPool2d`: each output gradient goes to its recorded argmax (summed where
    /// overlapping windows share one). Parallel over planes, so no cross-thread reduction.
    public static func maxPool2dBackward(_ grad: Tensor, indices: Tensor, geometry g: Pool2dGeometry) -> Tensor {
        precondition(grad.shape == g.outputShape && indices.shape == g.outputShape, "maxPool2d backward: shape mismatch")
        // Each plane is zeroed by the thread that scatters into it, while it is in cache.
        let dx = Tensor(uninitialized: g.inputShape)
        let planes = g.batch * g.channels
        let planeIn = g.height * g.width, planeOut = g.outHeight * g.outWidth
        let pg = grad.data, pi = indices.int32Data, pd = dx.data
        guard planeOut > 0 else { dx.zero(); return dx }
        Parallel.forEachChunk(planes, minChunk: planesPerChunk(planeIn)) { _, range in
            for plane in range {
                let d = pd + plane * planeIn, gp = pg + plane * planeOut, ip = pi + plane * planeOut
                d.update(repeating: 0, count: planeIn)
                for j in 0..<planeOut { d[Int(ip[j])] += gp[j] }
            }
        }
        return dx
    }
}

extension Tensor {
    /// Max pooling of `self` [N, C, H, W] (PyTorch's `max_pool2d`): `stride` defaults to the kernel,
    /// padding (at most half the kernel) counts as −∞. The gradient flows to each window's first maximum.
    public func maxPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) -> Tensor {
        let g = validGeometry { try Pool2dGeometry(op: "maxPool2d", input: shape, kernel: kernel, stride: stride, padding: padding) }
        return recording("maxPool2d", inputs: [self], backend.maxPool2d(self, geometry: g))
    }
}
