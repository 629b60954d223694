import Foundation
import NTrainCore
import NTrainData
import NTrainEngine

/// Data-loader throughput: batches of 64 MNIST images, padded by 2 and normalised, per second
/// (background prefetch on, as in training). Needs MNIST under the dataset root (`ntrain download mnist`).
func loaderBenchmark() throws {
    let root = DatasetRoot.resolve(explicit: CommandLine.arguments.dropFirst(2).first)
    let train = try BuiltinDatasets.load(.mnist, split: .train, root: root)
    let loader = try DataLoader(images: train, transforms: [.pad(amount: 2, fill: 0), .normalize(mean: [0.1307], std: [0.3081], units: .unit)],
                                batchSize: 64, shuffle: true, dropLast: true, seed: 0, training: true)
    var batches = 0
    let start = Date()
    for batch in loader.batches(epoch: 0) {
        precondition(batch.inputs.shape.dims == [64, 1, 32, 32])
        batches += 1
    }
    let seconds = Date().timeIntervalSince(start)
    print(String(format: "loader: %d batches of 64 normalized+padded MNIST images in %.3f s = %.0f batches/s (%.0f images/s)",
                 batches, seconds, Double(batches) / seconds, Double(batches * 64) / seconds))
}

switch CommandLine.arguments.dropFirst().first {
case "loader"?:
    do { try loaderBenchmark() } catch {
        FileHandle.standardError.write(Data("loader benchmark: \(error)\n".utf8))
        exit(1)
    }
default:
    print("usage: ntrain-bench loader [DATASET_ROOT]")
}
