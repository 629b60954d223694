import NTrainCore
@testable import NTrainData
import XCTest

final class TransformTests: XCTestCase {
    /// A 2-channel 3x4 image with distinct values.
    let image: [UInt8] = (0..<24).map { UInt8($0 * 10) }

    private func run(_ t: [Transform], training: Bool, seed: UInt64 = 1) throws -> (shape: [Int], out: [Float]) {
        let p = try TransformPipeline(t, channels: 2, height: 3, width: 4)
        let shape = p.outputShape(training: training)
        var out = [Float](repeating: .nan, count: shape.reduce(1, *))
        var g = RandomGenerator(seed: seed)
        image.withUnsafeBufferPointer { src in out.withUnsafeMutableBufferPointer { p.apply(src.baseAddress!, into: $0.baseAddress!, training: training, generator: &g) } }
        return (shape, out)
    }

    func testIdentityScaleAndNormalize() throws {
        XCTAssertEqual(try run([], training: true).out, image.map(Float.init))
        XCTAssertEqual(try run([.scale(0.5), .toCHW], training: false).out, image.map { Float($0) * 0.5 })
        let unit = try run([.normalize(mean: [0.5, 0.25], std: [0.5, 2], units: .unit)], training: false).out
        for i in 0..<24 {
            let c = i / 12
            let expected = (Float(image[i]) / 255 - [0.5, 0.25][c]) / [0.5, 2][c]
            XCTAssertEqual(unit[i], expected)
        }
        let pixel = try run([.normalize(mean: [100], std: [50], units: .pixel)], training: false).out
        XCTAssertEqual(pixel[5], (50 - 100) / 50)
        XCTAssertEqual(NormalizeUnits.infer(mean: [0.1307], std: [0.3081]), .unit)
        XCTAssertEqual(NormalizeUnits.infer(mean: [33.3], std: [78.6]), .pixel)
    }

    func testPadFillIsNormalizedLikeTorchvisionOrder() throws {
        // Pad (fill 0 in pixel units) then normalize: the border becomes (0 - 100) / 50 = -2.
        let r = try run([.pad(amount: 1, fill: 0), .normalize(mean: [100], std: [50], units: .pixel)], training: false)
        XCTAssertEqual(r.shape, [2, 5, 6])
        XCTAssertEqual(r.out[0], -2)
        XCTAssertEqual(r.out[1 * 6 + 1], (0 - 100) / 50)  // first real pixel of channel 0
        XCTAssertEqual(r.out[1 * 6 + 2], (10 - 100) / 50)
        XCTAssertEqual(r.out[30 + 1 * 6 + 1], (120 - 100) / 50)  // channel 1 starts at value 120
        // Normalize then pad: the border is the fill itself.
        let r2 = try run([.normalize(mean: [100], std: [50], units: .pixel), .pad(amount: 1, fill: 7)], training: false)
        XCTAssertEqual(r2.out[0], 7)
        XCTAssertThrowsError(try run([.pad(amount: 1, fill: 0), .scale(2), .pad(amount: 1, fill: 0)], training: false))
    }

    func testRandomCropAndFlipMatchNaiveReference() throws {
        let t: [Transform] = [.randomCrop(height: 3, width: 4, padding: 2), .randomHorizontalFlip(p: 0.5), .scale(2)]
        for seed in 0..<40 as Range<UInt64> {
            let fused = try run(t, training: true, seed: seed).out
            // Reference: same draws, done step by step on a padded float copy.
            var g = RandomGenerator(seed: seed)
            let oy = g.int(below: 7 - 3 + 1), ox = g.int(below: 8 - 4 + 1)
            let flip = g.uniform() < 0.5
            var expected = [Float]()
            for c in 0..<2 {
                for y in 0..<3 {
                    for x in 0..<4 {
                        let xx = flip ? 3 - x : x
                        let sy = y + oy - 2, sx = xx + ox - 2
                        let v: Float = (0..<3).contains(sy) && (0..<4).contains(sx) ? Float(image[c * 12 + sy * 4 + sx]) : 0
                        expected.append(v * 2)
                    }
                }
            }
            XCTAssertEqual(fused, expected, "seed \(seed)")
        }
    }

    func testTrainingOnlyTransformsAreSkippedAtEval() throws {
        let t: [Transform] = [.randomCrop(height: 3, width: 4, padding: 4), .randomHorizontalFlip(p: 1)]
        XCTAssertEqual(try run(t, training: false).out, image.map(Float.init))
        XCTAssertTrue(t.allSatisfy(\.isTrainingOnly))
        // A smaller crop becomes the centred window at eval.
        let centre = try run([.randomCrop(height: 1, width: 2, padding: 0)], training: false)
        XCTAssertEqual(centre.shape, [2, 1, 2])
        XCTAssertEqual(centre.out, [50, 60, 170, 180])
        let flipped = try run([.randomHorizontalFlip(p: 1)], training: true).out
        XCTAssertEqual(Array(flipped[0..<4]), [30, 20, 10, 0])
    }

    func testInvalidParameters() {
        XCTAssertThrowsError(try run([.normalize(mean: [1, 2, 3], std: [1], units: .pixel)], training: true)) { XCTAssertTrue("\($0)".contains("3 values for 2 channels")) }
        XCTAssertThrowsError(try run([.normalize(mean: [1], std: [0], units: .pixel)], training: true))
        XCTAssertThrowsError(try run([.randomCrop(height: 9, width: 9, padding: 0)], training: true)) { XCTAssertTrue("\($0)".contains("larger than")) }
        XCTAssertThrowsError(try run([.randomHorizontalFlip(p: 2)], training: true))
    }
}
