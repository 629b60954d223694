extension Kernels {
    /// Images unfolded side by side into one GEMM, so the tiny per-image GEMMs of small
    /// convolutions (LeNet: 6 or 16 output channels) become fewer, wider ones, while the block's
    /// columns stay within ~256 KB (L2-resident between im2col and the GEMM).
    static func convBlockImages(_ g: Conv2dGeometry) -> Int {
        g.isPointwise ? 1 : max(1, min(16, 65536 / max(1, g.groupColumnRows * g.groups * g.outPixels)))
    }

    /// 2-D convolution (cross-correlation, as PyTorch) by im2col + GEMM, parallel over the batch.
    ///
    /// Each chunk of images works in its own slice of cached scratch, a block of images at a time:
    /// the block is unfolded side by side into columns [C·kh·kw, B·oh·ow] and each group's weight
    /// [O/g, C/g·kh·kw] multiplies its rows of the columns. With one image per block the GEMM
    /// writes the output directly onto the bias (beta = 1); otherwise the bias is added while the
    /// block's [O, B·oh·ow] result is scattered to [B, O, oh·ow]. 1x1 convolutions skip im2col.
    ///
    /// With `columns` (K·oh·ow floats per image, K = C·kh·kw), the unfolded columns are written
    /// there instead of scratch and kept, so the backward pass need not unfold the input again.
    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: Conv2dGeometry,
                              columns saved: UnsafeMutablePointer<Float>? = nil) -> Tensor {
        precondition(x.shape == g.inputShape && weight.shape == g.weightShape, "conv2d: tensors do not match \(g)")
        precondition(bias == nil || bias!.shape == [g.outChannels], "conv2d: bias must be [\(g.outChannels)]")
        let out = Tensor(uninitialized: g.outputShape)
        let n = g.batch
        guard n > 0, out.count > 0 else { return out }
        let chunks = Parallel.chunkCount(n)
        let kg = g.groupColumnRows, p = g.outPixels, og = g.outChannels / g.groups, groups = g.groups
        let outC = g.outChannels, pointwise = g.isPointwise
        let block = min(convBlockImages(g), Parallel.chunkRange(0, of: chunks, n: n).count)
        let colFloats = pointwise || saved != nil ? 0 : Scratch.stride(kg * groups * p * block)
        let outFloats = block > 1 ? Scratch.stride(outC * p * block) : 0
        let chunkStride = colFloats + outFloats
        let inImage = g.inChannels * g.height * g.width, outImage = outC * p
        let px = x.data, pw = weight.data, po = out.data, pb = bias?.data
        Scratch.withFloats(chunkStride * chunks) { scratch in
            Parallel.forEachChunk(n) { chunk, range in
                let col = scratch + chunk * chunkStride, tmp = col + colFloats
                for start in stride(from: range.lowerBound, to: range.upperBound, by: block) {
                    let nb = min(block, range.upperBound - start), cols = nb * p
                    let image = px + start * inImage
                    let columns: UnsafePointer<Float>
                    if pointwise {
                        columns = UnsafePointer(image)
                    } else {
                        let target = saved.map { $0 + start * kg * groups * p } ?? col
                        for b in 0..<nb { im2col(image + b * inImage, g, into: target + b * p, rowStride: cols) }
                        columns = UnsafePointer(target)
                    }
                    let dst = po + start * outImage
                    let direct = nb == 1
                    let target = direct ? dst : tmp
                    if direct, let pb {
                        for o in 0..<outC { (dst + o * p).update(repeating: pb[o], count: p) }
                    }
                    for grp in 0..<groups {
                        gemm(transA: false, transB: false, m: og, n: cols, k: kg,
                             a: pw + grp * og * kg, lda: kg, b: columns + grp * kg * cols, ldb: cols,
                             beta: direct && pb != nil ? 1 : 0, c: target + grp * og * cols, ldc: cols)
                    }
                    if !direct {
                        for b in 0..<nb {
                            for o in 0..<outC {
                                let s = tmp + o * cols + b * p, d = dst + b * outImage + o * p
                                let bo = pb?[o] ?? 0
                                for j in 0..<p { d[j] = s[j] + bo }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Gradients of `conv2d` for the output gradient `grad`; each part only when asked for.
    ///
    /// Works in the same image blocks as the forward pass, with the block's dY gathered to
    /// [O, B·oh·ow]. Weight: dY·colsᵀ, accumulated per chunk into the chunk's own partial buffer;
    /// the partials (and the bias partials) are then summed in chunk order — deterministic for a
    /// given thread count. Input: Wᵀ·dY per group into columns, then `col2im` per image (images
    /// are independent, so no reduction).
    /// `columns`: the input's columns as `conv2d(columns:)` saved them (unfolded again when nil).
    public static func conv2dBackward(
        _ grad: Tensor, input x: Tensor, weight: Tensor, geometry g: Conv2dGeometry,
        inputGrad: Bool, weightGrad: Bool, biasGrad: Bool, columns saved: UnsafePointer<Float>? = nil
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
        let block = min(convBlockImages(g), Parallel.chunkRange(0, of: chunks, n: n).count)
        let colFloats = !pointwise && (inputGrad || (weightGrad && saved == nil)) ? Scratch.stride(kg * groups * p * block) : 0
        let dyFloats = block > 1 && (inputGrad || weightGrad) ? Scratch.stride(outC * p * block) : 0
        let dwFloats = weightGrad ? Scratch.stride(weightCount) : 0
        let dbFloats = biasGrad ? Scratch.stride(outC) : 0
        let chunkStride = colFloats + dyFloats + dwFloats + dbFloats
        let inImage = g.inChannels * g.height * g.width, outImage = outC * p
        let px = x.data, pw = weight.data, pg = grad.data
        let pdx = dx?.data

        Scratch.withFloats(chunkStride * chunks) { scratch in
            Parallel.forEachChunk(n) { chunk, range in
                let col = scratch + chunk * chunkStride, dyBlock = col + colFloats
                let partialW = dyBlock + dyFloats, partialB = partialW + dwFloats
                for start in stride(from: range.lowerBound, to: range.upperBound, by: block) {
                    let first = start == range.lowerBound
                    let nb = min(block, range.upperBound - start), cols = nb * p
                    let dy0 = pg + start * outImage, image = px + start * inImage
                    if biasGrad {
                        for o in 0..<outC {
                            var s = first ? 0 : partialB[o]
                            for b in 0..<nb { s += sumContiguous(dy0 + b * outImage + o * p, p) }
                            partialB[o] = s
                        }
                    }
                    guard weightGrad || inputGrad else { continue }
                    // dY of the block as [O, nb·p] (an image's own [O, p] when nb = 1).
                    let dy: UnsafePointer<Float>
                    if nb == 1 {
                        dy = UnsafePointer(dy0)
                    } else {
                        for o in 0..<outC {
                            for b in 0..<nb { (dyBlock + o * cols + b * p).update(from: dy0 + b * outImage + o * p, count: p) }
                        }
                        dy = UnsafePointer(dyBlock)
                    }
                    if weightGrad {
                        let columns: UnsafePointer<Float>
                        if pointwise {
                            columns = UnsafePointer(image)
                        } else if let saved {
                            columns = saved + start * kg * groups * p
                        } else {
                            for b in 0..<nb { im2col(image + b * inImage, g, into: col + b * p, rowStride: cols) }
                            columns = UnsafePointer(col)
                        }
                        for grp in 0..<groups {
                            gemm(transA: false, transB: true, m: og, n: kg, k: cols,
                                 a: dy + grp * og * cols, lda: cols, b: columns + grp * kg * cols, ldb: cols,
                                 beta: first ? 0 : 1, c: partialW + grp * og * kg, ldc: kg)
                        }
                    }
                    if let pdx {
                        let dimage = pdx + start * inImage
                        // Pointwise (one image per block): the columns are the input gradient itself.
                        let dcol = pointwise ? dimage : col
                        for grp in 0..<groups {
                            gemm(transA: true, transB: false, m: kg, n: cols, k: og,
                                 a: pw + grp * og * kg, lda: kg, b: dy + grp * og * cols, ldb: cols,
                                 beta: 0, c: dcol + grp * kg * cols, ldc: cols)
                        }
                        if !pointwise {
                            dimage.update(repeating: 0, count: nb * inImage)
                            for b in 0..<nb { col2im(col + b * p, g, into: dimage + b * inImage, rowStride: cols) }
                        }
                    }
                }
            }
            // Sum the per-chunk partials in chunk order.
            for c in 0..<chunks {
                let base = scratch + c * chunkStride + colFloats + dyFloats
                if let dw {
                    let d = dw.data
                    for j in 0..<weightCount { d[j] += base[j] }
                }
                if let db {
                    let d = db.data, b = base + dwFloats
                    for j in 0..<outC { d[j] += b[j] }
                }
            }
        }
        return (dx, dw, db)
    }
}
