import Foundation
import NTrainCore
import NTrainData
import NTrainEngine

/// Data-loader throughput: batches of 64 MNIST images, padded by 2 and normalised, per second
/// (background prefetch on, as in training). Needs MNIST under the dataset root (`ntrain download mnist`).
func loaderBenchmark(root explicitRoot: String?) throws {
    let root = DatasetRoot.resolve(explicit: explicitRoot)
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
    BenchResult(workload: "loader:mnist", images: batches * 64, seconds: seconds, flopsPerImage: 0).printed()
}

let usage = """
    usage: ntrain-bench COMMAND [ARGS]   (threads: NTRAIN_THREADS; dataset root: NTRAIN_DATA)
      loader [DATASET_ROOT]                       MNIST batches of 64, normalised + padded, per second
      train CONFIG OUT_DIR [EPOCHS] [a.b=v ...]   training epochs through the Trainer; images/s (all ranks under mpirun)
      params CONFIG                               the number of parameters of a config's model
      allreduce COUNT [REPEATS]                   under mpirun: median time of an in-place sum of COUNT floats
      steps CONFIG [N]                            N training steps on fixed batches (for profiles)
      infer [BATCH]                               LeNet inference on the 10,000 MNIST test images
      gemm [N]                                    cblas_sgemm GFLOP/s on an N³ product (default 1024)
      blas-load                                   time to load OpenBLAS with the chosen kernels + self-check
      gelu-kernel                                 GELU + GELU′ over 8,192 floats: best ns per element
      unary [N]                                   each unary op over N floats (default 2^20): hand-written vs definition
      dump-random CONFIG FILE                     write a `random` config's training data (raw uint8 + int32)
    Each prints one line `RESULT {json}` (images, seconds, images_per_second, flops_per_image, max_rss_kb).
    """

func run(_ args: [String]) throws {
    switch args.first {
    case "loader"?:
        try loaderBenchmark(root: args.dropFirst().first)
    case "train"? where args.count >= 3:
        let epochs = args.count > 3 ? Int(args[3]) : nil
        let group = try ProcessGroups.join()
        defer { group.finish() }
        let result = try Workloads.train(configPath: args[1], epochs: epochs, out: args[2], overrides: Array(args.dropFirst(4)), group: group)
        if group.isLeader { result.printed() }
    case "params"? where args.count == 2:
        let config = try ExperimentConfig.load(contentsOf: URL(fileURLWithPath: args[1]))
        let data = try DataFactory.make(config.data, seed: UInt64(config.seed))
        let model = try ModelFactory.make(config.model, input: data.inputShape, outputs: data.outputCount, seed: UInt64(config.seed))
        print("params: \(model.parameterCount)")
        BenchResult(workload: "params", images: 0, seconds: 0, flopsPerImage: 0, extra: ["params": Double(model.parameterCount)]).printed()
    case "allreduce"? where args.count >= 2:
        let group = try ProcessGroups.join()
        defer { group.finish() }
        let result = try Workloads.allreduce(count: Int(args[1]) ?? 61706, repeats: args.count > 2 ? Int(args[2]) ?? 50 : 50, group: group)
        result?.printed()
    case "steps"? where args.count >= 2:
        try Workloads.steps(configPath: args[1], count: args.count > 2 ? Int(args[2]) ?? 50 : 50).printed()
    case "infer"?:
        try Workloads.infer(batchSize: args.count > 1 ? Int(args[1]) ?? 1000 : 1000).printed()
    case "gemm"?:
        let n = args.count > 1 ? Int(args[1]) ?? 1024 : 1024
        let r = GemmCeiling.measure(n: n, threads: Parallel.threadCount)
        print(String(format: "gemm: %d³ sgemm at %d threads: median %.1f GFLOP/s (best %.1f)", n, Parallel.threadCount, r.gflops, r.best))
        BenchResult(workload: "gemm", images: 0, seconds: 0, flopsPerImage: 0, extra: ["gflops": r.gflops, "gflops_best": r.best]).printed()
    case "blas-load"?:
        // The first BLAS use in this process: choice, dlopen (OpenBLAS's constructor), self-check.
        let t0 = DispatchTime.now().uptimeNanoseconds
        try BLAS.load()
        let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
        let status = BLAS.status!
        print(String(format: "blas-load: %.2f ms (%@ kernels, self-check %@)", ms, status.core ?? "?",
                     status.selfCheckFailure == nil ? "passed" : "failed"))
        BenchResult(workload: "blas-load", images: 0, seconds: ms / 1000, flopsPerImage: 0, extra: ["ms": ms]).printed()
    case "gelu-kernel"?:
        let n = 8192
        var rng = RandomGenerator(seed: 1)
        let x = (0..<n).map { _ in rng.normal(std: 2) }
        var y = [Float](repeating: 0, count: n), d = y
        var best = Double.infinity
        for _ in 0..<200 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<20 { Kernels.gelu(x, into: &y, derivative: &d, count: n) }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / Double(20 * n))
        }
        print(String(format: "gelu + derivative: %.3f ns per element (best of 200 runs of 20 passes)", best))
        BenchResult(workload: "gelu-kernel", images: 0, seconds: 0, flopsPerImage: 0, extra: ["ns_per_element": best]).printed()
    case "composition"?:
        CompositionBenchmark.run()
    case "conv"?:
        try ConvBenchmark.run(batch: args.count > 1 ? Int(args[1]) ?? 512 : 512)
    case "unary"?:
        UnaryBenchmark.run(count: args.count > 1 ? Int(args[1]) ?? (1 << 20) : 1 << 20)
    case "dump-random"? where args.count == 3:
        try Workloads.dumpRandom(configPath: args[1], to: args[2])
    default:
        print(usage)
        exit(2)
    }
}

do {
    // As `ntrain train`/`eval` run by default (`train.flush_denormals`); a trainer sets its config's mode.
    try Denormals.withFlushedToZero { try run(Array(CommandLine.arguments.dropFirst())) }
} catch {
    FileHandle.standardError.write(Data("ntrain-bench: \(error)\n".utf8))
    exit(1)
}
