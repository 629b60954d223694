extension Kernels {
    /// Images unfolded side by side into one GEMM, so the tiny per-image GEMMs of small
    /// convolutions (LeNet: 6 or 16 output channels) become fewer, wider ones, while the block's
    /// columns and its output stay within ~256 KB each (L2-resident between im2col, the GEMM and
    /// the scatter). A convolution with a large output per image (conv_bn: 128 × 784) runs one
    /// image at a time, straight into the output.
    static func convBlockImages(_ g: Conv2dGeometry) -> Int {
        let perImage = max(g.columnFloatsPerImage, g.outChannels * g.columnPixels, 1)
        return g.isPointwise ? 1 : max(1, min(16, 65536 / perImage))
    }

    /// The columns [C·kh·kw, nb·P] (P = `columnPixels`) of the `nb` images of a block starting
    /// at image `start`: the input itself for a 1x1 convolution, else unfolded side by side into
    /// `saved` (at the block's place, kept for the backward pass) or into `scratch`. `padded`:
    /// `paddedImageFloats` of scratch for wide unfolding of a padded input.
    @inline(__always)
    static func blockColumns(_ x: UnsafePointer<Float>, start: Int, count nb: Int, _ g: Conv2dGeometry,
                             saved: UnsafeMutablePointer<Float>?, scratch: UnsafeMutablePointer<Float>,
                             padded: UnsafeMutablePointer<Float>?) -> UnsafePointer<Float> {
        let inImage = g.inChannels * g.height * g.width, p = g.columnPixels
        let image = x + start * inImage
        if g.isPointwise { return image }
        let target = saved.map { $0 + start * g.columnFloatsPerImage } ?? scratch
        let wide = g.unfoldsWide
        for b in 0..<nb {
            if wide {
                im2colWide(image + b * inImage, g, padded: padded, into: target + b * p, rowStride: nb * p)
            } else {
                im2col(image + b * inImage, g, into: target + b * p, rowStride: nb * p)
            }
        }
        return UnsafePointer(target)
    }

    /// Per-chunk scratch for the padded image of wide unfolding, or nil when it needs none.
    @inline(__always)
    static func paddedImageScratch(_ base: UnsafeMutablePointer<Float>, _ g: Conv2dGeometry) -> UnsafeMutablePointer<Float>? {
        g.paddedImageFloats > 0 ? base : nil
    }

    /// target[O, cols] = W · columns (+ target when `accumulate`), one GEMM per group.
    @inline(__always)
    static func convMultiply(_ weight: UnsafePointer<Float>, _ columns: UnsafePointer<Float>, columnCount cols: Int,
                             _ g: Conv2dGeometry, accumulate: Bool, into target: UnsafeMutablePointer<Float>) {
        let kg = g.groupColumnRows, og = g.outChannels / g.groups
        for grp in 0..<g.groups {
            gemm(transA: false, transB: false, m: og, n: cols, k: kg,
                 a: weight + grp * og * kg, lda: kg, b: columns + grp * kg * cols, ldb: cols,
                 beta: accumulate ? 1 : 0, c: target + grp * og * cols, ldc: cols)
        }
    }

    /// 2-D convolution (cross-correlation, as PyTorch) by im2col + GEMM, parallel over the batch.
    ///
    /// Each chunk of images works in its own slice of cached scratch, a block of images at a time:
    /// the block is unfolded side by side into columns [C·kh·kw, B·oh·ow] and each group's weight
    /// [O/g, C/g·kh·kw] multiplies its rows of the columns. With one (narrow) image per block the GEMM
    /// writes the output directly onto the bias (beta = 1); otherwise the bias is added while the
    /// block's [O, B·oh·ow] result is scattered to [B, O, oh·ow]. 1x1 convolutions skip im2col.
    ///
    /// Stride-1 convolutions whose padding adds little width unfold wide (`im2colWide`: one copy
    /// per kernel tap instead of one per output row), and drop the extra columns in the scatter.
    ///
    /// With `columns` (`g.columnFloatsPerImage` per image), the unfolded columns are written
    /// there instead of scratch and kept, so the backward pass need not unfold the input again.
    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: Conv2dGeometry,
                              columns saved: UnsafeMutablePointer<Float>? = nil) -> Tensor {
        if usesWinograd(g) {
            precondition(saved == nil, "conv2d: a Winograd convolution keeps no columns")
            return winogradConv2d(x, weight: weight, bias: bias, geometry: g)
        }
        let out = Tensor(uninitialized: g.outputShape)
        let p = g.outPixels, rs = g.columnRowStride, oh = g.outHeight, ow = g.outWidth, po = out.data
        convForwardPlanes(x, weight: weight, bias: bias, geometry: g, columns: saved, directOutput: po) { s, k, bias in
            // Scatter the block's plane to [N, O, oh·ow], adding the bias (dropping wide columns).
            let d = po + k * p, bo = bias ?? 0
            if rs == ow {
                for j in 0..<p { d[j] = s[j] + bo }
            } else {
                for oy in 0..<oh {
                    let sr = s + oy * rs, dr = d + oy * ow
                    for j in 0..<ow { dr[j] = sr[j] + bo }
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
        if inputGrad && usesWinograd(g) {
            let rest = conv2dBackward(grad, input: x, weight: weight, geometry: g, inputGrad: false, weightGrad: weightGrad,
                                      biasGrad: biasGrad, columns: saved)
            return (winogradInputGradient(grad, weight: weight, geometry: g), rest.weight, rest.bias)
        }
        let p = g.outPixels, pc = g.columnPixels, rs = g.columnRowStride, outC = g.outChannels, outImage = outC * p
        let oh = g.outHeight, ow = g.outWidth, wide = g.unfoldsWide, pg = grad.data
        return convBackward(input: x, weight: weight, geometry: g, inputGrad: inputGrad, weightGrad: weightGrad,
                            biasGrad: biasGrad, columns: saved, gathersEveryBlock: wide) { start, nb, scratch in
            // dY of the block as [O, nb·P] (an image's own [O, p] when nb = 1 and not wide).
            let dy0 = pg + start * outImage
            if nb == 1 && !wide { return UnsafePointer(dy0) }
            let cols = nb * pc
            for o in 0..<outC {
                for b in 0..<nb {
                    let src = dy0 + b * outImage + o * p, dst = scratch + o * cols + b * pc
                    if wide {
                        // The extra columns of each row get a zero gradient.
                        for oy in 0..<oh {
                            (dst + oy * rs).update(from: src + oy * ow, count: ow)
                            (dst + oy * rs + ow).update(repeating: 0, count: rs - ow)
                        }
                    } else {
                        dst.update(from: src, count: p)
                    }
                }
            }
            return UnsafePointer(scratch)
        }
    }

    /// The convolution's backward pass over image blocks, with the output gradient of each block
    /// ([O, nb·P], P = `columnPixels`: zero in the extra columns of wide unfolding) produced by `blockGradient(start, nb, scratch)`: into `scratch` (room for
    /// a whole block) or pointing elsewhere. `scratch` is reserved for one-image blocks too when
    /// `gathersEveryBlock`.
    static func convBackward(
        input x: Tensor, weight: Tensor, geometry g: Conv2dGeometry, inputGrad: Bool, weightGrad: Bool, biasGrad: Bool,
        columns saved: UnsafePointer<Float>?, gathersEveryBlock: Bool,
        blockGradient: (_ start: Int, _ count: Int, _ scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float>
    ) -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        let dx = inputGrad ? Tensor(uninitialized: g.inputShape) : nil
        let dw = weightGrad ? Tensor.zeros(g.weightShape) : nil
        let db = biasGrad ? Tensor.zeros([g.outChannels]) : nil
        let n = g.batch
        guard n > 0, g.outputShape.count > 0, inputGrad || weightGrad || biasGrad else {
            dx?.zero()
            return (dx, dw, db)
        }
        let blocks = ConvBlocks(n: n, g)
        let block = blocks.size
        let kg = g.groupColumnRows, p = g.columnPixels, og = g.outChannels / g.groups, groups = g.groups
        let outC = g.outChannels, pointwise = g.isPointwise, wide = g.unfoldsWide
        let weightCount = g.weightShape.count
        let colFloats = !pointwise && (inputGrad || (weightGrad && saved == nil)) ? Scratch.stride(kg * groups * p * block) : 0
        let dyFloats = block > 1 || gathersEveryBlock ? Scratch.stride(outC * p * block) : 0
        let dwFloats = weightGrad ? Scratch.stride(weightCount) : 0
        let dbFloats = biasGrad ? Scratch.stride(outC) : 0
        let padFloats = Scratch.stride(g.paddedImageFloats)
        // OpenBLAS computes dY·colsᵀ (a dot-product shape) at ~40 GFLOP/s here, cols·dYᵀ with dY
        // transposed first at ~90 when the kernel has many taps (LeNet conv2: K = 150); with few,
        // the transposition costs more than it saves.
        let transposedWeightGrad = weightGrad && kg >= 96
        let dyTFloats = transposedWeightGrad ? Scratch.stride(outC * p * block) : 0
        // The weight and bias gradients are sums over the images of each thread-count chunk, in
        // order, then over the chunks in order: each block's weight gradient is its own GEMM
        // (beta = 0) added to the chunk's running sum, each image's bias sum likewise. Tasks are
        // single blocks when their partials fit in `blockPartialsBudget` floats: any thread takes
        // the next block (a thread the machine slows down hands work over), and the chains are
        // added up afterwards in the same order. Otherwise a task is a whole chunk, adding as it
        // goes. Both give the same bits (tested). A GEMM with beta = 1 would not: OpenBLAS may
        // split a long inner dimension and round the accumulation differently.
        // Per thread: columns, block gradient, padded image, dYᵀ, a block's weight gradient.
        let perBlock = blocks.count > blocks.chunkCount
            && blocks.count * (dwFloats + Scratch.stride(block * outC)) <= blockPartialsBudget
        let blockWFloats = perBlock ? 0 : dwFloats
        let slotStride = colFloats + dyFloats + padFloats + dyTFloats + blockWFloats
        let dbTaskFloats = biasGrad ? (perBlock ? Scratch.stride(block * outC) : dbFloats) : 0
        let partialStride = dwFloats + dbTaskFloats
        let tasks = perBlock ? blocks.count : blocks.chunkCount
        let slots = Parallel.slotCount(tasks: tasks)
        let inImage = g.inChannels * g.height * g.width
        let px = x.data, pw = weight.data
        let pdx = dx?.data

        let sumFloats = perBlock ? dwFloats + outC : 0
        Scratch.withFloats(slotStride * slots + partialStride * tasks + sumFloats) { scratch in
            let partials = scratch + slotStride * slots
            Parallel.forEachTask(tasks) { task, slot in
                let col = scratch + slot * slotStride, dyBlock = col + colFloats
                let padded = paddedImageScratch(dyBlock + dyFloats, g), dyT = dyBlock + dyFloats + padFloats
                let blockW = dyT + dyTFloats
                let partialW = partials + task * partialStride, partialB = partialW + dwFloats
                let taskBlocks = perBlock ? task..<(task + 1) : blocks.blocks(ofChunk: task)
                for i in taskBlocks {
                    let first = i == taskBlocks.lowerBound
                    let (start, nb) = blocks[i]
                    let cols = nb * p
                    let dy = blockGradient(start, nb, dyBlock)
                    if biasGrad && perBlock {
                        for b in 0..<nb {
                            for o in 0..<outC { partialB[b * outC + o] = sumContiguous(dy + o * cols + b * p, p) }
                        }
                    } else if biasGrad {
                        for o in 0..<outC {
                            var s = first ? 0 : partialB[o]
                            for b in 0..<nb { s += sumContiguous(dy + o * cols + b * p, p) }
                            partialB[o] = s
                        }
                    }
                    if weightGrad {
                        let columns: UnsafePointer<Float>
                        if let saved, !pointwise {
                            columns = saved + start * g.columnFloatsPerImage
                        } else {
                            columns = blockColumns(px, start: start, count: nb, g, saved: nil, scratch: col, padded: padded)
                        }
                        if transposedWeightGrad {
                            // dWᵀ = cols · dYᵀ as a plain product (dY transposed into scratch).
                            for o in 0..<outC {
                                let src = dy + o * cols
                                for j in 0..<cols { dyT[j * outC + o] = src[j] }
                            }
                            for grp in 0..<groups {
                                gemm(transA: false, transB: false, m: kg, n: og, k: cols,
                                     a: columns + grp * kg * cols, lda: cols, b: dyT + grp * og, ldb: outC,
                                     beta: 0, c: (first ? partialW : blockW) + grp * og * kg, ldc: og)
                            }
                        } else {
                            for grp in 0..<groups {
                                gemm(transA: false, transB: true, m: og, n: kg, k: cols,
                                     a: dy + grp * og * cols, lda: cols, b: columns + grp * kg * cols, ldb: cols,
                                     beta: 0, c: (first ? partialW : blockW) + grp * og * kg, ldc: kg)
                            }
                        }
                        if !first { for j in 0..<weightCount { partialW[j] += blockW[j] } }
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
                        if wide {
                            if !g.isPadded { dimage.update(repeating: 0, count: nb * inImage) }
                            for b in 0..<nb { col2imWide(col + b * p, g, padded: padded, into: dimage + b * inImage, rowStride: cols) }
                        } else if !pointwise {
                            dimage.update(repeating: 0, count: nb * inImage)
                            for b in 0..<nb { col2im(col + b * p, g, into: dimage + b * inImage, rowStride: cols) }
                        }
                    }
                }
            }
            if perBlock {
                addBlockPartials(partials, stride: partialStride, blocks: blocks, sum: partials + partialStride * tasks,
                                 weight: dw, bias: db, transposed: transposedWeightGrad, groups: groups, og: og, kg: kg)
            } else {
                for t in 0..<tasks {
                    addPartial(partials + t * partialStride, weight: dw, bias: db.map { ($0, dwFloats) },
                               transposed: transposedWeightGrad, groups: groups, og: og, kg: kg)
                }
            }
        }
        return (dx, dw, db)
    }
}

extension Kernels {
    /// Floats of per-block partial gradients a convolution's backward pass may keep (16 MiB).
    nonisolated(unsafe) static var blockPartialsBudget = 4 << 20

    /// dW += one chunk's partial weight gradient (stored as dWᵀ per group when `transposed`), and
    /// db += its bias partial (at `bias.offset` floats after the weight's).
    static func addPartial(_ base: UnsafePointer<Float>, weight dw: Tensor?, bias: (Tensor, offset: Int)?,
                           transposed: Bool, groups: Int, og: Int, kg: Int) {
        if let dw {
            let d = dw.data
            if transposed {
                for grp in 0..<groups {
                    let dg = d + grp * og * kg, bg = base + grp * og * kg
                    for o in 0..<og { for r in 0..<kg { dg[o * kg + r] += bg[r * og + o] } }
                }
            } else {
                for j in 0..<dw.count { d[j] += base[j] }
            }
        }
        if let (db, offset) = bias {
            let d = db.data, b = base + offset
            for j in 0..<db.count { d[j] += b[j] }
        }
    }

    /// The per-block partials added up chunk by chunk, in the order a chunk accumulates them in
    /// place: its blocks' weight gradients in turn, and its images' bias sums in turn starting
    /// from 0; then each chunk's sums into dW and db, in chunk order.
    /// `sum`: room for the weight's floats (`Scratch.stride`) and the bias's.
    static func addBlockPartials(_ partials: UnsafeMutablePointer<Float>, stride: Int, blocks: ConvBlocks,
                                 sum: UnsafeMutablePointer<Float>, weight dw: Tensor?, bias db: Tensor?,
                                 transposed: Bool, groups: Int, og: Int, kg: Int) {
        let weightFloats = dw.map { Scratch.stride($0.count) } ?? 0
        let outC = db?.count ?? 0
        for c in 0..<blocks.chunkCount {
            let chunk = blocks.blocks(ofChunk: c)
            guard !chunk.isEmpty else { continue }
            if let dw {
                sum.update(from: partials + chunk.lowerBound * stride, count: dw.count)
                for i in chunk.dropFirst() {
                    let g = partials + i * stride
                    for j in 0..<dw.count { sum[j] += g[j] }
                }
            }
            if db != nil {
                let s = sum + weightFloats
                s.update(repeating: 0, count: outC)
                for i in chunk {
                    let images = partials + i * stride + weightFloats
                    for b in 0..<blocks[i].count { for o in 0..<outC { s[o] += images[b * outC + o] } }
                }
            }
            addPartial(sum, weight: dw, bias: db.map { ($0, weightFloats) }, transposed: transposed, groups: groups, og: og, kg: kg)
        }
    }
}
