import Dispatch
import NTrainCore

/// One mini-batch.
public struct Batch {
    /// Images `[B, C, H, W]` float32, or features `[B, D]` for regression.
    public let inputs: Tensor
    /// Class indices `[B]` int32, or targets `[B, 1]` float32 for regression.
    public let targets: Tensor
    public let epoch: Int
    /// Position of the batch within its epoch.
    public let index: Int
    /// Dataset indices of the samples, in batch order.
    public let sampleIndices: [Int]
}

/// The part of every epoch one rank of a data-parallel run takes, with PyTorch's
/// DistributedSampler semantics: of the epoch's (seeded, global) order, rank r takes positions
/// r, r + count, r + 2·count, ... A `padded` shard wraps around to the start of the order so that
/// every rank gets ceil(n / count) samples and takes the same number of steps (training); an
/// unpadded one stops at the end, so each sample is seen once over all ranks (evaluation).
public struct DataShard: Equatable, Sendable {
    public let rank: Int
    public let count: Int
    public let padded: Bool

    public init(rank: Int, count: Int, padded: Bool) {
        precondition(count >= 1 && rank >= 0 && rank < count, "shard \(rank) of \(count)")
        self.rank = rank
        self.count = count
        self.padded = padded
    }

    /// The whole epoch (one process).
    public static let whole = DataShard(rank: 0, count: 1, padded: false)

    /// How many of `samples` this shard takes.
    public func length(of samples: Int) -> Int {
        if count == 1 { return samples }
        return padded ? (samples + count - 1) / count : Swift.max(0, (samples - rank + count - 1) / count)
    }

    /// This shard's part of an epoch's `order`.
    public func select(_ order: [Int]) -> [Int] {
        guard count > 1, !order.isEmpty else { return order }
        return (0..<length(of: order.count)).map { order[(rank + $0 * count) % order.count] }
    }
}

/// Batches a dataset: seeded shuffling per epoch, optional drop-last, fused transforms, and the
/// next batch prepared on a background queue while the current one is used.
///
/// Everything random is keyed, never carried over: the order of epoch `e` comes from
/// `RandomGenerator(seed: seed, stream: e)` and the augmentation of batch `k` of epoch `e` from a
/// generator derived from `(seed, e, k)`. So a run resumed at batch `k` sees exactly the batches an
/// uninterrupted run would, and prefetching cannot change any result.
public final class DataLoader {
    enum Source {
        case images(ImageDataset, TransformPipeline)
        case regression(RegressionDataset)
    }

    let source: Source
    public let batchSize: Int
    public let shuffle: Bool
    public let dropLast: Bool
    public let seed: UInt64
    /// Training mode applies the random augmentations; evaluation skips them.
    public let training: Bool
    public let prefetch: Bool
    /// The part of each epoch this loader yields (all of it unless a data-parallel run shards it).
    public private(set) var shard = DataShard.whole

    /// A loader over images with `transforms` (compiled once here).
    public init(images: ImageDataset, transforms: [Transform] = [], batchSize: Int, shuffle: Bool, dropLast: Bool = false,
                seed: UInt64, training: Bool, prefetch: Bool = true) throws {
        let pipeline = try TransformPipeline(transforms, channels: images.channels, height: images.height, width: images.width)
        source = .images(images, pipeline)
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.seed = seed
        self.training = training
        self.prefetch = prefetch
        try check(count: images.count)
    }

    /// A loader over float features with float targets (`[B, 1]`).
    public init(regression: RegressionDataset, batchSize: Int, shuffle: Bool, dropLast: Bool = false,
                seed: UInt64, training: Bool, prefetch: Bool = true) throws {
        source = .regression(regression)
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.seed = seed
        self.training = training
        self.prefetch = prefetch
        try check(count: regression.count)
    }

    private func check(count: Int) throws {
        guard batchSize > 0 else { throw DatasetError.invalidParameter(name: "batch_size", reason: "\(batchSize) must be positive") }
        guard count > 0 else { throw DatasetError.invalidParameter(name: "dataset", reason: "it has no samples") }
        if dropLast && count < batchSize {
            throw DatasetError.invalidParameter(name: "batch_size", reason: "\(batchSize) is larger than the \(count) samples and drop_last is on, so an epoch would have no batch")
        }
    }

    /// Takes only `shard`'s part of every epoch from now on.
    public func use(_ shard: DataShard) throws {
        let length = shard.length(of: sampleCount)
        if dropLast && length < batchSize {
            throw DatasetError.invalidParameter(name: "batch_size", reason: "\(batchSize) is larger than the \(length) samples of each of the \(shard.count) ranks and drop_last is on, so an epoch would have no batch")
        }
        self.shard = shard
    }

    /// Number of samples in the dataset.
    public var sampleCount: Int {
        switch source {
        case .images(let d, _): return d.count
        case .regression(let d): return d.count
        }
    }

    /// The samples this loader yields per epoch: the dataset's, or its shard's.
    public var shardSampleCount: Int { shard.length(of: sampleCount) }

    public var batchesPerEpoch: Int {
        let n = shardSampleCount
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize
    }

    /// The stored images' `[C, H, W]` before transforms (nil for feature data): what an image from
    /// elsewhere is resized to before the same transforms (`ntrain predict`).
    public var imageShape: [Int]? {
        if case .images(let d, _) = source { return [d.channels, d.height, d.width] }
        return nil
    }

    /// The per-sample input shape (`[C, H, W]` after transforms, or `[D]`).
    public var sampleShape: [Int] {
        switch source {
        case .images(_, let p): return p.outputShape(training: training)
        case .regression(let d): return [d.featureCount]
        }
    }

    /// The sample order of `epoch` (this loader's shard of it).
    public func order(epoch: Int) -> [Int] {
        shard.select(globalOrder(epoch: epoch))
    }

    /// The order of `epoch` over the whole dataset, the same on every rank.
    public func globalOrder(epoch: Int) -> [Int] {
        guard shuffle else { return Array(0..<sampleCount) }
        var g = RandomGenerator(seed: seed, stream: UInt64(truncatingIfNeeded: epoch))
        return g.permutation(sampleCount)
    }

    /// Batch `index` of `epoch`, built synchronously.
    public func batch(epoch: Int, index: Int) -> Batch {
        makeBatch(order: order(epoch: epoch), epoch: epoch, index: index)
    }

    /// The batches of `epoch` from `startIndex` on (to resume mid-epoch), each prepared one step ahead.
    public func batches(epoch: Int, startingAt startIndex: Int = 0) -> BatchIterator {
        BatchIterator(loader: self, epoch: epoch, start: startIndex)
    }

    func makeBatch(order: [Int], epoch: Int, index: Int) -> Batch {
        precondition(index >= 0 && index < batchesPerEpoch, "batch \(index) out of 0..<\(batchesPerEpoch)")
        let lo = index * batchSize
        let indices = Array(order[lo..<min(lo + batchSize, order.count)])
        let b = indices.count
        switch source {
        case let .images(data, pipeline):
            let shape = pipeline.outputShape(training: training)
            let outSize = shape[0] * shape[1] * shape[2]
            let inputs = Tensor(uninitialized: Shape([b] + shape))
            let targets = Tensor(uninitialized: Shape([b]), dtype: .int32)
            // The augmentation stream is keyed by (rank, epoch, batch) so any batch can be rebuilt
            // alone and ranks do not draw the same flips (rank 0 keeps a single process's stream).
            var g = RandomGenerator(seed: seed ^ 0xA076_1D64_78BD_642F ^ (UInt64(shard.rank) &* 0x9E37_79B9_7F4A_7C15),
                                    stream: UInt64(truncatingIfNeeded: epoch) << 32 | UInt64(truncatingIfNeeded: index))
            let out = inputs.data
            let labels = targets.int32Data
            let sampleSize = data.sampleSize
            data.images.withUnsafeBufferPointer { images in
                for (k, i) in indices.enumerated() {
                    pipeline.apply(images.baseAddress! + i * sampleSize, into: out + k * outSize, training: training, generator: &g)
                    labels[k] = data.labels[i]
                }
            }
            return Batch(inputs: inputs, targets: targets, epoch: epoch, index: index, sampleIndices: indices)
        case let .regression(data):
            let d = data.featureCount
            let inputs = Tensor(uninitialized: Shape([b, d]))
            let targets = Tensor(uninitialized: Shape([b, 1]))
            let x = inputs.data, y = targets.data
            for (k, i) in indices.enumerated() {
                for j in 0..<d { x[k * d + j] = data.features[i * d + j] }
                y[k] = data.targets[i]
            }
            return Batch(inputs: inputs, targets: targets, epoch: epoch, index: index, sampleIndices: indices)
        }
    }
}

/// Iterates one epoch's batches; with prefetch on, batch k+1 is built on a background queue while
/// the caller works on batch k. The output is identical with or without prefetch.
public final class BatchIterator: IteratorProtocol, Sequence {
    private let loader: DataLoader
    private let order: [Int]
    public let epoch: Int
    private var nextIndex: Int
    private let queue = DispatchQueue(label: "ntrain.dataloader.prefetch")
    private var pending: (index: Int, group: DispatchGroup, box: BatchBox)?

    /// Carries a batch across the queue boundary (the group's wait orders the accesses).
    final class BatchBox: @unchecked Sendable {
        var batch: Batch?
    }

    init(loader: DataLoader, epoch: Int, start: Int) {
        self.loader = loader
        self.epoch = epoch
        self.order = loader.order(epoch: epoch)
        self.nextIndex = Swift.max(0, start)
        schedule()
    }

    private func schedule() {
        guard loader.prefetch, nextIndex < loader.batchesPerEpoch else { pending = nil; return }
        let group = DispatchGroup()
        let box = BatchBox()
        let (loader, order, epoch, index) = (self.loader, self.order, self.epoch, nextIndex)
        nonisolated(unsafe) let unsafeLoader = loader
        queue.async(group: group) {
            box.batch = unsafeLoader.makeBatch(order: order, epoch: epoch, index: index)
        }
        pending = (index, group, box)
    }

    public func next() -> Batch? {
        guard nextIndex < loader.batchesPerEpoch else { return nil }
        let batch: Batch
        if let p = pending, p.index == nextIndex {
            p.group.wait()
            batch = p.box.batch!
        } else {
            batch = loader.makeBatch(order: order, epoch: epoch, index: nextIndex)
        }
        nextIndex += 1
        schedule()
        return batch
    }

    deinit { pending?.group.wait() }
}
