extension Kernels {
    /// `maxPool2d(relu(conv2d(x)))` in one pass over each block of images (LeNet's and the CIFAR
    /// tutorial's conv → ReLU → max-pool): the convolution of a block stays in cache-resident
    /// scratch, gets its bias and ReLU there, and only the pooled output and its argmax indices
    /// are written. The convolution's and the ReLU's full-size outputs never exist.
    ///
    /// Bit-identical to the three ops run one after another: the same blocks, GEMMs and bias
    /// order as `conv2d`, ReLU's `x > 0 ? x : 0` (NaN becomes 0), and `maxPool2d`'s window order.
    /// Unlike `conv2d` in training, it keeps no unfolded columns for the backward pass, which
    /// unfolds the input again: writing LeNet's columns (3.8 MB a batch for conv2) out to L3 and
    /// reading them back cost more than unfolding twice into L2-resident scratch (2% a step).
    public static func conv2dReluMaxPool(
        _ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: Conv2dGeometry, pool pg: Pool2dGeometry
    ) -> (output: Tensor, indices: Tensor) {
        precondition(pg.inputShape == g.outputShape, "conv2dReluMaxPool: pool input \(pg.inputShape) ≠ conv output \(g.outputShape)")
        let out = Tensor(uninitialized: pg.outputShape)
        let indices = Tensor(uninitialized: pg.outputShape, dtype: .int32)
        guard out.count > 0 else { return (out, indices) }
        let pc = g.columnPixels, rs = g.columnRowStride, pooled = pg.outHeight * pg.outWidth
        let po = out.data, pi = indices.int32Data
        let pairs = pg.isTwoByTwo
        convForwardPlanes(x, weight: weight, bias: bias, geometry: g) { plane, k, bias in
            let bo = bias ?? 0
            if pairs {
                biasReluMaxPool2x2(plane, bias: bo, rowStride: rs, outHeight: pg.outHeight, outWidth: pg.outWidth,
                                   into: po + k * pooled, indices: pi + k * pooled)
                return
            }
            for j in 0..<pc { let v = plane[j] + bo; plane[j] = v > 0 ? v : 0 }
            maxPoolPlane(plane, pg, rowStride: rs, into: po + k * pooled, indices: pi + k * pooled)
        }
        return (out, indices)
    }

    /// relu(x + bias) max-pooled over 2x2 windows with stride 2, in one pass over the plane (rows
    /// `rowStride` apart): the same values and first-maximum indices as the separate passes.
    /// ReLU leaves no NaN, so the pool's NaN rule never applies.
    @inline(__always)
    static func biasReluMaxPool2x2(
        _ xp: UnsafePointer<Float>, bias bo: Float, rowStride w: Int, outHeight oh: Int, outWidth ow: Int,
        into op: UnsafeMutablePointer<Float>, indices ip: UnsafeMutablePointer<Int32>
    ) {
        @inline(__always) func act(_ v: Float) -> Float { let t = v + bo; return t > 0 ? t : 0 }
        for oy in 0..<oh {
            let r0 = xp + 2 * oy * w, r1 = r0 + w
            let base = Int32(2 * oy * w), down = Int32(w)
            let o = op + oy * ow, i = ip + oy * ow
            for ox in 0..<ow {
                let a = act(r0[2 * ox]), b = act(r0[2 * ox + 1]), c = act(r1[2 * ox]), d = act(r1[2 * ox + 1])
                let col = base + Int32(2 * ox)
                var best = a, at = col
                if b > best { best = b; at = col + 1 }
                if c > best { best = c; at = col + down }
                if d > best { best = d; at = col + down + 1 }
                o[ox] = best
                i[ox] = at
            }
        }
    }

    /// Gradients of `conv2dReluMaxPool` from the pooled output's gradient `grad`, its `output` and
    /// `indices`. Each block's convolution-output gradient is built directly in scratch: every
    /// pooled gradient goes to its window's argmax where the pooled value is positive (ReLU's
    /// gradient there is 1), then the convolution's backward pass runs on the block.
    public static func conv2dReluMaxPoolBackward(
        _ grad: Tensor, output: Tensor, indices: Tensor, input x: Tensor, weight: Tensor,
        geometry g: Conv2dGeometry, pool pg: Pool2dGeometry,
        inputGrad: Bool, weightGrad: Bool, biasGrad: Bool
    ) -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        precondition(grad.shape == pg.outputShape && output.shape == pg.outputShape && indices.shape == pg.outputShape,
                     "conv2dReluMaxPool backward: gradient \(grad.shape) ≠ output \(pg.outputShape)")
        let p = g.columnPixels, rs = g.columnRowStride, outC = g.outChannels, pooled = pg.outHeight * pg.outWidth
        let pgrad = grad.data, py = output.data, pi = indices.int32Data
        // Windows tiling the convolution output exactly: each plane of dy written once (SIMD).
        let dense = pg.isTwoByTwo && g.outHeight == 2 * pg.outHeight && g.outWidth == 2 * pg.outWidth
            && pg.outWidth >= 8
        return convBackward(input: x, weight: weight, geometry: g, inputGrad: inputGrad, weightGrad: weightGrad,
                            biasGrad: biasGrad, columns: nil, gathersEveryBlock: true) { start, nb, dy in
            let cols = nb * p
            if !dense { dy.update(repeating: 0, count: outC * cols) }
            for b in 0..<nb {
                for o in 0..<outC {
                    let k = ((start + b) * outC + o) * pooled
                    let gp = pgrad + k, yp = py + k, ip = pi + k, d = dy + o * cols + b * p
                    if dense {
                        reluMaxPool2x2BackwardPlane(gp, yp, ip, rowStride: rs, outHeight: pg.outHeight, outWidth: pg.outWidth, into: d)
                        continue
                    }
                    for j in 0..<pooled { d[Int(ip[j])] += yp[j] > 0 ? gp[j] : 0 }
                }
            }
            return UnsafePointer(dy)
        }
    }
}

extension Tensor {
    /// `relu(conv2d(...))` max-pooled, as one op (see `Kernels.conv2dReluMaxPool`): the same result
    /// and gradients as `conv2d(...).relu().maxPool2d(...)`, bit for bit, in less time and memory.
    public func conv2dReluMaxPool(
        weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
        dilation: (Int, Int) = (1, 1), groups: Int = 1,
        poolKernel: (Int, Int), poolStride: (Int, Int)? = nil, poolPadding: (Int, Int) = (0, 0)
    ) -> Tensor {
        let (g, pg) = fusedGeometries(weight: weight, stride: stride, padding: padding, dilation: dilation, groups: groups,
                                      poolOp: "maxPool2d", poolKernel: poolKernel, poolStride: poolStride, poolPadding: poolPadding)
        return recording("conv2d_relu_max_pool2d", inputs: bias.map { [self, weight, $0] } ?? [self, weight],
                         backend.conv2dReluMaxPool(self, weight: weight, bias: bias, geometry: g, pool: pg))
    }
}
