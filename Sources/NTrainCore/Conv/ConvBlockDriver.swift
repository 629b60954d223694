extension Kernels {
    /// The forward pass of `conv2d` and the fused convolution ops: blocks of images unfolded side
    /// by side, one GEMM per group, and each image's output plane handed to
    /// `plane(values, index, bias)` while it is still in cache-resident scratch. `values` holds
    /// the plane's oh rows `columnRowStride` floats apart (wide columns included); `index` is
    /// image·O + channel; `bias` is the bias still to add (nil when the GEMM already added it).
    ///
    /// A one-image block of narrow columns is computed onto its bias (GEMM with beta = 1): into
    /// `directOutput` (the [N, O, oh·ow] output) when given, without calling `plane`, else into
    /// scratch. `columns`: room to keep the unfolded input for the backward pass (`conv2d`).
    static func convForwardPlanes(
        _ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: Conv2dGeometry,
        columns saved: UnsafeMutablePointer<Float>? = nil, directOutput: UnsafeMutablePointer<Float>? = nil,
        plane: (_ values: UnsafeMutablePointer<Float>, _ index: Int, _ bias: Float?) -> Void
    ) {
        precondition(x.shape == g.inputShape && weight.shape == g.weightShape, "conv2d: tensors do not match \(g)")
        precondition(bias == nil || bias!.shape == [g.outChannels], "conv2d: bias must be [\(g.outChannels)]")
        let n = g.batch
        guard n > 0, g.outputShape.count > 0 else { return }
        let chunks = Parallel.chunkCount(n)
        let pc = g.columnPixels, outC = g.outChannels, outImage = outC * g.outPixels
        let block = min(convBlockImages(g), Parallel.chunkRange(0, of: chunks, n: n).count)
        let colFloats = g.isPointwise || saved != nil ? 0 : Scratch.stride(g.columnFloatsPerImage * block)
        let outFloats = directOutput != nil && block == 1 && !g.unfoldsWide ? 0 : Scratch.stride(outC * pc * block)
        let chunkStride = colFloats + outFloats + Scratch.stride(g.paddedImageFloats)
        let px = x.data, pw = weight.data, pb = bias?.data
        Scratch.withFloats(chunkStride * chunks) { scratch in
            Parallel.forEachChunk(n) { chunk, range in
                let col = scratch + chunk * chunkStride, tmp = col + colFloats
                let padded = paddedImageScratch(tmp + outFloats, g)
                for start in stride(from: range.lowerBound, to: range.upperBound, by: block) {
                    let nb = min(block, range.upperBound - start), cols = nb * pc
                    let columns = blockColumns(px, start: start, count: nb, g, saved: saved, scratch: col, padded: padded)
                    let direct = nb == 1 && !g.unfoldsWide
                    let target = direct ? directOutput.map { $0 + start * outImage } ?? tmp : tmp
                    if direct, let pb {
                        for o in 0..<outC { (target + o * pc).update(repeating: pb[o], count: pc) }
                    }
                    convMultiply(pw, columns, columnCount: cols, g, accumulate: direct && pb != nil, into: target)
                    if direct && directOutput != nil { continue }
                    for b in 0..<nb {
                        for o in 0..<outC { plane(tmp + o * cols + b * pc, (start + b) * outC + o, direct ? nil : pb?[o] ?? 0) }
                    }
                }
            }
        }
    }
}

extension Tensor {
    /// The geometries of a fused convolution followed by a pooling op `poolOp`, validated.
    func fusedGeometries(
        weight: Tensor, stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int), groups: Int,
        poolOp: String, poolKernel: (Int, Int), poolStride: (Int, Int)?, poolPadding: (Int, Int)
    ) -> (conv: Conv2dGeometry, pool: Pool2dGeometry) {
        let g = validGeometry {
            try Conv2dGeometry(input: shape, weight: weight.shape, stride: stride, padding: padding, dilation: dilation, groups: groups)
        }
        let pg = validGeometry {
            try Pool2dGeometry(op: poolOp, input: g.outputShape, kernel: poolKernel, stride: poolStride, padding: poolPadding)
        }
        return (g, pg)
    }
}
