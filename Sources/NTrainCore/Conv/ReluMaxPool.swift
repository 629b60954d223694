extension Kernels {
    /// `maxPool2d(relu(x))` in one pass over each plane (a ReLU followed by a max pool anywhere,
    /// e.g. after BatchNorm): the ReLU output never exists. The same values and gradients as
    /// the two ops, bit for bit (ReLU maps NaN to 0 before the pool sees it).
    public static func reluMaxPool2d(_ x: Tensor, geometry g: Pool2dGeometry) -> (output: Tensor, indices: Tensor) {
        precondition(x.shape == g.inputShape, "reluMaxPool2d: input \(x.shape) does not match \(g)")
        let out = Tensor(uninitialized: g.outputShape)
        let indices = Tensor(uninitialized: g.outputShape, dtype: .int32)
        let planes = g.batch * g.channels, planeIn = g.height * g.width, planeOut = g.outHeight * g.outWidth
        guard out.count > 0 else { return (out, indices) }
        let pairs = g.isTwoByTwo
        let chunks = Parallel.chunkCount(planes, minChunk: planesPerChunk(planeIn))
        let scratchFloats = pairs ? 0 : Scratch.stride(planeIn)
        let src = x.data, dst = out.data, idx = indices.int32Data
        Scratch.withFloats(scratchFloats * chunks) { scratch in
            Parallel.forEachChunk(planes, minChunk: planesPerChunk(planeIn)) { chunk, range in
                let relu = scratch + chunk * scratchFloats
                for plane in range {
                    let xp = src + plane * planeIn, op = dst + plane * planeOut, ip = idx + plane * planeOut
                    if pairs {
                        biasReluMaxPool2x2(xp, bias: 0, rowStride: g.width, outHeight: g.outHeight, outWidth: g.outWidth,
                                           into: op, indices: ip)
                    } else {
                        for j in 0..<planeIn { let v = xp[j]; relu[j] = v > 0 ? v : 0 }
                        maxPoolPlane(relu, g, into: op, indices: ip)
                    }
                }
            }
        }
        return (out, indices)
    }

    /// Gradient of `reluMaxPool2d`: each output gradient goes to its window's argmax where the
    /// pooled value is positive (ReLU's gradient there is 1), zero elsewhere.
    public static func reluMaxPool2dBackward(_ grad: Tensor, output: Tensor, indices: Tensor, geometry g: Pool2dGeometry) -> Tensor {
        precondition(grad.shape == g.outputShape && output.shape == g.outputShape && indices.shape == g.outputShape,
                     "reluMaxPool2d backward: shape mismatch")
        // Each plane is zeroed by the thread that scatters into it, while it is in cache.
        let dx = Tensor(uninitialized: g.inputShape)
        let planes = g.batch * g.channels, planeIn = g.height * g.width, planeOut = g.outHeight * g.outWidth
        let pg = grad.data, py = output.data, pi = indices.int32Data, pd = dx.data
        guard planeOut > 0 else { dx.zero(); return dx }
        // 2×2 windows tiling the plane exactly, 8 or more to a row: every input pixel is written
        // once, from its window, in SIMD lanes (no zero fill, no scatter).
        let dense = g.isTwoByTwo && g.height == 2 * g.outHeight && g.width == 2 * g.outWidth && g.outWidth >= 8
        Parallel.forEachChunk(planes, minChunk: planesPerChunk(planeIn)) { _, range in
            for plane in range {
                let d = pd + plane * planeIn, k = plane * planeOut
                let gp = pg + k, yp = py + k, ip = pi + k
                if dense {
                    reluMaxPool2x2BackwardPlane(gp, yp, ip, rowStride: g.width, outHeight: g.outHeight, outWidth: g.outWidth, into: d)
                    continue
                }
                d.update(repeating: 0, count: planeIn)
                for j in 0..<planeOut { d[Int(ip[j])] += yp[j] > 0 ? gp[j] : 0 }
            }
        }
        return dx
    }

    /// One plane of the ReLU → max-pool gradient for 2×2 windows that tile its 2·oh rows and
    /// first 2·ow columns exactly (8 or more windows to a row; rows `rowStride` floats apart,
    /// extra columns set to 0): each window's four pixels get its gradient at the argmax and +0
    /// elsewhere, eight windows at a time (a row's last group overlaps the one before when the row
    /// is not a multiple of 8). The same bits as zero fill and scatter: the gradient is written as
    /// 0 + g (−0 becomes +0).
    @inline(__always)
    static func reluMaxPool2x2BackwardPlane(
        _ gp: UnsafePointer<Float>, _ yp: UnsafePointer<Float>, _ ip: UnsafePointer<Int32>,
        rowStride w: Int, outHeight oh: Int, outWidth ow: Int, into d: UnsafeMutablePointer<Float>
    ) {
        let lanes = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14), down = Int32(w)
        for oy in 0..<oh {
            let row = oy * ow, base = Int32(2 * oy * w)
            let top = d + 2 * oy * w, bottom = top + w
            for j in (2 * ow)..<w { top[j] = 0; bottom[j] = 0 }  // a few floats: no memset call
            var ox = 0
            while true {
                let g = UnsafeRawPointer(gp + row + ox).loadUnaligned(as: SIMD8<Float>.self)
                let y = UnsafeRawPointer(yp + row + ox).loadUnaligned(as: SIMD8<Float>.self)
                let at = UnsafeRawPointer(ip + row + ox).loadUnaligned(as: SIMD8<Int32>.self)
                let v = g.replacing(with: 0, where: .!(y .> 0)) + 0
                let col = lanes &+ (base + Int32(2 * ox))
                let zero = SIMD8<Float>()
                var upper = SIMD16<Float>(), lower = SIMD16<Float>()
                upper.evenHalf = zero.replacing(with: v, where: at .== col)
                upper.oddHalf = zero.replacing(with: v, where: at .== col &+ 1)
                lower.evenHalf = zero.replacing(with: v, where: at .== col &+ down)
                lower.oddHalf = zero.replacing(with: v, where: at .== col &+ (down + 1))
                UnsafeMutableRawPointer(top + 2 * ox).storeBytes(of: upper, as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(bottom + 2 * ox).storeBytes(of: lower, as: SIMD16<Float>.self)
                if ox + 8 == ow { break }
                ox = Swift.min(ox + 8, ow - 8)
            }
        }
    }
}

extension Tensor {
    /// `relu().maxPool2d(...)` as one op (see `Kernels.reluMaxPool2d`).
    public func reluMaxPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) -> Tensor {
        let g = validGeometry { try Pool2dGeometry(op: "maxPool2d", input: shape, kernel: kernel, stride: stride, padding: padding) }
        return recording("relu_max_pool2d", inputs: [self], backend.reluMaxPool2d(self, geometry: g))
    }
}
