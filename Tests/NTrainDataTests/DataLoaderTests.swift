import Foundation
import NTrainCore
@testable import NTrainData
import XCTest

final class DataLoaderTests: XCTestCase {
    let data = try! SyntheticDatasets.randomImages(count: 103, channels: 3, height: 8, width: 8, classes: 10, seed: 11)
    let augment: [Transform] = [.randomCrop(height: 8, width: 8, padding: 2), .randomHorizontalFlip(p: 0.5),
                                .normalize(mean: [0.5], std: [0.25], units: .unit)]

    private func loader(prefetch: Bool = true, dropLast: Bool = false, seed: UInt64 = 5, shuffle: Bool = true) throws -> DataLoader {
        try DataLoader(images: data, transforms: augment, batchSize: 16, shuffle: shuffle, dropLast: dropLast, seed: seed,
                       training: true, prefetch: prefetch)
    }

    private func fingerprint(_ b: Batch) -> [Float] { b.inputs.scalars + (0..<b.targets.count).map { Float(b.targets.int32Data[$0]) } }

    func testOrderIsKeyedBySeedAndEpoch() throws {
        let l = try loader()
        XCTAssertEqual(l.order(epoch: 3), try loader().order(epoch: 3))
        XCTAssertNotEqual(l.order(epoch: 3), l.order(epoch: 4))
        XCTAssertNotEqual(l.order(epoch: 3), try loader(seed: 6).order(epoch: 3))
        XCTAssertEqual(l.order(epoch: 0).sorted(), Array(0..<103))
        XCTAssertEqual(try loader(shuffle: false).order(epoch: 9), Array(0..<103))
    }

    func testBatchesCoverEpochAndDropLast() throws {
        let l = try loader()
        let batches = Array(l.batches(epoch: 0))
        XCTAssertEqual(batches.count, 7)
        XCTAssertEqual(batches.last?.inputs.shape.dims, [7, 3, 8, 8])
        XCTAssertEqual(batches.flatMap(\.sampleIndices), l.order(epoch: 0))
        XCTAssertEqual(batches[0].targets.dtype, .int32)
        for (k, i) in batches[2].sampleIndices.enumerated() { XCTAssertEqual(batches[2].targets.int32Data[k], data.labels[i]) }
        let dropped = try loader(dropLast: true)
        XCTAssertEqual(dropped.batchesPerEpoch, 6)
        XCTAssertEqual(Array(dropped.batches(epoch: 0)).map { $0.inputs.shape.dims[0] }, Array(repeating: 16, count: 6))
        XCTAssertThrowsError(try DataLoader(images: data.prefix(3), batchSize: 4, shuffle: false, dropLast: true, seed: 0, training: true))
    }

    func testResumeMidEpochAndPrefetchGiveIdenticalBatches() throws {
        let full = Array(try loader().batches(epoch: 2)).map(fingerprint)
        let resumed = Array(try loader().batches(epoch: 2, startingAt: 4)).map(fingerprint)
        XCTAssertEqual(resumed, Array(full[4...]))
        let noPrefetch = Array(try loader(prefetch: false).batches(epoch: 2)).map(fingerprint)
        XCTAssertEqual(noPrefetch, full)
        XCTAssertEqual(fingerprint(try loader().batch(epoch: 2, index: 5)), full[5])
        // Different epochs augment differently even for the same sample positions.
        XCTAssertNotEqual(Array(try loader().batches(epoch: 3)).map(fingerprint), full)
    }

    func testTransformedValuesInBatch() throws {
        let l = try DataLoader(images: data, transforms: [.normalize(mean: [0.5], std: [0.25], units: .unit)], batchSize: 4,
                               shuffle: false, seed: 0, training: false)
        let b = l.batch(epoch: 0, index: 1)
        let values = b.inputs.scalars
        for j in [0, 100, 191, 767] {
            XCTAssertEqual(values[j], (Float(data.images[4 * 192 + j]) / 255 - 0.5) / 0.25)
        }
    }

    func testRegressionLoaderAndSyntheticLinear() throws {
        let d = try SyntheticDatasets.linear(count: 50, weights: [2], bias: 3, noiseStd: 0, seed: 1)
        for i in 0..<50 {
            XCTAssertEqual(d.targets[i], 2 * d.features[i] + 3, accuracy: 1e-5)
            XCTAssertTrue((-10...10).contains(d.features[i]))
        }
        let noisy = try SyntheticDatasets.linear(count: 20_000, weights: [2, -1], bias: 3, noiseStd: 1, seed: 2)
        var sum = 0.0, sq = 0.0
        for i in 0..<noisy.count {
            let r = Double(noisy.targets[i] - (2 * noisy.features[2 * i] - noisy.features[2 * i + 1] + 3))
            sum += r
            sq += r * r
        }
        XCTAssertEqual(sum / 20_000, 0, accuracy: 0.03)
        XCTAssertEqual((sq / 20_000).squareRoot(), 1, accuracy: 0.03)
        let l = try DataLoader(regression: d, batchSize: 8, shuffle: true, seed: 3, training: true)
        let b = l.batch(epoch: 0, index: 0)
        XCTAssertEqual(b.inputs.shape.dims, [8, 1])
        XCTAssertEqual(b.targets.shape.dims, [8, 1])
        XCTAssertEqual(b.targets.data[0], d.targets[b.sampleIndices[0]])
    }

    func testRandomImagesAndImageCSV() throws {
        XCTAssertEqual(data.images, try SyntheticDatasets.randomImages(count: 103, channels: 3, height: 8, width: 8, classes: 10, seed: 11).images)
        XCTAssertGreaterThan(Set(data.images).count, 250)
        XCTAssertEqual(Set(data.labels), Set(0..<10))
        let dir = TestData.tempDir(self)
        try TestData.png(width: 2, height: 2, colorType: 0, interleaved: [1, 2, 3, 4]).write(to: dir.appendingPathComponent("a.png"))
        try (Data("P5 2 2 255\n".utf8) + Data([5, 6, 7, 8])).write(to: dir.appendingPathComponent("b.pgm"))
        try Data("path,label\na.png,1\n\nb.pgm,0\n".utf8).write(to: dir.appendingPathComponent("list.csv"))
        let ds = try ImageCSVDataset.load(csvPath: dir.appendingPathComponent("list.csv").path, classes: 2)
        XCTAssertEqual(ds.labels, [1, 0])
        XCTAssertEqual(ds.images, [1, 2, 3, 4, 5, 6, 7, 8])
        try Data("a.png,1\nmissing.png,0\n".utf8).write(to: dir.appendingPathComponent("bad.csv"))
        XCTAssertThrowsError(try ImageCSVDataset.load(csvPath: dir.appendingPathComponent("bad.csv").path)) {
            XCTAssertTrue("\($0)".contains("bad.csv:2"), "\($0)")
        }
        try TestData.png(width: 1, height: 1, colorType: 2, interleaved: [1, 2, 3]).write(to: dir.appendingPathComponent("c.png"))
        try Data("a.png,1\nc.png,0\n".utf8).write(to: dir.appendingPathComponent("mixed.csv"))
        XCTAssertThrowsError(try ImageCSVDataset.load(csvPath: dir.appendingPathComponent("mixed.csv").path)) {
            XCTAssertTrue("\($0)".contains("same size"), "\($0)")
        }
    }
}
