import CPNG
import Foundation

/// A decoded 8-bit image, planar `[C, H, W]`.
public struct DecodedImage: Equatable {
    public let channels: Int
    public let height: Int
    public let width: Int
    public let pixels: [UInt8]
}

/// PNG (through libpng's simplified API), JPEG (libjpeg-turbo) and binary PGM (P5, decoded here) readers.
public enum ImageDecoder {
    /// Refuse images larger than this many pixels (a hostile header must not allocate gigabytes).
    public static let maxPixels = 1 << 26

    /// Decodes a PNG, JPEG or PGM file, chosen by content (PNG signature, JPEG's SOI marker, "P5").
    /// `dropAlpha` removes a PNG's alpha channel (PIL's `convert("RGB")`) instead of refusing it.
    public static func decode(path: String, dropAlpha: Bool = false) throws -> DecodedImage {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError.io(path: path, reason: "cannot read image file")
        }
        return try decode(data, name: path, dropAlpha: dropAlpha)
    }

    public static func decode(_ data: Data, name: String, dropAlpha: Bool = false) throws -> DecodedImage {
        if data.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return try decodePNG(data, name: name, dropAlpha: dropAlpha) }
        if data.starts(with: [0xFF, 0xD8, 0xFF]) { return try decodeJPEG(data, name: name) }
        if data.starts(with: [0x50, 0x35]) { return try decodePGM(data, name: name) }
        throw DatasetError.invalidImage(path: name, reason: "neither a PNG, a JPEG nor a binary PGM (P5) file")
    }

    /// File extensions the decoders read (for listing a folder of images).
    public static let fileExtensions: Set<String> = ["png", "jpg", "jpeg", "pgm"]

    /// 8-bit grayscale or RGB PNG (palette images are expanded to RGB). Images with an alpha channel
    /// are refused rather than silently changed unless `dropAlpha`; 16-bit samples are refused.
    public static func decodePNG(_ data: Data, name: String, dropAlpha: Bool = false) throws -> DecodedImage {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        let ok = data.withUnsafeBytes { raw in png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count) }
        guard ok != 0 else { throw DatasetError.invalidImage(path: name, reason: "PNG: " + message(&image)) }
        let format = image.format
        if format & PNG_FORMAT_FLAG_ALPHA != 0 && !dropAlpha {
            throw DatasetError.invalidImage(path: name, reason: "PNG has an alpha channel; save it as 8-bit grayscale or RGB")
        }
        if format & PNG_FORMAT_FLAG_LINEAR != 0 {
            throw DatasetError.invalidImage(path: name, reason: "PNG has 16-bit samples; save it with 8 bits per sample")
        }
        let channels = format & PNG_FORMAT_FLAG_COLOR != 0 ? 3 : 1
        let (w, h) = (Int(image.width), Int(image.height))
        guard w > 0, h > 0, w * h <= maxPixels else {
            throw DatasetError.invalidImage(path: name, reason: "PNG size \(w)x\(h) is out of range (at most \(maxPixels) pixels)")
        }
        // With alpha kept for the read and dropped here: libpng would composite it onto black.
        let alpha = format & PNG_FORMAT_FLAG_ALPHA != 0 ? 1 : 0
        let stored = channels + alpha
        image.format = png_uint_32((channels == 3 ? PNG_FORMAT_FLAG_COLOR : 0) | (alpha == 1 ? PNG_FORMAT_FLAG_ALPHA : 0))
        var interleaved = [UInt8](repeating: 0, count: w * h * stored)
        let done = data.withUnsafeBytes { _ in
            interleaved.withUnsafeMutableBytes { out in
                png_image_finish_read(&image, nil, out.baseAddress, png_int_32(w * stored), nil)
            }
        }
        guard done != 0 else { throw DatasetError.invalidImage(path: name, reason: "PNG: " + message(&image)) }
        return DecodedImage(interleaved: interleaved, stride: stored, channels: channels, height: h, width: w)
    }

    private static func message(_ image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// Binary PGM: `P5 <width> <height> <maxval>` (whitespace and # comments between), one
    /// whitespace byte, then width*height samples of one byte (maxval < 256).
    public static func decodePGM(_ data: Data, name: String) throws -> DecodedImage {
        let bytes = [UInt8](data)
        var pos = 2
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C }
        func number(_ what: String) throws -> Int {
            while pos < bytes.count {
                if isSpace(bytes[pos]) { pos += 1 } else if bytes[pos] == UInt8(ascii: "#") {
                    while pos < bytes.count && bytes[pos] != 0x0A { pos += 1 }
                } else { break }
            }
            var value = 0, digits = 0
            while pos < bytes.count, bytes[pos] >= 0x30, bytes[pos] <= 0x39 {
                value = value * 10 + Int(bytes[pos] - 0x30)
                digits += 1
                pos += 1
                if digits > 9 { throw DatasetError.invalidImage(path: name, reason: "PGM \(what) is too large") }
            }
            guard digits > 0 else { throw DatasetError.invalidImage(path: name, reason: "PGM header: expected the \(what) as a decimal number") }
            return value
        }
        let w = try number("width"), h = try number("height"), maxval = try number("maximum value")
        guard w > 0, h > 0, w * h <= maxPixels else {
            throw DatasetError.invalidImage(path: name, reason: "PGM size \(w)x\(h) is out of range")
        }
        guard maxval > 0, maxval < 256 else {
            throw DatasetError.invalidImage(path: name, reason: "PGM maximum value \(maxval) is not 1...255 (16-bit PGM is not supported)")
        }
        guard pos < bytes.count, isSpace(bytes[pos]) else {
            throw DatasetError.invalidImage(path: name, reason: "PGM header must end with one whitespace byte")
        }
        pos += 1
        guard bytes.count - pos >= w * h else {
            throw DatasetError.invalidImage(path: name, reason: "PGM truncated: \(w)x\(h) needs \(w * h) pixel bytes, found \(bytes.count - pos)")
        }
        var pixels = Array(bytes[pos..<pos + w * h])
        if maxval != 255 {  // rescale to the full 8-bit range
            for i in 0..<pixels.count {
                guard Int(pixels[i]) <= maxval else {
                    throw DatasetError.invalidImage(path: name, reason: "PGM sample \(pixels[i]) exceeds the maximum value \(maxval)")
                }
                pixels[i] = UInt8((Int(pixels[i]) * 255 + maxval / 2) / maxval)
            }
        }
        return DecodedImage(channels: 1, height: h, width: w, pixels: pixels)
    }
}
