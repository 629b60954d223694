extension Kernels {
    /// Average pooling over each [H, W] plane, parallel over the N·C planes. Padding counts as
    /// zeros in the average (PyTorch's default `count_include_pad = true`): every window divides by kh·kw.
    public static func avgPool2d(_ x: Tensor, geometry g: Pool2dGeometry) -> Tensor {
        precondition(x.shape == g.inputShape, "avgPool2d: input \(x.shape) does not match \(g)")
        let out = Tensor(uninitialized: g.outputShape)
        let planes = g.batch * g.channels, planeIn = g.height * g.width, planeOut = g.outHeight * g.outWidth
        let src = x.data, dst = out.data
        guard out.count > 0 else { return out }
        Parallel.forEachChunk(planes, minChunk: planesPerChunk(planeIn)) { _, range in
            for plane in range { avgPoolPlane(src + plane * planeIn, g, into: dst + plane * planeOut) }
        }
        return out
    }

    /// Average pooling of one [H, W] plane whose rows are `rowStride` floats apart (default W).
    @inline(__always)
    static func avgPoolPlane(_ xp: UnsafePointer<Float>, _ g: Pool2dGeometry, rowStride: Int? = nil,
                             into op: UnsafeMutablePointer<Float>) {
        let h = g.height, w = g.width, oh = g.outHeight, ow = g.outWidth, rs = rowStride ?? g.width
        let kh = g.kernelHeight, kw = g.kernelWidth, sy = g.strideY, sx = g.strideX, py = g.padY, px = g.padX
        if g.isTwoByTwo {
            // The common 2x2 / stride 2 window, unrolled.
            for oy in 0..<oh {
                let r0 = xp + 2 * oy * rs, r1 = r0 + rs, o = op + oy * ow
                for ox in 0..<ow { o[ox] = ((r0[2 * ox] + r0[2 * ox + 1]) + (r1[2 * ox] + r1[2 * ox + 1])) * 0.25 }
            }
            return
        }
        let scale = 1 / Float(kh * kw)
        for oy in 0..<oh {
            let y0 = max(oy * sy - py, 0), y1 = min(oy * sy - py + kh, h)
            for ox in 0..<ow {
                let x0 = max(ox * sx - px, 0), x1 = min(ox * sx - px + kw, w)
                var s: Float = 0
                for y in y0..<y1 {
                    let row = xp + y * rs
                    for xx in x0..<x1 { s += row[xx] }
                }
                op[oy * ow + ox] = s * scale
            }
        }
    }

    /// Gradient of `avgPool2d`: each output gradient spread evenly (÷ kh·kw) over its window's
    /// in-bounds pixels. Parallel over planes, so no cross-thread reduction.
    public static func avgPool2dBackward(_ grad: Tensor, geometry g: Pool2dGeometry) -> Tensor {
        precondition(grad.shape == g.outputShape, "avgPool2d backward: gradient \(grad.shape) ≠ output \(g.outputShape)")
        // Each plane is zeroed by the thread that spreads into it, while it is in cache.
        let dx = Tensor(uninitialized: g.inputShape)
        let planes = g.batch * g.channels, planeIn = g.height * g.width, planeOut = g.outHeight * g.outWidth
        let pg = grad.data, pd = dx.data
        guard grad.count > 0 else { dx.zero(); return dx }
        Parallel.forEachChunk(planes, minChunk: planesPerChunk(planeIn)) { _, range in
            for plane in range {
                (pd + plane * planeIn).update(repeating: 0, count: planeIn)
                avgPoolBackwardPlane(pg + plane * planeOut, g, into: pd + plane * planeIn)
            }
        }
        return dx
    }

    /// Adds one plane's average-pool input gradient into `d` (initialised; rows `rowStride` apart).
    @inline(__always)
    static func avgPoolBackwardPlane(_ gp: UnsafePointer<Float>, _ g: Pool2dGeometry, rowStride: Int? = nil,
                                     into d: UnsafeMutablePointer<Float>) {
        let h = g.height, w = g.width, oh = g.outHeight, ow = g.outWidth, rs = rowStride ?? g.width
        let kh = g.kernelHeight, kw = g.kernelWidth, sy = g.strideY, sx = g.strideX, py = g.padY, px = g.padX
        let scale = 1 / Float(kh * kw)
        if g.isTwoByTwo {
            // The common 2x2 / stride 2 window, unrolled (each pixel in at most one window).
            for oy in 0..<oh {
                let r0 = d + 2 * oy * rs, r1 = r0 + rs, gr = gp + oy * ow
                for ox in 0..<ow {
                    let v = gr[ox] * scale
                    r0[2 * ox] += v; r0[2 * ox + 1] += v
                    r1[2 * ox] += v; r1[2 * ox + 1] += v
                }
            }
            return
        }
        for oy in 0..<oh {
            let y0 = max(oy * sy - py, 0), y1 = min(oy * sy - py + kh, h)
            for ox in 0..<ow {
                let x0 = max(ox * sx - px, 0), x1 = min(ox * sx - px + kw, w)
                let v = gp[oy * ow + ox] * scale
                for y in y0..<y1 {
                    let row = d + y * rs
                    for xx in x0..<x1 { row[xx] += v }
                }
            }
        }
    }
}

extension Tensor {
    /// Average pooling of `self` [N, C, H, W] (PyTorch's `avg_pool2d` with `count_include_pad`):
    /// `stride` defaults to the kernel; padding (at most half the kernel) counts as zeros.
    public func avgPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) -> Tensor {
        let g = validGeometry { try Pool2dGeometry(op: "avgPool2d", input: shape, kernel: kernel, stride: stride, padding: padding) }
        return recording("avgPool2d", inputs: [self], backend.avgPool2d(self, geometry: g))
    }
}
