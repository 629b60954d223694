import Foundation
import NTrainCore
import NTrainCUDAEmulator
import XCTest

/// `ntrain devices`, `train --device gpux` and `eval` as a user runs them, with the CUDA host
/// emulator as the driver (NTRAIN_CUDA_DRIVER): the binary's own GPU path end to end. Skips where
/// the emulator or NVRTC is missing.
final class GPUCLITests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ntrain-gpu-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let folder { try? FileManager.default.removeItem(at: folder) }
    }

    /// The environment that makes the binary load the emulator, with NVRTC found from here.
    private func emulatorEnvironment() throws -> [String: String?] {
        let library: String, nvrtc: String
        do {
            library = try CUDAHostEmulator.library()
            nvrtc = try NVRTC.shared().library
        } catch {
            throw XCTSkip("CUDA host emulator unavailable: \(error)")
        }
        return ["NTRAIN_CUDA_DRIVER": library, "NTRAIN_NVRTC": nvrtc, "MGE_DEFAULT_DEVICE": nil, "NTRAIN_THREADS": "1"]
    }

    func testDevicesListsTheGPUAndXpuxPicksIt() throws {
        let result = try CLI.run(["devices"], environment: try emulatorEnvironment())
        XCTAssertEqual(result.status, 0, result.summary)
        XCTAssertTrue(result.stdout.contains("gpu0  ntrain CUDA host emulator 0"), result.stdout)
        XCTAssertTrue(result.stdout.contains("xpux     -> gpu0"), result.stdout)
    }

    func testTrainOnGPUThenEvaluateOnBothDevices() throws {
        let config = folder.appendingPathComponent("exp.json")
        try """
        {"name": "gpu-cli", "seed": 2,
         "data": {"dataset": "random", "count": 48, "test_count": 16, "shape": [1, 8, 8], "classes": 3, "batch_size": 8,
                  "transforms": [{"scale": 0.00392156862745098}]},
         "model": {"layers": [{"conv2d": {"out": 3, "kernel": 3}}, {"relu": {}}, {"max_pool2d": {"kernel": 2}},
                              {"flatten": {}}, {"linear": {"out": 3}}]},
         "optimizer": {"type": "sgd", "lr": 0.05, "momentum": 0.9},
         "train": {"epochs": 2, "log_every": 3}}
        """.write(to: config, atomically: true, encoding: .utf8)
        let env = try emulatorEnvironment()
        let out = folder.appendingPathComponent("run").path
        let train = try CLI.run(["train", config.path, "--device", "gpux", "--out", out, "--quiet"], environment: env, timeout: 300)
        XCTAssertEqual(train.status, 0, train.summary)
        let log = try String(contentsOfFile: out + "/train.log", encoding: .utf8)
        XCTAssertTrue(log.contains("start: device gpu0 (gpux)"), log)
        let checkpoint = out + "/last.mge"
        var losses: [String: String] = [:]
        for device in ["cpux", "gpu0"] {
            let eval = try CLI.run(["eval", checkpoint, "--device", device, "--json"], environment: env, timeout: 120)
            XCTAssertEqual(eval.status, 0, eval.summary)
            let object = try CLI.jsonObject(eval.stdout)
            losses[device] = "\(object["loss"] ?? "none")"
        }
        XCTAssertNotEqual(losses["cpux"], "none")
        if let c = Double(losses["cpux"] ?? ""), let g = Double(losses["gpu0"] ?? "") {
            XCTAssertEqual(c, g, accuracy: 1e-5)
        } else {
            XCTFail("eval losses: \(losses)")
        }
    }

    /// A GPU without NVRTC is unusable: gpux says why (exit 2) and xpux means the CPU.
    func testGPUWithoutNVRTCIsRefusedUpFrontAndXpuxUsesTheCPU() throws {
        var env = try emulatorEnvironment()
        env["NTRAIN_NVRTC"] = "/nonexistent/libnvrtc.so.12"
        env["VIRTUAL_ENV"] = nil
        env["HOME"] = folder.path  // no ~/.local site-packages
        let devices = try CLI.run(["devices"], environment: env, in: folder)
        guard !devices.stdout.contains("xpux     -> gpu0") else {
            throw XCTSkip("NVRTC is installed system-wide here, so it cannot be hidden: \(devices.stdout)")
        }
        XCTAssertEqual(devices.status, 0, devices.summary)
        XCTAssertTrue(devices.stdout.contains("xpux     -> cpu0"), devices.stdout)
        let config = folder.appendingPathComponent("exp.json")
        try """
        {"name": "n", "data": {"dataset": "random", "count": 8, "test_count": 8, "shape": [1, 4, 4], "classes": 2, "batch_size": 8},
         "model": {"arch": "linear"}, "optimizer": {"type": "sgd", "lr": 0.1}, "train": {"epochs": 1}}
        """.write(to: config, atomically: true, encoding: .utf8)
        let result = try CLI.run(["train", config.path, "--device", "gpux", "--out", folder.appendingPathComponent("r").path, "--quiet"],
                                 environment: env, in: folder)
        XCTAssertEqual(result.status, 2, result.summary)
        XCTAssertTrue(result.stderr.contains("device gpux is not usable: found 1 CUDA device(s), but NVRTC (libnvrtc) not found"), result.stderr)
    }

    /// Out of device memory is exit 1 with the size asked and the free memory, not a crash.
    func testOutOfDeviceMemoryExitsOneWithTheSizes() throws {
        let config = folder.appendingPathComponent("big.json")
        try """
        {"name": "big", "data": {"dataset": "random", "count": 16, "test_count": 8, "shape": [1, 8, 8], "classes": 2, "batch_size": 8},
         "model": {"arch": "mlp", "hidden": [512, 512]}, "optimizer": {"type": "adam", "lr": 0.01}, "train": {"epochs": 1}}
        """.write(to: config, atomically: true, encoding: .utf8)
        var env = try emulatorEnvironment()
        env["NTRAIN_EMULATOR_MEMORY"] = "1000000"
        let result = try CLI.run(["train", config.path, "--device", "gpu0", "--out", folder.appendingPathComponent("g").path, "--quiet"],
                                 environment: env, timeout: 120)
        XCTAssertEqual(result.status, 1, result.summary)
        XCTAssertTrue(result.stderr.contains("training on gpu0 failed: allocating a tensor: out of GPU memory on gpu0: asked for"), result.stderr)
        XCTAssertTrue(result.stderr.contains("reduce the batch size or the model"), result.stderr)
    }
}
