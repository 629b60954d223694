/// Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional
/// Neural Networks", 2016) for 3x3, stride-1 convolutions: a 2x2 tile of output costs 16
/// multiplies per input-output channel pair instead of 36, so the convolution's GEMMs do 2.25x
/// fewer FLOPs (less on odd sizes, whose last tiles are partly outside the output).
///
/// With Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A per 4x4 input patch d and 3x3 kernel g, the sum over input
/// channels becomes, for each of the 16 positions ξ of the 4x4 transformed tile, one product
/// M[ξ] (O × T) = U[ξ] (O × C) · V[ξ] (C × T) over a block of T tiles. The rounding differs from
/// im2col + GEMM (the transforms add and halve); the results agree to ~1e-6 relative (tested).
extension Kernels {
    /// Tiles per block: V and M of a 256-channel block are 1 MiB each.
    static let winogradTileBlock = 64

    /// Whether a convolution runs as F(2x2, 3x3): 3x3, stride 1, no dilation or groups, padding at
    /// most 2 (so the input gradient, a convolution padded by 2 − padding, runs so too), and at
    /// least 32 channels in and out (with fewer, the transforms cost more than the GEMM saves).
    public static func usesWinograd(_ g: Conv2dGeometry) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideY == 1 && g.strideX == 1 && g.dilationY == 1 && g.dilationX == 1
            && g.groups == 1 && g.padY <= 2 && g.padX <= 2 && g.inChannels >= 32 && g.outChannels >= 32
    }

    /// U[ξ][O][C] = G g Gᵀ for every kernel g of `weight` [O, C, 3, 3]; with `forInputGradient`,
    /// the kernels of the input gradient's convolution instead: [C, O, 3, 3], each rotated 180°.
    static func winogradKernels(_ weight: UnsafePointer<Float>, outChannels o: Int, inChannels c: Int,
                                forInputGradient: Bool, into u: UnsafeMutablePointer<Float>) {
        let (rows, cols) = forInputGradient ? (c, o) : (o, c)
        let plane = rows * cols
        for r in 0..<rows {
            for s in 0..<cols {
                // Kernel element (i, j); for the input gradient weight[s = o][r = c], rotated.
                let src = forInputGradient ? weight + (s * c + r) * 9 : weight + (r * c + s) * 9
                @inline(__always) func k(_ i: Int, _ j: Int) -> Float { forInputGradient ? src[8 - 3 * i - j] : src[3 * i + j] }
                // Row i of t = G k (4x3); U = t Gᵀ (4x4) row by row.
                @inline(__always) func t(_ i: Int, _ j: Int) -> Float {
                    switch i {
                    case 0: return k(0, j)
                    case 1: return 0.5 * (k(0, j) + k(1, j) + k(2, j))
                    case 2: return 0.5 * (k(0, j) - k(1, j) + k(2, j))
                    default: return k(2, j)
                    }
                }
                let d = u + r * cols + s
                for i in 0..<4 {
                    let t0 = t(i, 0), t1 = t(i, 1), t2 = t(i, 2)
                    d[(i * 4) * plane] = t0
                    d[(i * 4 + 1) * plane] = 0.5 * (t0 + t1 + t2)
                    d[(i * 4 + 2) * plane] = 0.5 * (t0 - t1 + t2)
                    d[(i * 4 + 3) * plane] = t2
                }
            }
        }
    }

    /// y [N, O, oh, ow] = the 3x3 convolution of x [N, C, h, w] padded by (padY, padX), whose
    /// kernels `winogradKernels` transformed into `u`, plus `bias`. Blocks of `winogradTileBlock`
    /// tiles run in parallel; each is the same computation on any thread, so the bits do not
    /// depend on the thread count.
    static func winogradConvolution(_ x: UnsafePointer<Float>, batch n: Int, channels c: Int, height h: Int, width w: Int,
                                    padY: Int, padX: Int, kernels u: UnsafePointer<Float>, outChannels o: Int,
                                    bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>) {
        let oh = h + 2 * padY - 2, ow = w + 2 * padX - 2
        let th = (oh + 1) / 2, tw = (ow + 1) / 2, perImage = th * tw, total = n * perImage
        guard total > 0 else { return }
        let tb = winogradTileBlock, blocks = (total + tb - 1) / tb
        // The 16 matrices of V and of M lie a cache line more than a multiple of 4 KiB apart: the
        // transforms touch all 16 at once, which at 4 KiB multiples share one set of the caches.
        let vPlane = c * tb + 16, mPlane = o * tb + 16
        let vFloats = Scratch.stride(16 * vPlane), mFloats = Scratch.stride(16 * mPlane)
        // The padded plane covers every tile's patch: 2·th + 2 rows of 2·tw + 2.
        let padFloats = (2 * th + 2) * (2 * tw + 2)
        let slotStride = vFloats + mFloats + Scratch.stride(padFloats)
        Scratch.withFloats(slotStride * Parallel.slotCount(tasks: blocks)) { scratch in
            Parallel.forEachTask(blocks) { block, slot in
                let v = scratch + slot * slotStride, m = v + vFloats
                let first = block * tb, count = min(tb, total - first)
                // Each tile's image and the top-left corner of its input patch and output tile.
                var image = [Int](repeating: 0, count: count), oy = image, ox = image
                for t in 0..<count {
                    let tile = first + t, within = tile % perImage
                    (image[t], oy[t], ox[t]) = (tile / perImage, 2 * (within / tw), 2 * (within % tw))
                }
                // V[ξ][c][t] = Bᵀ d B for each channel and tile, from each image's plane copied
                // with its padding (so no patch reads outside it), one run of tiles per image.
                let pw = 2 * tw + 2, padded = m + mFloats
                var run = 0
                while run < count {
                    var end = run + 1
                    while end < count && image[end] == image[run] { end += 1 }
                    for ch in 0..<c {
                        let src = x + (image[run] * c + ch) * h * w
                        padded.update(repeating: 0, count: padFloats)
                        for r in 0..<h { (padded + (r + padY) * pw + padX).update(from: src + r * w, count: w) }
                        for t in run..<end {
                            let r0 = UnsafePointer(padded + oy[t] * pw + ox[t]), r1 = r0 + pw, r2 = r1 + pw, r3 = r2 + pw
                            // Bᵀ d (rows), then (Bᵀ d) B (columns).
                            let a0 = (r0[0] - r2[0], r0[1] - r2[1], r0[2] - r2[2], r0[3] - r2[3])
                            let a1 = (r1[0] + r2[0], r1[1] + r2[1], r1[2] + r2[2], r1[3] + r2[3])
                            let a2 = (r2[0] - r1[0], r2[1] - r1[1], r2[2] - r1[2], r2[3] - r1[3])
                            let a3 = (r1[0] - r3[0], r1[1] - r3[1], r1[2] - r3[2], r1[3] - r3[3])
                            let dst = v + ch * tb + t
                            @inline(__always) func put(_ r: Int, _ a: (Float, Float, Float, Float)) {
                                dst[(r * 4) * vPlane] = a.0 - a.2
                                dst[(r * 4 + 1) * vPlane] = a.1 + a.2
                                dst[(r * 4 + 2) * vPlane] = a.2 - a.1
                                dst[(r * 4 + 3) * vPlane] = a.1 - a.3
                            }
                            put(0, a0); put(1, a1); put(2, a2); put(3, a3)
                        }
                    }
                    run = end
                }
                for xi in 0..<16 {
                    gemm(transA: false, transB: false, m: o, n: count, k: c, a: u + xi * o * c, lda: c,
                         b: v + xi * vPlane, ldb: tb, beta: 0, c: m + xi * mPlane, ldc: tb)
                }
                // Y = Aᵀ M A per output channel and tile, the parts inside the output.
                for ch in 0..<o {
                    let b = bias?[ch] ?? 0
                    for t in 0..<count {
                        let src = m + ch * tb + t
                        @inline(__always) func at(_ xi: Int) -> Float { src[xi * mPlane] }
                        // Aᵀ M: two rows of four.
                        let s0 = at(0) + at(4) + at(8), s1 = at(1) + at(5) + at(9), s2 = at(2) + at(6) + at(10), s3 = at(3) + at(7) + at(11)
                        let q0 = at(4) - at(8) - at(12), q1 = at(5) - at(9) - at(13), q2 = at(6) - at(10) - at(14), q3 = at(7) - at(11) - at(15)
                        let ty = oy[t], tx = ox[t]
                        let dst = y + ((image[t] * o + ch) * oh + ty) * ow + tx
                        dst[0] = s0 + s1 + s2 + b
                        if tx + 1 < ow { dst[1] = s1 - s2 - s3 + b }
                        if ty + 1 < oh {
                            dst[ow] = q0 + q1 + q2 + b
                            if tx + 1 < ow { dst[ow + 1] = q1 - q2 - q3 + b }
                        }
                    }
                }
            }
        }
    }
}

extension Kernels {
    /// `conv2d` as F(2x2, 3x3) (`usesWinograd(g)`). It keeps no columns: the weight gradient
    /// unfolds the input again, a block at a time.
    static func winogradConv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: Conv2dGeometry) -> Tensor {
        precondition(x.shape == g.inputShape && weight.shape == g.weightShape, "conv2d: tensors do not match \(g)")
        precondition(bias == nil || bias!.shape == [g.outChannels], "conv2d: bias must be [\(g.outChannels)]")
        let out = Tensor(uninitialized: g.outputShape)
        guard g.batch > 0, g.outputShape.count > 0 else { return out }
        let kernels = Tensor(uninitialized: [16, g.outChannels, g.inChannels])
        winogradKernels(weight.data, outChannels: g.outChannels, inChannels: g.inChannels, forInputGradient: false, into: kernels.data)
        winogradConvolution(x.data, batch: g.batch, channels: g.inChannels, height: g.height, width: g.width, padY: g.padY, padX: g.padX,
                            kernels: kernels.data, outChannels: g.outChannels, bias: bias.map { UnsafePointer($0.data) }, into: out.data)
        return out
    }

    /// The input gradient of a `usesWinograd` convolution: the output gradient convolved, padded
    /// by 2 − padding, with each kernel rotated 180° and input and output channels swapped.
    static func winogradInputGradient(_ grad: Tensor, weight: Tensor, geometry g: Conv2dGeometry) -> Tensor {
        let dx = Tensor(uninitialized: g.inputShape)
        guard g.batch > 0, g.inputShape.count > 0 else { return dx }
        let kernels = Tensor(uninitialized: [16, g.inChannels, g.outChannels])
        winogradKernels(weight.data, outChannels: g.outChannels, inChannels: g.inChannels, forInputGradient: true, into: kernels.data)
        winogradConvolution(grad.data, batch: g.batch, channels: g.outChannels, height: g.outHeight, width: g.outWidth,
                            padY: 2 - g.padY, padX: 2 - g.padX, kernels: kernels.data, outChannels: g.inChannels, bias: nil, into: dx.data)
        return dx
    }
}
