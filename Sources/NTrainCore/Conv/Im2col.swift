extension Kernels {
    /// Range of output columns `ox` whose input column `ox·stride + offset` lies in 0..<width.
    @inline(__always)
    static func validOutputRange(offset: Int, stride: Int, width: Int, outWidth: Int) -> (lo: Int, hi: Int) {
        let lo = offset >= 0 ? 0 : min(outWidth, (-offset + stride - 1) / stride)
        let last = width - 1 - offset
        let hi = last < 0 ? 0 : min(outWidth, last / stride + 1)
        return (lo, max(lo, hi))
    }

    /// Unfolds one image [C, H, W] into the im2col matrix [C·kh·kw, oh·ow]: row (c, ki, kj) holds
    /// the input pixel each output pixel sees through kernel tap (ki, kj), zero where it is padding.
    /// Rows are `rowStride` floats apart (default oh·ow), so several images can sit side by side.
    public static func im2col(
        _ image: UnsafePointer<Float>, _ g: Conv2dGeometry, into col: UnsafeMutablePointer<Float>, rowStride: Int? = nil
    ) {
        let h = g.height, w = g.width, oh = g.outHeight, ow = g.outWidth, sy = g.strideY, sx = g.strideX
        let p = rowStride ?? oh * ow
        for c in 0..<g.inChannels {
            let plane = image + c * h * w
            for ki in 0..<g.kernelHeight {
                let offY = ki * g.dilationY - g.padY
                for kj in 0..<g.kernelWidth {
                    let offX = kj * g.dilationX - g.padX
                    let row = col + ((c * g.kernelHeight + ki) * g.kernelWidth + kj) * p
                    let (lo, hi) = validOutputRange(offset: offX, stride: sx, width: w, outWidth: ow)
                    if sx == 1 && lo == 0 && hi == ow && offY >= 0 && (oh - 1) * sy + offY < h {
                        // No padding in reach of this tap: plain row copies.
                        var src = plane + offY * w + offX, dst = row
                        for _ in 0..<oh {
                            copyRow(dst, src, ow)
                            src += sy * w
                            dst += ow
                        }
                        continue
                    }
                    for oy in 0..<oh {
                        let dst = row + oy * ow
                        let iy = oy * sy + offY
                        if iy < 0 || iy >= h {
                            dst.update(repeating: 0, count: ow)
                            continue
                        }
                        for ox in 0..<lo { dst[ox] = 0 }
                        for ox in hi..<ow { dst[ox] = 0 }
                        let src = plane + iy * w + offX
                        if sx == 1 {
                            copyRow(dst + lo, src + lo, hi - lo)
                        } else {
                            for ox in lo..<hi { dst[ox] = src[ox * sx] }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `im2col`: adds every entry of `col` [C·kh·kw, oh·ow] into the input pixel it
    /// came from. `image` [C, H, W] must be initialised (zero it for a plain gradient).
    /// Rows of `col` are `rowStride` floats apart (default oh·ow).
    public static func col2im(
        _ col: UnsafePointer<Float>, _ g: Conv2dGeometry, into image: UnsafeMutablePointer<Float>, rowStride: Int? = nil
    ) {
        let h = g.height, w = g.width, oh = g.outHeight, ow = g.outWidth, sy = g.strideY, sx = g.strideX
        let p = rowStride ?? oh * ow
        for c in 0..<g.inChannels {
            let plane = image + c * h * w
            for ki in 0..<g.kernelHeight {
                let offY = ki * g.dilationY - g.padY
                for kj in 0..<g.kernelWidth {
                    let offX = kj * g.dilationX - g.padX
                    let row = col + ((c * g.kernelHeight + ki) * g.kernelWidth + kj) * p
                    let (lo, hi) = validOutputRange(offset: offX, stride: sx, width: w, outWidth: ow)
                    guard lo < hi else { continue }
                    if sx == 1 && lo == 0 && hi == ow && offY >= 0 && (oh - 1) * sy + offY < h {
                        var src = row, dst = plane + offY * w + offX
                        for _ in 0..<oh {
                            addRow(dst, src, ow)
                            src += ow
                            dst += sy * w
                        }
                        continue
                    }
                    for oy in 0..<oh {
                        let iy = oy * sy + offY
                        if iy < 0 || iy >= h { continue }
                        let src = row + oy * ow
                        let dst = plane + iy * w + offX
                        if sx == 1 {
                            addRow(dst + lo, src + lo, hi - lo)
                        } else {
                            for ox in lo..<hi { dst[ox * sx] += src[ox] }
                        }
                    }
                }
            }
        }
    }
}
