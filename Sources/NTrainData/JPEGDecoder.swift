import CJPEG
import Foundation

extension ImageDecoder {
    /// Baseline and progressive JPEG through libjpeg-turbo: grayscale stays one channel, YCbCr and
    /// RGB become RGB; CMYK is refused. The size is checked from the header before any pixel is
    /// decoded, so a hostile header cannot allocate gigabytes.
    public static func decodeJPEG(_ data: Data, name: String) throws -> DecodedImage {
        var error = [CChar](repeating: 0, count: 256)
        func message() -> String { String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        var w: Int32 = 0, h: Int32 = 0, components: Int32 = 0
        let info = data.withUnsafeBytes { raw in
            ntrain_jpeg_info(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, &w, &h, &components, &error, error.count)
        }
        guard info == 0 else { throw DatasetError.invalidImage(path: name, reason: "JPEG: " + message()) }
        guard components == 1 || components == 3 else {
            throw DatasetError.invalidImage(path: name, reason: "JPEG with \(components) colour components (CMYK?) is not supported; save it as RGB or grayscale")
        }
        let (width, height, channels) = (Int(w), Int(h), Int(components))
        guard width > 0, height > 0, width * height <= maxPixels else {
            throw DatasetError.invalidImage(path: name, reason: "JPEG size \(width)x\(height) is out of range (at most \(maxPixels) pixels)")
        }
        var interleaved = [UInt8](repeating: 0, count: width * height * channels)
        let done = data.withUnsafeBytes { raw in
            interleaved.withUnsafeMutableBufferPointer { out in
                ntrain_jpeg_decode(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, out.baseAddress, w, h, components, &error, error.count)
            }
        }
        guard done == 0 else { throw DatasetError.invalidImage(path: name, reason: "JPEG: " + message()) }
        return DecodedImage(interleaved: interleaved, channels: channels, height: height, width: width)
    }
}

extension DecodedImage {
    /// Planar `[C, H, W]` from interleaved samples, `stride` per pixel of which the first `channels`
    /// are kept (a stride above `channels` drops an alpha channel).
    init(interleaved: [UInt8], stride: Int? = nil, channels: Int, height: Int, width: Int) {
        let stride = stride ?? channels
        guard stride > 1 else {
            self.init(channels: 1, height: height, width: width, pixels: interleaved)
            return
        }
        let plane = width * height
        var planar = [UInt8](repeating: 0, count: plane * channels)
        for i in 0..<plane {
            for c in 0..<channels { planar[c * plane + i] = interleaved[i * stride + c] }
        }
        self.init(channels: channels, height: height, width: width, pixels: planar)
    }
}
