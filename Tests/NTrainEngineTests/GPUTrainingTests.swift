import Foundation
import NTrainCUDAEmulator
import XCTest
import NTrainCore
import NTrainNN
@testable import NTrainEngine

/// Training and evaluation on `gpu0` against the same runs on the CPU. The GPU is the CUDA host
/// emulator (real kernels run on the CPU), or a real GPU with NTRAIN_GPU_TENSOR_TESTS=real. The
/// two devices round differently (tree sums, libm), so results agree to a tolerance, not bits.
final class GPUTrainingTests: XCTestCase {
    private var folder: URL!
    private var runs = 0

    override func setUpWithError() throws {
        do { try CUDAHostEmulator.installForTensors() } catch { throw XCTSkip("no GPU and no CUDA host emulator: \(error)") }
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ntrain-gpu-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        CUDAHostEmulator.uninstallForTensors()
        if let folder { try? FileManager.default.removeItem(at: folder) }
    }

    private func config(model: String, optimizer: String, shape: String = "[1, 8, 8]", epochs: Int = 2) throws -> ExperimentConfig {
        let text = """
        {"name": "g", "seed": 3,
         "data": {"dataset": "random", "count": 64, "test_count": 16, "shape": \(shape), "classes": 4, "batch_size": 8,
                  "transforms": [{"scale": 0.00392156862745098}]},
         "model": \(model), "optimizer": \(optimizer),
         "scheduler": {"type": "cosine", "interval": "step"},
         "train": {"epochs": \(epochs), "log_every": 4}}
        """
        return try ExperimentConfig.decode(Data(text.utf8), file: "gpu-test.json")
    }

    private func train(_ config: ExperimentConfig, on device: String) throws -> (Trainer, TrainingSummary) {
        runs += 1
        let out = folder.appendingPathComponent("\(device)-\(runs)").path
        let trainer = try Trainer(config: config, options: TrainOptions(device: device, out: out))
        return (trainer, try trainer.run())
    }

    private func assertSameTraining(_ model: String, _ optimizer: String, tolerance: Double = 1e-4,
                                    file: StaticString = #filePath, line: UInt = #line) throws {
        let config = try config(model: model, optimizer: optimizer)
        let (cpu, cpuRun) = try train(config, on: "cpux")
        let (gpu, gpuRun) = try train(config, on: "gpu0")
        XCTAssertEqual(gpu.device, .gpu(0), file: file, line: line)
        XCTAssertEqual(gpu.model.device, .gpu(0), file: file, line: line)
        XCTAssertEqual(gpuRun.ending, .completed, file: file, line: line)
        for (c, g) in zip(cpuRun.progress.history, gpuRun.progress.history) {
            XCTAssertEqual(g.trainLoss, c.trainLoss, accuracy: tolerance * max(1, abs(c.trainLoss)), "epoch \(c.epoch) train loss", file: file, line: line)
            XCTAssertEqual(g.evalLoss ?? .nan, c.evalLoss ?? .nan, accuracy: tolerance * 10, "epoch \(c.epoch) eval loss", file: file, line: line)
        }
        for ((name, c), (_, g)) in zip(cpu.model.stateDict(), gpu.model.stateDict()) {
            let cs = c.scalars, gs = g.scalars
            let worst = zip(cs, gs).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(worst, Float(tolerance) * 10, "\(name): largest difference \(worst)", file: file, line: line)
        }
    }

    func testMLPWithDropoutTrainsLikeTheCPUWithSGDMomentum() throws {
        try assertSameTraining(#"{"arch": "mlp", "hidden": [16], "dropout": 0.25}"#, #"{"type": "sgd", "lr": 0.05, "momentum": 0.9}"#)
    }

    /// The convolution before batch norm has no bias: its exact gradient is 0, and Adam would turn
    /// the two devices' different rounding noise into lr-sized steps.
    func testConvNetWithBatchNormTrainsLikeTheCPUWithAdamAndNAdam() throws {
        let model = #"""
        {"layers": [{"conv2d": {"out": 4, "kernel": 3, "padding": 1, "bias": false}}, {"batch_norm2d": {}}, {"relu": {}},
                    {"max_pool2d": {"kernel": 2}}, {"conv2d": {"out": 6, "kernel": 3}}, {"gelu": {}}, {"avg_pool2d": {"kernel": 2}},
                    {"flatten": {}}, {"linear": {"out": 4}}]}
        """#
        try assertSameTraining(model, #"{"type": "adam", "lr": 0.01}"#)
        try assertSameTraining(model, #"{"type": "nadam", "lr": 0.01, "weight_decay": 0.01}"#)
    }

    /// Same seed ⇒ the same bits on the GPU too (no atomics, fixed reduction trees), and a run
    /// resumed from its checkpoint ends where a straight run does, momentum buffers included.
    func testGPURunsAreDeterministicAndResumeBitIdentically() throws {
        let text = """
        {"name": "r", "seed": 5,
         "data": {"dataset": "random", "count": 48, "test_count": 16, "shape": [1, 8, 8], "classes": 4, "batch_size": 8},
         "model": {"layers": [{"conv2d": {"out": 3, "kernel": 3}}, {"batch_norm2d": {}}, {"relu": {}}, {"flatten": {}},
                              {"dropout": {"p": 0.2}}, {"linear": {"out": 4}}]},
         "optimizer": {"type": "sgd", "lr": 0.05, "momentum": 0.9}, "train": {"epochs": 2}}
        """
        let config = try ExperimentConfig.decode(Data(text.utf8), file: "resume.json")
        func weights(_ t: Trainer) -> [[Float]] { t.model.stateDict().map { $0.1.scalars } }
        let (a, _) = try train(config, on: "gpu0")
        let (b, _) = try train(config, on: "gpu0")
        XCTAssertEqual(weights(a), weights(b), "two GPU runs with one seed")
        let firstOut = folder.appendingPathComponent("first").path
        let first = try Trainer(config: config, options: TrainOptions(device: "gpu0", out: firstOut, epochs: 1))
        _ = try first.run()
        let resumed = try Trainer(config: nil, options: TrainOptions(device: "gpu0", resume: firstOut, epochs: 2))
        XCTAssertEqual(try resumed.run().ending, .completed)
        XCTAssertEqual(weights(resumed), weights(a), "resumed on the GPU vs straight")
    }

    /// A checkpoint written on the GPU evaluates the same on the CPU, and the reverse.
    func testCheckpointsMoveBetweenDevices() throws {
        let config = try config(model: #"{"arch": "mlp", "hidden": [8]}"#, optimizer: #"{"type": "sgd", "lr": 0.1}"#, epochs: 1)
        let (_, run) = try train(config, on: "gpu0")
        let path = try XCTUnwrap(run.lastCheckpoint)
        let onCPU = try CheckpointEvaluation.run(checkpoint: path, device: "cpux")
        let onGPU = try CheckpointEvaluation.run(checkpoint: path, device: "gpu0")
        XCTAssertEqual(onGPU.device, .gpu(0))
        XCTAssertEqual(onGPU.result.loss, onCPU.result.loss, accuracy: 1e-5)
        XCTAssertEqual(onGPU.result.value(of: .accuracy), onCPU.result.value(of: .accuracy))
    }

    func testAdagradAndRMSpropTrainLikeTheCPU() throws {
        let model = #"{"arch": "mlp", "hidden": [12]}"#
        try assertSameTraining(model, #"{"type": "adagrad", "lr": 0.05, "lr_decay": 0.01, "weight_decay": 0.001}"#)
        try assertSameTraining(model, #"{"type": "rmsprop", "lr": 0.005, "momentum": 0.5, "centered": true}"#)
    }

    /// Gradient clipping on GPU gradients (through host copies) clips every gradient, also the CPU
    /// ones of a mixed list, as on the CPU.
    func testClippingGPUAndMixedGradients() throws {
        func parameters() -> [Tensor] {
            let values: [[Float]] = [[3, -4, 0.25], [-2, 0.5]]
            return values.map { v in
                let p = Tensor(shape: [v.count], scalars: v.map { $0 / 10 })
                p.grad = Tensor(shape: [v.count], scalars: v)
                return p
            }
        }
        let cpu = parameters(), mixed = parameters()
        mixed[1].grad = mixed[1].grad!.to(.gpu(0))
        clipGradValue(cpu, clipValue: 1)
        clipGradValue(mixed, clipValue: 1)
        XCTAssertEqual(mixed.map { $0.grad!.scalars }, cpu.map { $0.grad!.scalars })
        XCTAssertEqual(mixed[0].grad!.scalars, [1, -1, 0.25])
        let cpuNorm = parameters(), gpuNorm = parameters()
        for p in gpuNorm { p.grad = p.grad!.to(.gpu(0)) }
        XCTAssertEqual(clipGradNorm(gpuNorm, maxNorm: 1), clipGradNorm(cpuNorm, maxNorm: 1))
        XCTAssertEqual(gpuNorm.map { $0.grad!.scalars }, cpuNorm.map { $0.grad!.scalars })
        XCTAssertEqual(gpuNorm[0].grad!.device, .gpu(0))
        try CUDARuntime.synchronize(.gpu(0))
    }

    /// The NaN guard works on the GPU: a diverging run stops with `nonFinite`, not a GPU error.
    func testDivergingGPURunStopsAtTheNaNGuard() throws {
        let config = try config(model: #"{"arch": "mlp", "hidden": [8]}"#, optimizer: #"{"type": "sgd", "lr": 1e30}"#, epochs: 1)
        XCTAssertThrowsError(try train(config, on: "gpu0")) { error in
            guard case .nonFinite(epoch: 1, _, _, _)? = error as? EngineError else { return XCTFail("\(error)") }
        }
    }

    /// Out of device memory stops training with a typed error (exit 1) that gives the size asked
    /// and the free memory, after the first failing step; nothing is written as if it had trained.
    func testOutOfDeviceMemoryIsAClearError() throws {
        let config = try config(model: #"{"arch": "mlp", "hidden": [256, 256]}"#, optimizer: #"{"type": "adam", "lr": 0.01}"#, epochs: 1)
        try CUDAHostEmulator.configure(memory: 600 << 10)
        defer { try? CUDAHostEmulator.configure() }
        CUDAHostEmulator.uninstallForTensors()
        try CUDAHostEmulator.installForTensors()  // fresh contexts on the smaller device
        XCTAssertThrowsError(try train(config, on: "gpu0")) { error in
            guard let e = error as? EngineError, case .gpu(let device, let reason, false) = e else { return XCTFail("\(error)") }
            XCTAssertEqual(device, "gpu0")
            XCTAssertTrue(reason.contains("out of GPU memory on gpu0: asked for"), reason)
            XCTAssertEqual(e.exitCode, 1)
        }
    }

    /// A checkpoint may hold tensors still on a GPU: the writer copies them to the host.
    func testCheckpointWriterCopiesDeviceTensorsToTheHost() throws {
        let host = Tensor(shape: [2, 3], scalars: [1, -2, 3.5, 4, 5, 6])
        let data = try CheckpointWriter.encode(Checkpoint(tensors: [("model.w", host.to(.gpu(0)))]))
        let back = try CheckpointReader.read(data, file: "x.mge")
        XCTAssertEqual(back.tensor(named: "model.w")?.scalars, host.scalars)
        XCTAssertEqual(back.tensor(named: "model.w")?.device, .cpu)
    }
}
