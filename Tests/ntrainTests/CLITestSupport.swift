import Foundation
import XCTest

/// Runs the built `ntrain` executable for end-to-end CLI tests.
///
/// The binary must already be built: `swift test` and `swift build --build-tests` build every
/// product, the executable included, into the same products folder as the test bundle
/// (`.build/<triple>/debug`), which is searched first. `NTRAIN_BINARY=/path/to/ntrain` overrides
/// the search (e.g. to test a release build).
enum CLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        /// For assertion messages.
        var summary: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
    }

    enum Failure: Error, CustomStringConvertible {
        case binaryNotFound(searched: [String])
        case timedOut(arguments: [String], seconds: Double)

        var description: String {
            switch self {
            case .binaryNotFound(let searched):
                return "the ntrain executable is not built (looked in \(searched.joined(separator: ", "))); "
                    + "run `swift build` (or `swift build --build-tests`) first, or set NTRAIN_BINARY"
            case .timedOut(let arguments, let seconds):
                return "ntrain \(arguments.joined(separator: " ")) did not finish within \(seconds) s"
            }
        }
    }

    /// Candidate locations of the binary, most specific first.
    static var candidates: [URL] {
        var urls: [URL] = []
        if let explicit = ProcessInfo.processInfo.environment["NTRAIN_BINARY"], !explicit.isEmpty {
            urls.append(URL(fileURLWithPath: explicit))
        }
        // The products folder the test bundle itself was built into.
        for bundle in [Bundle.main] + Bundle.allBundles {
            var folder = bundle.bundleURL
            if folder.pathExtension == "xctest" { folder.deleteLastPathComponent() }
            urls.append(folder.appendingPathComponent("ntrain"))
        }
        // The package's default build folders, relative to this source file.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        urls.append(root.appendingPathComponent(".build/debug/ntrain"))
        urls.append(root.appendingPathComponent(".build/release/ntrain"))
        return urls
    }

    /// The `ntrain` executable to test.
    static func binary() throws -> URL {
        let found = candidates.first { url in
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) && !isFolder.boolValue
                && FileManager.default.isExecutableFile(atPath: url.path)
        }
        guard let found else { throw Failure.binaryNotFound(searched: candidates.map(\.path)) }
        return found
    }

    /// Runs `ntrain arguments` with stdin closed (/dev/null). `environment` entries are added to
    /// (or, with a nil value, removed from) this process's environment.
    static func run(
        _ arguments: [String], environment: [String: String?] = [:], in folder: URL? = nil, timeout: Double = 60
    ) throws -> Result {
        let process = Process()
        process.executableURL = try binary()
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        if let folder { process.currentDirectoryURL = folder }
        process.standardInput = FileHandle.nullDevice
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err

        // Drain both pipes concurrently so a chatty child cannot block on a full pipe.
        let drained = DispatchGroup()
        let collected = Collected()
        for (pipe, isError) in [(out, false), (err, true)] {
            drained.enter()
            DispatchQueue.global().async {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                collected.set(data, isError: isError)
                drained.leave()
            }
        }
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            _ = exited.wait(timeout: .now() + 5)
            throw Failure.timedOut(arguments: arguments, seconds: timeout)
        }
        drained.wait()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: collected.out, as: UTF8.self),
            stderr: String(decoding: collected.err, as: UTF8.self))
    }

    /// Output gathered by the reader threads.
    private final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var out = Data()
        private(set) var err = Data()

        func set(_ data: Data, isError: Bool) {
            lock.lock()
            defer { lock.unlock() }
            if isError { err = data } else { out = data }
        }
    }

    /// A scratch folder; the caller removes it.
    /// The real MNIST in `shared/datasets/mnist` beside the checkout (found by walking up from this
    /// file), or an XCTSkip saying it is absent.
    static func sharedMNIST() throws -> URL {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        for _ in 0..<6 {
            dir.deleteLastPathComponent()
            let candidate = dir.appendingPathComponent("shared/datasets/mnist")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("train-images-idx3-ubyte.gz").path) {
                return candidate
            }
        }
        throw XCTSkip("the real MNIST (shared/datasets/mnist beside the checkout) is absent; skipping")
    }

    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ntrain-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Parses text (a command's stdout) as one JSON object.
    static func jsonObject(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(text.utf8))
        guard let object = value as? [String: Any] else {
            XCTFail("expected a JSON object, got: \(text)", file: file, line: line)
            return [:]
        }
        return object
    }
}
