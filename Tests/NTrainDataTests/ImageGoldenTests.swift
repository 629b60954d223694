import Foundation
import XCTest
@testable import NTrainData

/// The image decoders, channel conversion and resize against PIL and PyTorch
/// (scripts/golden_images.py wrote the fixtures and their values).
final class ImageGoldenTests: XCTestCase {
    struct Golden: Decodable {
        let shape: [Int]
        let pixels: [Int]
    }

    static let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    static let golden: [String: Golden] = {
        let data = try! Data(contentsOf: fixtures.appendingPathComponent("images_golden.json"))
        return try! JSONDecoder().decode([String: Golden].self, from: data)
    }()

    private func decode(_ name: String) throws -> DecodedImage {
        try ImageDecoder.decode(path: Self.fixtures.appendingPathComponent(name).path, dropAlpha: true)
    }

    private func assertMatches(_ image: DecodedImage, _ key: String, tolerance: Int, file: StaticString = #filePath, line: UInt = #line) {
        let g = Self.golden[key]!
        XCTAssertEqual([image.channels, image.height, image.width], g.shape, key, file: file, line: line)
        guard image.pixels.count == g.pixels.count else { return XCTFail("\(key): size", file: file, line: line) }
        let worst = zip(image.pixels, g.pixels).map { abs(Int($0) - $1) }.max() ?? 0
        let off = zip(image.pixels, g.pixels).filter { $0 != UInt8($1) }.count
        XCTAssertLessThanOrEqual(worst, tolerance, "\(key): \(off) of \(g.pixels.count) values differ, by at most \(worst)", file: file, line: line)
    }

    func testJPEGDecodesAsPIL() throws {
        // Both are libjpeg-turbo with its default (islow) IDCT and fancy upsampling: the same bytes.
        for name in ["rgb.jpg", "gray.jpg", "progressive.jpg"] { assertMatches(try decode(name), name, tolerance: 0) }
    }

    func testPNGWithAlphaOrPaletteBecomesRGBAsPILConvert() throws {
        assertMatches(try decode("alpha.png"), "alpha.png", tolerance: 0)
        assertMatches(try decode("palette.png"), "palette.png", tolerance: 0)
        XCTAssertThrowsError(try ImageDecoder.decode(path: Self.fixtures.appendingPathComponent("alpha.png").path)) { error in
            XCTAssertTrue("\(error)".contains("alpha channel"), "\(error)")
        }
    }

    func testRGBToGrayIsPILLuma() throws {
        assertMatches(try XCTUnwrap(try decode("rgb.jpg").converted(toChannels: 1)), "rgb.jpg gray", tolerance: 0)
        let gray = try decode("gray.jpg")
        let rgb = try XCTUnwrap(gray.converted(toChannels: 3))
        XCTAssertEqual(rgb.pixels, gray.pixels + gray.pixels + gray.pixels)
    }

    func testResizeIsTorchvisionsAntialiasedBilinear() throws {
        let image = try decode("rgb.jpg")
        // PyTorch computes the weights in float32 and sums in its own order; a value on a .5
        // boundary may round the other way.
        for (w, h) in [(16, 12), (50, 37), (28, 28)] {
            assertMatches(image.resized(height: h, width: w), "rgb.jpg resized \(w)x\(h)", tolerance: 1)
        }
        XCTAssertEqual(image.resized(height: 30, width: 40), image)
    }

    func testDamagedJPEGIsRefusedWithLibjpegsReason() throws {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("rgb.jpg"))
        for damaged in [data.prefix(data.count - 300), data.prefix(20), data.prefix(4), Data([0xFF, 0xD8, 0xFF, 0xE0]) + Data(repeating: 0x41, count: 64)] {
            XCTAssertThrowsError(try ImageDecoder.decode(damaged, name: "bad.jpg")) { error in
                XCTAssertTrue("\(error)".contains("bad.jpg") && "\(error)".contains("JPEG"), "\(error)")
            }
        }
    }
}
