import Foundation
import NTrainCore
@testable import NTrainData
import XCTest

/// The data-parallel shards: PyTorch DistributedSampler's positions, padding and lengths.
final class DataShardTests: XCTestCase {
    let data = try! SyntheticDatasets.randomImages(count: 103, channels: 1, height: 4, width: 4, classes: 10, seed: 2)

    private func loader(batchSize: Int = 8, dropLast: Bool = false) throws -> DataLoader {
        try DataLoader(images: data, batchSize: batchSize, shuffle: true, dropLast: dropLast, seed: 9, training: true)
    }

    func testPaddedShardsHaveEqualLengthsAndCoverTheEpochWrappingAtTheEnd() throws {
        let order = try loader().globalOrder(epoch: 1)
        let shards = (0..<4).map { DataShard(rank: $0, count: 4, padded: true).select(order) }
        XCTAssertEqual(shards.map(\.count), [26, 26, 26, 26], "ceil(103 / 4)")
        // Position i of rank r is global position r + 4i; the last one wraps to the order's start.
        XCTAssertEqual(shards[1][3], order[13])
        XCTAssertEqual(shards[3][25], order[0], "position 103 wraps to 0")
        XCTAssertEqual(Set(shards.flatMap { $0 }), Set(order))
    }

    func testUnpaddedShardsSeeEachSampleOnce() throws {
        let order = try loader().globalOrder(epoch: 0)
        let shards = (0..<4).map { DataShard(rank: $0, count: 4, padded: false).select(order) }
        XCTAssertEqual(shards.map(\.count), [26, 26, 26, 25])
        XCTAssertEqual(shards.flatMap { $0 }.sorted(), Array(0..<103))
        XCTAssertEqual(DataShard(rank: 5, count: 6, padded: false).length(of: 3), 0, "more ranks than samples")
        XCTAssertEqual(DataShard(rank: 5, count: 6, padded: true).select([7, 8, 9]), [9], "wraps more than once")
    }

    /// The union of the ranks' batch k is the one-process batch k at count x the batch size, so
    /// averaged gradients equal the one-process gradient.
    func testRanksBatchesTogetherAreTheSingleProcessBatchOfTheCombinedSize() throws {
        let single = try loader(batchSize: 16)
        let ranks = try (0..<2).map { rank -> DataLoader in
            let l = try loader(batchSize: 8)
            try l.use(DataShard(rank: rank, count: 2, padded: true))
            return l
        }
        XCTAssertEqual(ranks[0].batchesPerEpoch, 7)
        XCTAssertEqual(ranks[0].shardSampleCount, 52)
        for k in 0..<6 {
            let together = Set(ranks.flatMap { $0.batch(epoch: 3, index: k).sampleIndices })
            XCTAssertEqual(together, Set(single.batch(epoch: 3, index: k).sampleIndices), "batch \(k)")
        }
    }

    func testRankZeroKeepsTheSingleProcessAugmentationAndOtherRanksDrawTheirOwn() throws {
        let augment: [Transform] = [.randomHorizontalFlip(p: 0.5), .randomCrop(height: 4, width: 4, padding: 1)]
        func make(_ shard: DataShard?) throws -> DataLoader {
            let l = try DataLoader(images: data, transforms: augment, batchSize: 8, shuffle: false, seed: 1, training: true)
            if let shard { try l.use(shard) }
            return l
        }
        let alone = try make(nil), zero = try make(DataShard(rank: 0, count: 1, padded: true))
        XCTAssertEqual(alone.batch(epoch: 0, index: 0).inputs.scalars, zero.batch(epoch: 0, index: 0).inputs.scalars)
        // The same samples through rank 0's and rank 1's streams: unshuffled, rank r of 2 takes r, r+2, ...
        let r0 = try make(DataShard(rank: 0, count: 2, padded: true)), r1 = try make(DataShard(rank: 1, count: 2, padded: true))
        XCTAssertNotEqual(r0.batch(epoch: 0, index: 0).inputs.scalars, r1.batch(epoch: 0, index: 0).inputs.scalars)
    }

    func testAShardSmallerThanADroppedLastBatchIsRefused() throws {
        let l = try loader(batchSize: 40, dropLast: true)
        XCTAssertThrowsError(try l.use(DataShard(rank: 0, count: 4, padded: true))) { error in
            XCTAssertTrue("\(error)".contains("26 samples of each of the 4 ranks"), "\(error)")
        }
        XCTAssertEqual(l.shard, .whole, "a refused shard leaves the loader as it was")
    }
}
