import Foundation
import NTrainEngine
import XCTest

/// `mpirun -np N ntrain train`: equivalence with one process, run-to-run bits, one run folder,
/// a killed rank, SIGTERM on one rank, resume with the same and another number of ranks, and a
/// launcher without MPI. Every test runs Open MPI's real mpirun.
final class DistributedCLITests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        _ = try MPIRun.launcher()
        folder = try CLI.temporaryFolder()
    }

    override func tearDownWithError() throws { if let folder { try? FileManager.default.removeItem(at: folder) } }

    private func write(_ json: String, _ name: String = "exp.json") throws -> String {
        let url = folder.appendingPathComponent(name)
        try json.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// LeNet on random images, `count` samples of which `batch` per rank per step.
    private func randomLeNet(count: Int = 2048, batch: Int = 16, epochs: Int = 2) -> String {
        """
        {"name": "ddp", "seed": 11,
         "data": {"dataset": "random", "count": \(count), "test_count": 100, "shape": [1, 32, 32], "classes": 10, "batch_size": \(batch),
                  "transforms": [{"scale": 0.00392156862745098}]},
         "model": {"arch": "lenet"}, "optimizer": {"type": "sgd", "lr": 0.05, "momentum": 0.9},
         "train": {"epochs": \(epochs), "log_every": 1}}
        """
    }

    /// The metrics.csv column `name` of the rows of `kind`.
    private func column(_ name: String, kind: String, in run: String) throws -> [Double] {
        let lines = try String(contentsOfFile: run + "/metrics.csv", encoding: .utf8).split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let index = try XCTUnwrap(header.firstIndex(of: name))
        return lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            .filter { $0[0] == kind }.map { Double($0[index]) ?? .nan }
    }

    private func modelTensors(_ path: String) throws -> [String: [Float]] {
        let c = try CheckpointReader.read(contentsOf: URL(fileURLWithPath: path))
        return Dictionary(uniqueKeysWithValues: c.tensors(withPrefix: "model.").map { ($0.name, $0.tensor.scalars) })
    }

    /// DESIGN §10's promise: 2 ranks at per-rank batch B take the same steps as 1 rank at 2B (the
    /// union of the ranks' batch k is the single process's batch k), so losses agree within float
    /// summation error over 50 steps, and so does the final accuracy, on the real MNIST.
    func testTwoRanksFollowOneRankAtTwiceTheBatch() throws {
        let mnist = try CLI.sharedMNIST()
        let config = try write("""
            {"name": "ddp-mnist", "seed": 3,
             "data": {"dataset": "mnist", "root": "\(mnist.deletingLastPathComponent().path)", "limit": 3200, "batch_size": 64,
                      "transforms": [{"normalize": {"mean": [0.1307], "std": [0.3081]}}, {"pad": 2}], "eval_batch_size": 500},
             "model": {"arch": "lenet", "activation": "relu", "pool": "max"}, "optimizer": {"type": "sgd", "lr": 0.05},
             "train": {"epochs": 1, "log_every": 1}}
            """)
        let single = folder.appendingPathComponent("single").path
        let one = try MPIRun.run(ranks: 1, ["train", config, "--out", single, "--quiet"])
        XCTAssertEqual(one.status, 0, one.summary)
        let double = folder.appendingPathComponent("double").path
        let two = try MPIRun.run(ranks: 2, ["train", config, "--out", double, "--quiet", "--set", "data.batch_size=32"])
        XCTAssertEqual(two.status, 0, two.summary)

        let a = try column("train_loss", kind: "step", in: single), b = try column("train_loss", kind: "step", in: double)
        XCTAssertEqual(a.count, 50)
        XCTAssertEqual(b.count, 50)
        for (step, (x, y)) in zip(a, b).enumerated() {
            XCTAssertEqual(x, y, accuracy: 1e-5 * abs(x), "step \(step + 1)")
        }
        let accuracyA = try column("eval_accuracy", kind: "epoch", in: single), accuracyB = try column("eval_accuracy", kind: "epoch", in: double)
        XCTAssertEqual(accuracyA.count, 1)
        XCTAssertEqual(accuracyA[0], accuracyB[0], accuracy: 0.001)
        XCTAssertGreaterThan(accuracyA[0], 0.3, "50 steps of LeNet on MNIST learn something (chance is 0.1)")
    }

    /// Same seed, ranks and threads: the same bits, and rank 0 alone writes the folder and prints.
    func testTwoRanksGiveTheSameBitsRunToRunAndOneRunFolder() throws {
        let config = try write(randomLeNet())
        var runs: [String] = []
        for name in ["a", "b"] {
            let run = folder.appendingPathComponent(name).path
            let result = try MPIRun.run(ranks: 2, ["train", config, "--out", run])
            XCTAssertEqual(result.status, 0, result.summary)
            XCTAssertEqual(result.stdout.components(separatedBy: "done: ").count, 2, "one summary, from rank 0:\n\(result.stdout)")
            XCTAssertTrue(result.stdout.contains("data-parallel: Open MPI"), result.stdout)
            XCTAssertTrue(result.stdout.contains("64 steps per epoch"), "2048 samples / (2 ranks x 16)\n\(result.stdout)")
            runs.append(run)
        }
        XCTAssertEqual(try modelTensors(runs[0] + "/last.mge"), try modelTensors(runs[1] + "/last.mge"))
        XCTAssertEqual(try column("train_loss", kind: "step", in: runs[0]), try column("train_loss", kind: "step", in: runs[1]))
        let files = try FileManager.default.contentsOfDirectory(atPath: runs[0])
        XCTAssertEqual(Set(files.filter { !$0.hasPrefix("events.") }),
                       ["best.mge", "checkpoints", "config.json", "last.mge", "metrics.csv", "train.log"], "\(files)")
        XCTAssertLessThanOrEqual(files.filter { $0.hasPrefix("events.") }.count, 1, "one TensorBoard writer: \(files)")
        let log = try String(contentsOfFile: runs[0] + "/train.log", encoding: .utf8)
        XCTAssertEqual(log.components(separatedBy: "start:").count, 2, "train.log is written once:\n\(log)")
    }

    /// SIGTERM to rank 1 alone: every rank stops at the same step, rank 0 writes last.mge once,
    /// exit 130; resuming with 2 ranks ends bit-identical to an uninterrupted run, and resuming
    /// the same checkpoint with 1 rank restarts the interrupted epoch (said in a note) and finishes.
    func testSIGTERMOnOneRankStopsEveryRankAndResumes() throws {
        // 512 steps an epoch with 2 ranks of 16, 1024 with one.
        let config = try write(randomLeNet(count: 16384, epochs: 4))
        let straight = folder.appendingPathComponent("straight").path
        XCTAssertEqual(try MPIRun.run(ranks: 2, ["train", config, "--out", straight, "--quiet"]).status, 0)

        let stopped = folder.appendingPathComponent("stopped-run").path
        let started = try MPIRun.start(ranks: 2, ["train", config, "--out", stopped])
        // Signal rank 1 once epoch 2 is under way (epoch 1's checkpoint exists).
        var signalled = false
        let deadline = Date().addingTimeInterval(120)
        while started.process.isRunning && Date() < deadline && !signalled {
            if FileManager.default.fileExists(atPath: stopped + "/checkpoints/epoch-0001.mge"),
               let pid = MPIRun.rankProcess(1, marker: stopped) {
                kill(pid, SIGTERM)
                signalled = true
            }
            usleep(20_000)
        }
        XCTAssertTrue(signalled, "rank 1 was not found running in epoch 2")
        let result = try MPIRun.finish(started, timeout: 120, arguments: ["train"])
        XCTAssertEqual(result.status, 130, result.summary)
        XCTAssertTrue(result.stdout.contains("interrupted: saved"), result.summary)
        let checkpoint = try CheckpointReader.read(contentsOf: URL(fileURLWithPath: stopped + "/last.mge"))
        let step = try XCTUnwrap(checkpoint.metadata["step"]?.intValue)
        let completed = try XCTUnwrap(checkpoint.metadata["epoch"]?.intValue)
        XCTAssertGreaterThan(step, 512, "stopped after epoch 1")
        XCTAssertLessThan(step, 4 * 512, "stopped before the end")
        XCTAssertNotEqual(step % 512, 0, "stopped inside an epoch")

        let copy = folder.appendingPathComponent("one-rank").path
        try FileManager.default.copyItem(atPath: stopped, toPath: copy)

        let resumed = try MPIRun.run(ranks: 2, ["train", "--resume", stopped, "--quiet"])
        XCTAssertEqual(resumed.status, 0, resumed.summary)
        XCTAssertEqual(try modelTensors(straight + "/last.mge"), try modelTensors(stopped + "/last.mge"))

        let single = try CLI.run(["train", "--resume", copy, "--quiet"], environment: ["NTRAIN_THREADS": "1"], timeout: 240)
        XCTAssertEqual(single.status, 0, single.summary)
        XCTAssertTrue((single.stdout + single.stderr).contains("restarts from its first batch"), single.summary)
        XCTAssertEqual(try column("epoch", kind: "epoch", in: copy), [1, 2, 3, 4])
        let steps = try column("step", kind: "step", in: copy)
        XCTAssertEqual(steps.last, Double(completed * 512 + (4 - completed) * 1024), "the interrupted epoch again, at 1024 one-rank steps")
    }

    /// A rank killed with SIGKILL: mpirun takes the others down and exits non-zero in bounded time,
    /// and the checkpoint rank 0 wrote before is intact.
    func testAKilledRankStopsTheOthersWithoutHanging() throws {
        let config = try write(randomLeNet(count: 4096, epochs: 20))
        let run = folder.appendingPathComponent("killed-run").path
        let started = try MPIRun.start(ranks: 2, ["train", config, "--out", run, "--quiet"])
        var killed = false
        let deadline = Date().addingTimeInterval(120)
        while started.process.isRunning && Date() < deadline && !killed {
            if FileManager.default.fileExists(atPath: run + "/checkpoints/epoch-0001.mge"), let pid = MPIRun.rankProcess(1, marker: run) {
                kill(pid, SIGKILL)
                killed = true
            }
            usleep(20_000)
        }
        XCTAssertTrue(killed)
        let began = Date()
        let result = try MPIRun.finish(started, timeout: 60, arguments: ["train"])
        XCTAssertNotEqual(result.status, 0, result.summary)
        XCTAssertLessThan(Date().timeIntervalSince(began), 60)
        XCTAssertTrue(result.stderr.contains("signal 9") || result.stderr.contains("Killed") || result.stderr.contains("exited"), result.summary)
        XCTAssertNoThrow(try CheckpointReader.read(contentsOf: URL(fileURLWithPath: run + "/last.mge")))
        XCTAssertNil(MPIRun.rankProcess(0, marker: run), "rank 0 is still running")
    }

    /// Resuming a run that 2 ranks finished an epoch of with 1 process, and the other way round.
    func testResumeAtAnEpochBoundaryWithAnotherNumberOfRanks() throws {
        let config = try write(randomLeNet(count: 1024, epochs: 1))
        let run = folder.appendingPathComponent("grow").path
        XCTAssertEqual(try CLI.run(["train", config, "--out", run, "--quiet"], timeout: 120).status, 0)
        let two = try MPIRun.run(ranks: 2, ["train", "--resume", run, "--epochs", "2", "--quiet"])
        XCTAssertEqual(two.status, 0, two.summary)
        let one = try CLI.run(["train", "--resume", run, "--epochs", "3", "--quiet"], timeout: 120)
        XCTAssertEqual(one.status, 0, one.summary)
        XCTAssertEqual(try column("epoch", kind: "epoch", in: run), [1, 2, 3])
        // 64 steps of 16 alone, 32 steps of 2 x 16, 64 steps alone.
        XCTAssertEqual(try column("step", kind: "epoch", in: run), [64, 96, 160])
    }

    /// A config error is printed once (by rank 0) and every rank exits 2; nothing is written.
    func testAConfigErrorIsReportedOnceWithExitTwo() throws {
        let config = try write(randomLeNet().replacingOccurrences(of: "\"lr\": 0.05", with: "\"lr\": -1"))
        let run = folder.appendingPathComponent("bad").path
        let result = try MPIRun.run(ranks: 2, ["train", config, "--out", run])
        XCTAssertEqual(result.status, 2, result.summary)
        XCTAssertEqual(result.stderr.components(separatedBy: "error: ").count, 2, result.summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run))
    }

    /// Started as one of several ranks where MPI cannot load: an error (exit 2), never a run of its own.
    func testSeveralRanksWithoutMPIIsAnError() throws {
        let config = try write(randomLeNet())
        let run = folder.appendingPathComponent("nompi").path
        let result = try CLI.run(["train", config, "--out", run],
                                 environment: ["OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_RANK": "0",
                                               "NTRAIN_MPI_LIBRARY": "/nonexistent/libmpi.so.40"])
        XCTAssertEqual(result.status, 2, result.summary)
        XCTAssertTrue(result.stderr.contains("one of 2 MPI ranks") && result.stderr.contains("openmpi-bin"), result.summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run))
    }

    /// `ntrain devices` names the MPI library and this process's place in the world.
    func testDevicesReportsMPIAndTheWorldSize() throws {
        let alone = try CLI.run(["devices", "--json"])
        XCTAssertEqual(alone.status, 0, alone.summary)
        let mpi = try XCTUnwrap(try CLI.jsonObject(alone.stdout)["mpi"] as? [String: Any])
        XCTAssertTrue((mpi["version"] as? String ?? "").hasPrefix("Open MPI"), "\(mpi)")
        XCTAssertEqual(mpi["world_size"] as? Int, 1)
        let launched = try MPIRun.run(ranks: 2, ["devices"])
        XCTAssertEqual(launched.status, 0, launched.summary)
        XCTAssertTrue(launched.stdout.contains("rank 0 of 2") && launched.stdout.contains("rank 1 of 2"), launched.stdout)
    }
}
