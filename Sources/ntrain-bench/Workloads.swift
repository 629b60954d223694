import Foundation
import NTrainCore
import NTrainData
import NTrainEngine
import NTrainNN

/// What one benchmark process measured; printed as one `RESULT {json}` line for scripts/bench.
struct BenchResult {
    var workload: String
    var images: Int
    var seconds: Double
    var flopsPerImage: Double
    var extra: [String: Double] = [:]

    func printed() {
        var fields: [String: Any] = ["workload": workload, "images": images, "seconds": seconds,
                                     "images_per_second": Double(images) / max(seconds, 1e-12),
                                     "flops_per_image": flopsPerImage, "threads": Parallel.threadCount]
        for (k, v) in extra { fields[k] = v }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        fields["max_rss_kb"] = usage.ru_maxrss
        let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
        print("RESULT " + String(decoding: data, as: UTF8.self))
    }
}

enum Workloads {
    /// One or more training epochs of `config` through the real `Trainer` (forward, loss, backward,
    /// optimizer step, with the loader's background prefetch, as `ntrain train` runs them). The time
    /// is the trainer's own per-epoch training time (evaluation and checkpoint writing excluded).
    /// Under mpirun, every rank trains its shard and the images are those of all ranks.
    static func train(configPath: String, epochs: Int?, out: String, overrides: [String],
                      group: any ProcessGroup = SingleProcess()) throws -> BenchResult {
        let config = try ExperimentConfig.load(contentsOf: URL(fileURLWithPath: configPath), overrides: overrides)
        // The CPU unless MGE_DEFAULT_DEVICE says otherwise (xpux would pick a GPU where one exists).
        let device = ProcessInfo.processInfo.environment["MGE_DEFAULT_DEVICE"].flatMap { $0.isEmpty ? nil : $0 } ?? "cpux"
        let trainer = try Trainer(config: config, options: TrainOptions(device: device, out: out, epochs: epochs), group: group)
        let flops = try ModelFlops.training(trainer.model, input: trainer.data.inputShape)
        let summary = try trainer.run()
        let history = summary.progress.history
        let seconds = history.reduce(0) { $0 + $1.seconds }
        let images = history.count * trainer.data.train.batchesPerEpoch * config.data.batchSize * group.size
        var extra: [String: Double] = ["epochs": Double(history.count), "ranks": Double(group.size)]
        extra["eval_accuracy"] = history.last?.evalAccuracy
        extra["train_loss"] = history.last?.trainLoss
        return BenchResult(workload: "train:" + config.name, images: images, seconds: seconds, flopsPerImage: flops, extra: extra)
    }

    /// LeNet inference over the MNIST test set (padded to 32x32 and normalised), batches of
    /// `batchSize`, in eval mode without gradients, through `Evaluator` (as `ntrain eval` runs it).
    /// One untimed warm-up pass, then the median of `repeats` timed passes.
    static func infer(batchSize: Int, repeats: Int = 5) throws -> BenchResult {
        let root = DatasetRoot.resolve(explicit: nil)
        let test = try BuiltinDatasets.load(.mnist, split: .test, root: root)
        let loader = try DataLoader(images: test, transforms: [.normalize(mean: [0.1307], std: [0.3081], units: .unit), .pad(amount: 2, fill: 0)],
                                    batchSize: batchSize, shuffle: false, dropLast: false, seed: 1, training: false)
        let model = try BuiltinModel.lenet.make(input: [1, 32, 32], outputs: 10, seed: 1)
        let loss = Loss.crossEntropy(labelSmoothing: 0)
        _ = Evaluator.evaluate(model, loader: loader, loss: loss, classes: 10)
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = Evaluator.evaluate(model, loader: loader, loss: loss, classes: 10)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        times.sort()
        let flops = try ModelFlops.forward(model, input: [1, 32, 32]).total
        return BenchResult(workload: "infer:lenet", images: test.count, seconds: times[times.count / 2], flopsPerImage: flops)
    }

    /// Writes the `random` dataset a config describes (uint8 images, then int32 labels, raw) so the
    /// PyTorch side trains on exactly the same examples.
    static func dumpRandom(configPath: String, to path: String) throws {
        let config = try ExperimentConfig.load(contentsOf: URL(fileURLWithPath: configPath))
        let o = config.data.random ?? RandomDataOptions()
        let d = try SyntheticDatasets.randomImages(count: o.count, channels: o.shape[0], height: o.shape[1], width: o.shape[2],
                                                   classes: o.classes, seed: UInt64(config.seed))
        var bytes = Data(d.images)
        d.labels.withUnsafeBytes { bytes.append(contentsOf: $0) }
        try bytes.write(to: URL(fileURLWithPath: path))
        print("wrote \(d.count) images \(o.shape) and labels to \(path)")
    }
}

extension Workloads {
    /// `count` training steps of `config`'s model on its first training batches (forward, loss,
    /// backward, optimizer step), without the Trainer's bookkeeping: a short, fixed amount of work
    /// for instruction-count profiles (`valgrind --tool=callgrind ntrain-bench steps CONFIG 20`).
    static func steps(configPath: String, count: Int) throws -> BenchResult {
        let config = try ExperimentConfig.load(contentsOf: URL(fileURLWithPath: configPath))
        let data = try DataFactory.make(config.data, seed: UInt64(config.seed))
        let model = try ModelFactory.make(config.model, input: data.inputShape, outputs: data.outputCount, seed: UInt64(config.seed))
        let loss = TrainingFactory.loss(config.loss)
        let optimizer = try TrainingFactory.optimizer(config.optimizer, model: model)
        let batches = (0..<min(4, data.train.batchesPerEpoch)).map { data.train.batch(epoch: 0, index: $0) }
        let start = DispatchTime.now().uptimeNanoseconds
        var images = 0
        for i in 0..<count {
            let batch = batches[i % batches.count]
            let value = loss(model(batch.inputs), batch.targets)
            _ = value.item()
            value.backward()
            optimizer.step()
            optimizer.zeroGrad()
            images += batch.targets.shape[0]
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        return BenchResult(workload: "steps:" + config.name, images: images, seconds: seconds,
                           flopsPerImage: try ModelFlops.training(model, input: data.inputShape))
    }
}

extension Workloads {
    /// The time of one in-place float sum of `count` values over the ranks (`mpirun -np N
    /// ntrain-bench allreduce COUNT`): one untimed warm-up, then the median of `repeats`, each
    /// started together after a barrier-like small sum. Reported by rank 0 with the bus bandwidth
    /// of a ring allreduce (2(N-1)/N x 4 x count bytes per rank).
    static func allreduce(count: Int, repeats: Int, group: any ProcessGroup) throws -> BenchResult? {
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, count))
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 1)
        var sync = [0.0]
        try group.sum(buffer)
        var times: [Double] = []
        for _ in 0..<repeats {
            try group.sum(&sync)
            let start = DispatchTime.now().uptimeNanoseconds
            try group.sum(UnsafeMutableBufferPointer(rebasing: buffer[0..<count]))
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        guard group.isLeader else { return nil }
        times.sort()
        let seconds = times[times.count / 2]
        let n = Double(group.size)
        let busBytes = 2 * (n - 1) / n * 4 * Double(count)
        return BenchResult(workload: "allreduce", images: 0, seconds: seconds, flopsPerImage: 0,
                           extra: ["floats": Double(count), "ranks": n, "ms": seconds * 1e3,
                                   "bus_gb_per_s": busBytes / max(seconds, 1e-12) / 1e9])
    }
}
