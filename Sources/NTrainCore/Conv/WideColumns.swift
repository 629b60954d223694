extension Kernels {
    /// Stride-1 convolutions unfold "wide" when the padded width is at most this many times the
    /// output width (tests set it to 0 or ∞ to force either path). Wide columns make the GEMM
    /// that much wider: measured on LeNet, conv1 (32 → 28, ratio 1.14) wide sped inference up
    /// by 6%, conv2 (14 → 10, ratio 1.4) wide slowed training by 7%.
    nonisolated(unsafe) static var wideColumnsMaxWidthRatio = 1.2
}

extension Conv2dGeometry {
    /// Whether im2col unfolds whole padded rows ("wide" columns, see `Kernels.im2colWide`).
    var unfoldsWide: Bool {
        strideY == 1 && strideX == 1 && dilationY == 1 && dilationX == 1 && !isPointwise && kernelWidth > 1
            && Double(paddedWidth) <= Kernels.wideColumnsMaxWidthRatio * Double(outWidth)
    }

    var paddedHeight: Int { height + 2 * padY }
    var paddedWidth: Int { width + 2 * padX }
    var isPadded: Bool { padY > 0 || padX > 0 }

    /// Distance between output rows in the unfolded columns: the padded width when wide, else ow.
    var columnRowStride: Int { unfoldsWide ? paddedWidth : outWidth }

    /// Columns per image in the unfolded matrix: oh·`columnRowStride`.
    var columnPixels: Int { outHeight * columnRowStride }

    /// Floats of unfolded columns per image (what `conv2d(columns:)` keeps for the backward pass).
    public var columnFloatsPerImage: Int { groupColumnRows * groups * columnPixels }

    /// Floats of the zero-padded copy of one image that wide unfolding works from (0 unpadded).
    var paddedImageFloats: Int { unfoldsWide && isPadded ? inChannels * paddedHeight * paddedWidth : 0 }
}

extension Kernels {
    /// im2col for stride-1, undilated convolutions by whole rows: in a zero-padded image
    /// [C, H+2p, W+2p] (built in the scratch `padded` when the geometry pads), the
    /// input pixel output pixel (oy, ox) sees through tap (ki, kj) is at flat offset
    /// (ki·Wp + kj) + (oy·Wp + ox). So each row (c, ki, kj) of the columns, indexed by
    /// oy·Wp + ox, is one contiguous copy of the plane. Columns ox ≥ ow of each output row are
    /// extra: the GEMM computes them and they are dropped (their output gradient is zero). The
    /// last row's extra columns are zeroed, as the copy would run past the plane.
    static func im2colWide(_ image: UnsafePointer<Float>, _ g: Conv2dGeometry, padded: UnsafeMutablePointer<Float>?,
                           into col: UnsafeMutablePointer<Float>, rowStride: Int) {
        let hp = g.paddedHeight, wp = g.paddedWidth, ow = g.outWidth
        let plane = hp * wp, length = (g.outHeight - 1) * wp + ow
        var src = image
        if g.isPadded, let padded {
            padded.update(repeating: 0, count: g.inChannels * plane)
            for c in 0..<g.inChannels {
                for y in 0..<g.height {
                    (padded + c * plane + (y + g.padY) * wp + g.padX).update(from: image + (c * g.height + y) * g.width, count: g.width)
                }
            }
            src = UnsafePointer(padded)
        }
        for c in 0..<g.inChannels {
            for ki in 0..<g.kernelHeight {
                for kj in 0..<g.kernelWidth {
                    let row = col + ((c * g.kernelHeight + ki) * g.kernelWidth + kj) * rowStride
                    row.update(from: src + c * plane + ki * wp + kj, count: length)
                    (row + length).update(repeating: 0, count: wp - ow)
                }
            }
        }
    }

    /// The adjoint of `im2colWide`: adds each row of `col` back over the (padded) plane, then
    /// crops the padding. Unpadded, `image` must be initialised (zero it for a plain gradient);
    /// padded, it is overwritten and `padded` is scratch for one padded image.
    static func col2imWide(_ col: UnsafePointer<Float>, _ g: Conv2dGeometry, padded: UnsafeMutablePointer<Float>?,
                           into image: UnsafeMutablePointer<Float>, rowStride: Int) {
        let hp = g.paddedHeight, wp = g.paddedWidth
        let plane = hp * wp, length = (g.outHeight - 1) * wp + g.outWidth
        var dst = image
        if g.isPadded, let padded {
            padded.update(repeating: 0, count: g.inChannels * plane)
            dst = padded
        }
        for c in 0..<g.inChannels {
            for ki in 0..<g.kernelHeight {
                for kj in 0..<g.kernelWidth {
                    let row = col + ((c * g.kernelHeight + ki) * g.kernelWidth + kj) * rowStride
                    let d = dst + c * plane + ki * wp + kj
                    for i in 0..<length { d[i] += row[i] }
                }
            }
        }
        if g.isPadded, let padded {
            for c in 0..<g.inChannels {
                for y in 0..<g.height {
                    (image + (c * g.height + y) * g.width).update(from: padded + c * plane + (y + g.padY) * wp + g.padX, count: g.width)
                }
            }
        }
    }
}
