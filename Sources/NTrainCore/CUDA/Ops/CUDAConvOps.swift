/// Convolution, pooling and batch normalisation on a GPU, with their backward passes.
/// Convolution is im2col + GEMM over the whole batch (the unfolded input is kept for the weight
/// gradient), as the CPU's im2col path; grouped convolution runs one im2col and GEMM per group on
/// pointer offsets.
extension CUDAOps {
    static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: Conv2dGeometry)
        -> (out: Tensor, backward: (Tensor) -> [Tensor?]) {
        checkSameDevice("conv2d", [x, weight] + (bias.map { [$0] } ?? []))
        let device = x.device
        let outShape: Shape = [g.batch, g.outChannels, g.outHeight, g.outWidth]
        let groups = g.groups, cg = g.inChannels / groups, og = g.outChannels / groups
        let pixels = g.outHeight * g.outWidth, rows = cg * g.kernelHeight * g.kernelWidth  // rows per group
        let columnsWide = g.batch * pixels, imageFloats = g.inChannels * g.height * g.width, plane = g.height * g.width
        let geometry = CUDAKernelArguments.convGeometry(g, channels: cg, imageStride: imageFloats, rowStride: columnsWide)
        // Group gi's columns [rows, N·pixels] start at gi·rows·N·pixels; its input channels at gi·cg·H·W.
        let columns = Tensor(uninitialized: [groups * rows, columnsWide], device: device)
        let groupColumns = rows * columnsWide
        for gi in 0..<groups {
            launch(device, "im2col_f32", elements: groupColumns, CUDAKernelArguments()
                .pointer(address(x, offset: gi * cg * plane)).pointer(address(columns, offset: gi * groupColumns)).int64Struct(geometry))
        }
        let out = Tensor(uninitialized: outShape, device: device)
        // out[b, group rows] [og, pixels] = W_g [og, rows] · columns_g[:, b·pixels ..< (b+1)·pixels]
        for gi in 0..<groups {
            gemm(device, transA: false, transB: false, m: og, n: pixels, k: rows, a: address(weight, offset: gi * og * rows), lda: rows,
                 b: address(columns, offset: gi * groupColumns), ldb: columnsWide, strideB: pixels,
                 c: address(out, offset: gi * og * pixels), ldc: pixels, strideC: g.outChannels * pixels, batch: g.batch)
        }
        if let bias {
            launch(device, "add_channel_bias_f32", elements: out.count, CUDAKernelArguments()
                .pointer(address(out)).pointer(address(bias)).int64(g.batch).int64(g.outChannels).int64(pixels))
        }
        return (out, { grad in
            // grad [N, O, pixels] as [O, N·pixels], the layout of the columns.
            let wide = Tensor(uninitialized: [g.outChannels, columnsWide], device: device)
            stridedCopy(shape: [g.batch, g.outChannels, pixels], src: grad, srcStrides: [g.outChannels * pixels, pixels, 1],
                        dst: wide, dstStrides: [pixels, columnsWide, 1])
            var grads: [Tensor?] = [nil, nil]
            if x.requiresGrad {
                let dcol = Tensor(uninitialized: [groups * rows, columnsWide], device: device)
                let dx = filled(x.shape, pattern: 0, device: device)
                for gi in 0..<groups {
                    gemm(device, transA: true, transB: false, m: rows, n: columnsWide, k: og, a: address(weight, offset: gi * og * rows),
                         lda: rows, b: address(wide, offset: gi * og * columnsWide), ldb: columnsWide,
                         c: address(dcol, offset: gi * groupColumns), ldc: columnsWide)
                    launch(device, "col2im_f32", elements: g.batch * cg * plane, CUDAKernelArguments()
                        .pointer(address(dcol, offset: gi * groupColumns)).pointer(address(dx, offset: gi * cg * plane)).int64Struct(geometry))
                }
                grads[0] = dx
            }
            if weight.requiresGrad {
                let dw = Tensor(uninitialized: weight.shape, device: device)
                for gi in 0..<groups {
                    gemm(device, transA: false, transB: true, m: og, n: rows, k: columnsWide, a: address(wide, offset: gi * og * columnsWide),
                         lda: columnsWide, b: address(columns, offset: gi * groupColumns), ldb: columnsWide,
                         c: address(dw, offset: gi * og * rows), ldc: rows)
                }
                grads[1] = dw
            }
            if let bias {
                if bias.requiresGrad {
                    let db = Tensor(uninitialized: bias.shape, device: device)
                    launch(device, "channel_sums_f32", rows: g.outChannels, CUDAKernelArguments()
                        .pointer(address(grad)).pointer(address(db)).int64(g.batch).int64(g.outChannels).int64(pixels))
                    grads.append(db)
                } else {
                    grads.append(nil)
                }
            }
            return grads
        })
    }

    static func maxPool2d(_ x: Tensor, geometry g: Pool2dGeometry) -> (out: Tensor, backward: (Tensor) -> Tensor) {
        let device = x.device, pool = CUDAKernelArguments.poolGeometry(g)
        let out = Tensor(uninitialized: g.outputShape, device: device)
        let indices = Tensor(uninitialized: g.outputShape, dtype: .int32, device: device)
        launch(device, "max_pool2d_f32", elements: out.count, CUDAKernelArguments()
            .pointer(address(x)).pointer(address(out)).pointer(address(indices)).int64Struct(pool))
        return (out, { grad in
            let dx = Tensor(uninitialized: x.shape, device: device)
            launch(device, "max_pool2d_backward_f32", elements: x.count, CUDAKernelArguments()
                .pointer(address(grad)).pointer(address(indices)).pointer(address(dx)).int64Struct(pool))
            return dx
        })
    }

    static func avgPool2d(_ x: Tensor, geometry g: Pool2dGeometry) -> (out: Tensor, backward: (Tensor) -> Tensor) {
        let device = x.device, pool = CUDAKernelArguments.poolGeometry(g)
        let out = Tensor(uninitialized: g.outputShape, device: device)
        launch(device, "avg_pool2d_f32", elements: out.count,
               CUDAKernelArguments().pointer(address(x)).pointer(address(out)).int64Struct(pool))
        return (out, { grad in
            let dx = Tensor(uninitialized: x.shape, device: device)
            launch(device, "avg_pool2d_backward_f32", elements: x.count,
                   CUDAKernelArguments().pointer(address(grad)).pointer(address(dx)).int64Struct(pool))
            return dx
        })
    }

    /// Batch norm over [N, C, S]: batch statistics and the running-statistics update in training,
    /// the running statistics in eval; returns the output and the backward pass (dx, dweight, dbias).
    static func batchNorm(_ x: Tensor, n: Int, c: Int, s: Int, runningMean: Tensor, runningVar: Tensor,
                          weight: Tensor?, bias: Tensor?, training: Bool, momentum: Float, eps: Float)
        -> (out: Tensor, backward: (Tensor) -> (Tensor?, Tensor?, Tensor?)) {
        checkSameDevice("batchNorm", [x, runningMean, runningVar] + [weight, bias].compactMap { $0 })
        let device = x.device
        let mean: Tensor, invStd = Tensor(uninitialized: [c], device: device)
        if training {
            mean = Tensor(uninitialized: [c], device: device)
            let variance = Tensor(uninitialized: [c], device: device)
            launch(device, "batch_norm_statistics_f32", rows: c, CUDAKernelArguments()
                .pointer(address(x)).pointer(address(mean)).pointer(address(variance)).int64(n).int64(c).int64(s))
            let count = n * s
            launch(device, "batch_norm_update_f32", elements: c, CUDAKernelArguments()
                .pointer(address(mean)).pointer(address(variance)).pointer(address(runningMean)).pointer(address(runningVar))
                .pointer(address(invStd)).int64(c).float(momentum).float(eps).float(Float(count) / Float(count - 1)))
        } else {
            mean = copy(runningMean)  // the running buffers may change before backward runs
            launch(device, "batch_norm_inv_std_f32", elements: c,
                   CUDAKernelArguments().pointer(address(runningVar)).pointer(address(invStd)).int64(c).float(eps))
        }
        let out = Tensor(uninitialized: x.shape, device: device)
        launch(device, "batch_norm_apply_f32", elements: x.count, CUDAKernelArguments()
            .pointer(address(x)).pointer(address(out)).pointer(address(mean)).pointer(address(invStd))
            .pointer(weight.map(address) ?? 0).pointer(bias.map(address) ?? 0).int64(n).int64(c).int64(s))
        return (out, { grad in
            let dx = x.requiresGrad ? Tensor(uninitialized: x.shape, device: device) : nil
            let dw = weight?.requiresGrad == true ? Tensor(uninitialized: [c], device: device) : nil
            let db = bias?.requiresGrad == true ? Tensor(uninitialized: [c], device: device) : nil
            launch(device, "batch_norm_backward_f32", rows: c, CUDAKernelArguments()
                .pointer(address(grad)).pointer(address(x)).pointer(address(mean)).pointer(address(invStd))
                .pointer(weight.map(address) ?? 0).pointer(dx.map(address) ?? 0).pointer(dw.map(address) ?? 0)
                .pointer(db.map(address) ?? 0).int64(n).int64(c).int64(s).int32(training ? 1 : 0))
            return (dx, dw, db)
        })
    }
}
