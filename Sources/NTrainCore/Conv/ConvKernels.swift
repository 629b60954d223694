extension Kernels {
    /// 2-D convolution (cross-correlation, as PyTorch) by im2col + GEMM, parallel over the batch.
    ///
    /// Each chunk of images unfolds one image at a time into its own slice of cached scratch and
    /// multiplies each group's weight [O/g, C/g·kh·kw] by that group's rows of the columns. The bias
    /// is written first and the GEMM accumulates onto it (beta = 1), so it costs no extra pass.
    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: Conv2dGeometry) -> Tensor {
        precondition(x.shape == g.inputShape && weight.shape == g.weightShape, "conv2d: tensors do not match \(g)")
        precondition(bias == nil || bias!.shape == [g.outChannels], "conv2d: bias must be [\(g.outChannels)]")
        let out = Tensor(uninitialized: g.outputShape)
        let n = g.batch
        guard n > 0, out.count > 0 else { return out }
        let chunks = Parallel.chunkCount(n)
        let kg = g.groupColumnRows, p = g.outPixels, og = g.outChannels / g.groups, groups = g.groups
        let outC = g.outChannels, pointwise = g.isPointwise
        let colStride = pointwise ? 0 : Scratch.stride(kg * groups * p)
        let inImage = g.inChannels * g.height * g.width, outImage = outC * p
        let px = x.data, pw = weight.data, po = out.data, pb = bias?.data
        Scratch.withFloats(colStride * chunks) { scratch in
            Parallel.forEachChunk(n) { chunk, range in
                let col = scratch + chunk * colStride
                for i in range {
                    let image = px + i * inImage
                    let cols: UnsafePointer<Float>
                    if pointwise {
                        cols = UnsafePointer(image)
                    } else {
                        im2col(image, g, into: col)
                        cols = UnsafePointer(col)
                    }
                    let dst = po + i * outImage
                    if let pb {
                        for o in 0..<outC { (dst + o * p).update(repeating: pb[o], count: p) }
                    }
                    for grp in 0..<groups {
                        gemm(transA: false, transB: false, m: og, n: p, k: kg,
                             a: pw + grp * og * kg, lda: kg, b: cols + grp * kg * p, ldb: p,
                             beta: pb == nil ? 0 : 1, c: dst + grp * og * p, ldc: p)
                    }
                }
            }
        }
        return out
    }

    /// Gradients of `conv2d` for the output gradient `grad`; each part only when asked for.
    ///
    /// Input gradient: per image, Wᵀ·dY per group into columns, then `col2im` (images are
    /// independent, so no reduction). Weight and bias gradients: each chunk accumulates its images
    /// into its own partial buffers, then the partials are summed in chunk order — deterministic
    /// for a given thread count.
    public static func conv2dBackward(
        _ grad: Tensor, input x: Tensor, weight: Tensor, geometry g: Conv2dGeometry,
        inputGrad: Bool, weightGrad: Bool, biasGrad: Bool
    ) -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        precondition(grad.shape == g.outputShape, "conv2d backward: gradient \(grad.shape) ≠ output \(g.outputShape)")
        let dx = inputGrad ? Tensor(uninitialized: g.inputShape) : nil
        let dw = weightGrad ? Tensor.zeros(g.weightShape) : nil
        let db = biasGrad ? Tensor.zeros([g.outChannels]) : nil
        let n = g.batch
        guard n > 0, grad.count > 0 else {
            dx?.zero()
            return (dx, dw, db)
        }
        let chunks = Parallel.chunkCount(n)
        let kg = g.groupColumnRows, p = g.outPixels, og = g.outChannels / g.groups, groups = g.groups
        let outC = g.outChannels, pointwise = g.isPointwise
        let weightCount = g.weightShape.count
        let needCols = !pointwise && (inputGrad || weightGrad)
        let colStride = needCols ? Scratch.stride(kg * groups * p) : 0
        let dwStride = weightGrad ? Scratch.stride(weightCount) : 0
        let dbStride = biasGrad ? Scratch.stride(outC) : 0
        let chunkStride = colStride + dwStride + dbStride
        let inImage = g.inChannels * g.height * g.width, outImage = outC * p
        let px = x.data, pw = weight.data, pg = grad.data
        let pdx = dx?.data

        Scratch.withFloats(chunkStride * chunks) { scratch in
            Parallel.forEachChunk(n) { chunk, range in
                let col = scratch + chunk * chunkStride
                let partialW = col + colStride, partialB = partialW + dwStride
                for i in range {
                    let first = i == range.lowerBound
                    let dy = pg + i * outImage
                    let image = px + i * inImage
                    if weightGrad {
                        let cols: UnsafePointer<Float>
                        if pointwise {
                            cols = UnsafePointer(image)
                        } else {
                            im2col(image, g, into: col)
                            cols = UnsafePointer(col)
                        }
                        for grp in 0..<groups {
                            gemm(transA: false, transB: true, m: og, n: kg, k: p,
                                 a: dy + grp * og * p, lda: p, b: cols + grp * kg * p, ldb: p,
                                 beta: first ? 0 : 1, c: partialW + grp * og * kg, ldc: kg)
                        }
                    }
                    if biasGrad {
                        for o in 0..<outC {
                            let row = dy + o * p
                            var s: Float = 0
                            for j in 0..<p { s += row[j] }
                            partialB[o] = first ? s : partialB[o] + s
                        }
                    }
                    if let pdx {
                        let dimage = pdx + i * inImage
                        // Pointwise: the columns are the input gradient itself.
                        let dcol = pointwise ? dimage : col
                        for grp in 0..<groups {
                            gemm(transA: true, transB: false, m: kg, n: p, k: og,
                                 a: pw + grp * og * kg, lda: kg, b: dy + grp * og * p, ldb: p,
                                 beta: 0, c: dcol + grp * kg * p, ldc: p)
                        }
                        if !pointwise {
                            dimage.update(repeating: 0, count: inImage)
                            col2im(col, g, into: dimage)
                        }
                    }
                }
            }
            // Sum the per-chunk partials in chunk order.
            for c in 0..<chunks {
                let base = scratch + c * chunkStride + colStride
                if let dw {
                    let d = dw.data
                    for j in 0..<weightCount { d[j] += base[j] }
                }
                if let db {
                    let d = db.data, b = base + dwStride
                    for j in 0..<outC { d[j] += b[j] }
                }
            }
        }
        return (dx, dw, db)
    }
}
