extension Kernels {
    /// `avgPool2d(gelu(conv2d(x)))` in one pass over each block of images (the course lab's
    /// LeNet-5: conv → GELU → average pool). The block's convolution stays in cache-resident
    /// scratch and gets its bias and GELU there; only the pooled output is written, plus, for the
    /// backward pass (`saving`), GELU′ of the pre-activation.
    ///
    /// Bit-identical to the three ops run one after another (the same blocks, GEMMs, bias order,
    /// GELU expression and pooling order).
    public static func conv2dGeluAvgPool(
        _ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: Conv2dGeometry, pool pg: Pool2dGeometry, saving: Bool
    ) -> (output: Tensor, derivative: Tensor?) {
        precondition(pg.inputShape == g.outputShape, "conv2dGeluAvgPool: pool input \(pg.inputShape) ≠ conv output \(g.outputShape)")
        let out = Tensor(uninitialized: pg.outputShape)
        // GELU′ in the columns' layout (rows `columnRowStride` apart, wide columns included), so
        // each plane is one long vectorised loop instead of short rows with scalar tails.
        let derivative = saving ? Tensor(uninitialized: [g.batch, g.outChannels * g.columnPixels]) : nil
        guard out.count > 0 else { return (out, derivative) }
        let pc = g.columnPixels, rs = g.columnRowStride, pooled = pg.outHeight * pg.outWidth
        let po = out.data, pd = derivative?.data
        convForwardPlanes(x, weight: weight, bias: bias, geometry: g) { plane, k, bias in
            biasGelu(plane, bias: bias, derivative: pd.map { $0 + k * pc }, count: pc)
            avgPoolPlane(plane, pg, rowStride: rs, into: po + k * pooled)
        }
        return (out, derivative)
    }

    /// Gradients of `conv2dGeluAvgPool` from the pooled output's gradient `grad` and the saved
    /// GELU′ (`derivative`): each block's convolution-output gradient is built in scratch (the
    /// pool's gradient spread over its windows, times GELU′), then the convolution's backward runs.
    public static func conv2dGeluAvgPoolBackward(
        _ grad: Tensor, derivative: Tensor, input x: Tensor, weight: Tensor,
        geometry g: Conv2dGeometry, pool pg: Pool2dGeometry, inputGrad: Bool, weightGrad: Bool, biasGrad: Bool
    ) -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        precondition(grad.shape == pg.outputShape && derivative.count == g.batch * g.outChannels * g.columnPixels,
                     "conv2dGeluAvgPool backward: gradient \(grad.shape) ≠ output \(pg.outputShape)")
        let pc = g.columnPixels, rs = g.columnRowStride, outC = g.outChannels
        let oh = g.outHeight, ow = g.outWidth, pooled = pg.outHeight * pg.outWidth
        let pgrad = grad.data, pd = derivative.data
        return convBackward(input: x, weight: weight, geometry: g, inputGrad: inputGrad, weightGrad: weightGrad,
                            biasGrad: biasGrad, columns: nil, gathersEveryBlock: true) { start, nb, dy in
            let cols = nb * pc
            dy.update(repeating: 0, count: outC * cols)
            for b in 0..<nb {
                for o in 0..<outC {
                    let k = (start + b) * outC + o, d = dy + o * cols + b * pc
                    avgPoolBackwardPlane(pgrad + k * pooled, pg, rowStride: rs, into: d)
                    let dk = pd + k * pc
                    for i in 0..<pc { d[i] *= dk[i] }
                    // The extra columns of wide unfolding get exactly zero, as conv2d's backward gives them.
                    if rs > ow { for oy in 0..<oh { (d + oy * rs + ow).update(repeating: 0, count: rs - ow) } }
                }
            }
            return UnsafePointer(dy)
        }
    }
}

extension Tensor {
    /// `conv2d(...).gelu().avgPool2d(...)` as one op (see `Kernels.conv2dGeluAvgPool`): the same
    /// result and gradients bit for bit, in less time and memory.
    public func conv2dGeluAvgPool(
        weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
        dilation: (Int, Int) = (1, 1), groups: Int = 1,
        poolKernel: (Int, Int), poolStride: (Int, Int)? = nil, poolPadding: (Int, Int) = (0, 0)
    ) -> Tensor {
        let (g, pg) = fusedGeometries(weight: weight, stride: stride, padding: padding, dilation: dilation, groups: groups,
                                      poolOp: "avgPool2d", poolKernel: poolKernel, poolStride: poolStride, poolPadding: poolPadding)
        return recording("conv2d_gelu_avg_pool2d", inputs: bias.map { [self, weight, $0] } ?? [self, weight],
                         backend.conv2dGeluAvgPool(self, weight: weight, bias: bias, geometry: g, pool: pg))
    }
}
