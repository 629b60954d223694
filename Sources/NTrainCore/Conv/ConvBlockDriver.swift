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
        let blocks = ConvBlocks(n: n, g)
        let block = blocks.size
        let pc = g.columnPixels, outC = g.outChannels, outImage = outC * g.outPixels
        let colFloats = g.isPointwise || saved != nil ? 0 : Scratch.stride(g.columnFloatsPerImage * block)
        let outFloats = directOutput != nil && block == 1 && !g.unfoldsWide ? 0 : Scratch.stride(outC * pc * block)
        let slotStride = colFloats + outFloats + Scratch.stride(g.paddedImageFloats)
        let px = x.data, pw = weight.data, pb = bias?.data
        Scratch.withFloats(slotStride * Parallel.slotCount(tasks: blocks.count)) { scratch in
            Parallel.forEachTask(blocks.count) { task, slot in
                let col = scratch + slot * slotStride, tmp = col + colFloats
                let padded = paddedImageScratch(tmp + outFloats, g)
                let (start, nb) = blocks[task]
                let cols = nb * pc
                let columns = blockColumns(px, start: start, count: nb, g, saved: saved, scratch: col, padded: padded)
                let direct = nb == 1 && !g.unfoldsWide
                let target = direct ? directOutput.map { $0 + start * outImage } ?? tmp : tmp
                if direct, let pb {
                    for o in 0..<outC { (target + o * pc).update(repeating: pb[o], count: pc) }
                }
                convMultiply(pw, columns, columnCount: cols, g, accumulate: direct && pb != nil, into: target)
                if direct && directOutput != nil { return }
                for b in 0..<nb {
                    for o in 0..<outC { plane(tmp + o * cols + b * pc, (start + b) * outC + o, direct ? nil : pb?[o] ?? 0) }
                }
            }
        }
    }
}

/// The blocks of images a convolution unfolds together: `convBlockImages` images at most, laid
/// out inside each thread-count chunk of the batch (so the blocks, and with them every result,
/// depend only on the batch and the thread count, never on which thread runs a block).
struct ConvBlocks {
    let size: Int
    /// First image of each block, in order.
    private let starts: [Int]
    /// First block of each chunk, then the block count.
    private let chunkStarts: [Int]
    private let n: Int

    init(n: Int, _ g: Conv2dGeometry) {
        let chunks = Parallel.chunkCount(n)
        size = min(Kernels.convBlockImages(g), Parallel.chunkRange(0, of: chunks, n: n).count)
        var starts: [Int] = [], chunkStarts: [Int] = []
        for c in 0..<chunks {
            chunkStarts.append(starts.count)
            let r = Parallel.chunkRange(c, of: chunks, n: n)
            starts.append(contentsOf: stride(from: r.lowerBound, to: r.upperBound, by: size))
        }
        chunkStarts.append(starts.count)
        self.starts = starts
        self.chunkStarts = chunkStarts
        self.n = n
    }

    var count: Int { starts.count }

    /// First image and image count of block `i`.
    subscript(i: Int) -> (start: Int, count: Int) {
        let start = starts[i]
        let end = i + 1 < starts.count ? starts[i + 1] : n
        return (start, min(size, end - start))
    }

    /// Number of thread-count chunks of the batch.
    var chunkCount: Int { chunkStarts.count - 1 }

    /// The blocks of chunk `c`.
    func blocks(ofChunk c: Int) -> Range<Int> { chunkStarts[c]..<chunkStarts[c + 1] }
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
