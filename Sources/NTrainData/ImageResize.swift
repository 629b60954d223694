import Foundation

extension DecodedImage {
    /// The image resized to `height` x `width` with bilinear interpolation and antialiasing, as
    /// torchvision's `Resize((height, width), antialias=True)` and PIL's `resize(BILINEAR)`: each
    /// output pixel is the triangle-filter average of the source pixels under it, the filter
    /// widened by the scale factor when shrinking. The aspect ratio is not kept (a fixed size in,
    /// as the model needs). Computed in double, rounded to the nearest byte.
    public func resized(height outHeight: Int, width outWidth: Int) -> DecodedImage {
        precondition(outHeight > 0 && outWidth > 0, "resize to a positive size")
        if outHeight == height && outWidth == width { return self }
        let horizontal = Self.filter(from: width, to: outWidth)
        let vertical = Self.filter(from: height, to: outHeight)
        var out = [UInt8](repeating: 0, count: channels * outHeight * outWidth)
        var rows = [Double](repeating: 0, count: height * outWidth)
        for c in 0..<channels {
            let plane = c * height * width
            for y in 0..<height {
                for (x, tap) in horizontal.enumerated() {
                    var sum = 0.0
                    for (k, w) in tap.weights.enumerated() { sum += w * Double(pixels[plane + y * width + tap.start + k]) }
                    rows[y * outWidth + x] = sum
                }
            }
            let target = c * outHeight * outWidth
            for (y, tap) in vertical.enumerated() {
                for x in 0..<outWidth {
                    var sum = 0.0
                    for (k, w) in tap.weights.enumerated() { sum += w * rows[(tap.start + k) * outWidth + x] }
                    out[target + y * outWidth + x] = UInt8(max(0, min(255, sum.rounded())))
                }
            }
        }
        return DecodedImage(channels: channels, height: outHeight, width: outWidth, pixels: out)
    }

    /// The first source index and the normalised weights of each output index (PIL's
    /// `precompute_coeffs`, PyTorch's `_compute_indices_weights_aa`).
    static func filter(from inSize: Int, to outSize: Int) -> [(start: Int, weights: [Double])] {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filterScale  // the triangle's half-width (1) times the scale
        return (0..<outSize).map { i in
            let center = (Double(i) + 0.5) * scale
            let lo = max(Int(center - support + 0.5), 0)
            let hi = min(Int(center + support + 0.5), inSize)
            var weights = (lo..<hi).map { j in max(0, 1 - abs((Double(j) - center + 0.5) / filterScale)) }
            let total = weights.reduce(0, +)
            if total > 0 { weights = weights.map { $0 / total } }
            return (lo, weights)
        }
    }

    /// The image with `channels` channels: RGB to gray with ITU-R 601-2 luma in PIL's fixed point
    /// (`convert("L")`: L = (19595 R + 38470 G + 7471 B + 2^15) >> 16), gray to RGB by repeating the
    /// plane (`convert("RGB")`). Nil for any other pair.
    public func converted(toChannels target: Int) -> DecodedImage? {
        if target == channels { return self }
        let plane = height * width
        switch (channels, target) {
        case (3, 1):
            var gray = [UInt8](repeating: 0, count: plane)
            for i in 0..<plane {
                let r = UInt32(pixels[i]), g = UInt32(pixels[plane + i]), b = UInt32(pixels[2 * plane + i])
                gray[i] = UInt8((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16)
            }
            return DecodedImage(channels: 1, height: height, width: width, pixels: gray)
        case (1, 3):
            return DecodedImage(channels: 3, height: height, width: width, pixels: pixels + pixels + pixels)
        default:
            return nil
        }
    }
}
