import Foundation
import XCTest

/// Runs `mpirun -np N ntrain ...` for the data-parallel tests: Open MPI's real launcher, on this
/// machine's cores (oversubscribed where there are more ranks than cores).
enum MPIRun {
    /// mpirun on the PATH, or an XCTSkip saying how to install it.
    static func launcher() throws -> URL {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for dir in paths {
            let candidate = URL(fileURLWithPath: String(dir)).appendingPathComponent("mpirun")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw XCTSkip("mpirun is not installed (Debian: apt-get install openmpi-bin libopenmpi-dev); skipping the MPI tests")
    }

    /// The mpirun arguments before the program: root needs --allow-run-as-root; 2 cores need
    /// --oversubscribe for more ranks than cores.
    static func arguments(ranks: Int, _ ntrainArguments: [String]) throws -> [String] {
        var arguments = ["-np", String(ranks), "--oversubscribe"]
        if getuid() == 0 { arguments.append("--allow-run-as-root") }
        return arguments + [try CLI.binary().path] + ntrainArguments
    }

    /// The environment every rank gets: one thread per rank (bit-identical runs need a fixed
    /// count), and no cross-memory attach (containers often forbid the ptrace it needs).
    static var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["NTRAIN_THREADS"] = "1"
        env["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none"
        return env
    }

    /// Runs to completion (or `timeout`) and returns the status and output.
    static func run(ranks: Int, _ ntrainArguments: [String], extraEnvironment: [String: String] = [:],
                    timeout: Double = 240) throws -> CLI.Result {
        let process = try start(ranks: ranks, ntrainArguments, extraEnvironment: extraEnvironment)
        return try finish(process, timeout: timeout, arguments: ntrainArguments)
    }

    /// A started mpirun with its output collected into temporary files (read by `finish`).
    final class Started {
        let process: Process
        let stdout: URL
        let stderr: URL
        init(process: Process, stdout: URL, stderr: URL) {
            self.process = process
            self.stdout = stdout
            self.stderr = stderr
        }
    }

    static func start(ranks: Int, _ ntrainArguments: [String], extraEnvironment: [String: String] = [:]) throws -> Started {
        let process = Process()
        process.executableURL = try launcher()
        process.arguments = try arguments(ranks: ranks, ntrainArguments)
        var env = environment
        for (key, value) in extraEnvironment { env[key] = value }
        process.environment = env
        process.standardInput = FileHandle.nullDevice
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("ntrain-mpirun-\(UUID().uuidString)")
        let out = base.appendingPathExtension("out"), err = base.appendingPathExtension("err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        return Started(process: process, stdout: out, stderr: err)
    }

    static func finish(_ started: Started, timeout: Double, arguments: [String]) throws -> CLI.Result {
        let deadline = Date().addingTimeInterval(timeout)
        while started.process.isRunning && Date() < deadline { usleep(50_000) }
        if started.process.isRunning {
            started.process.terminate()
            started.process.waitUntilExit()
            throw CLI.Failure.timedOut(arguments: arguments, seconds: timeout)
        }
        defer {
            try? FileManager.default.removeItem(at: started.stdout)
            try? FileManager.default.removeItem(at: started.stderr)
        }
        return CLI.Result(status: started.process.terminationStatus,
                          stdout: (try? String(contentsOf: started.stdout, encoding: .utf8)) ?? "",
                          stderr: (try? String(contentsOf: started.stderr, encoding: .utf8)) ?? "")
    }

    /// The pid of the ntrain process with `rank` whose command line contains `marker` (the run's
    /// unique --out folder), read from /proc; nil while it has not started.
    static func rankProcess(_ rank: Int, marker: String) -> pid_t? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            guard let pid = Int32(entry),
                  let cmdline = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                  let environ = FileManager.default.contents(atPath: "/proc/\(entry)/environ") else { continue }
            let command = String(decoding: cmdline, as: UTF8.self)
            guard command.contains(marker), !command.contains("mpirun") else { continue }
            let variables = String(decoding: environ, as: UTF8.self).split(separator: "\0")
            if variables.contains(Substring("OMPI_COMM_WORLD_RANK=\(rank)")) { return pid }
        }
        return nil
    }
}
