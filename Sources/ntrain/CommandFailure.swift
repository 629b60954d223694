import ArgumentParser
import Foundation
import NTrainCore
import NTrainEngine

/// An error type that knows its exit code. Errors from other modules (datasets, download, training)
/// conform here to choose between 2 (bad input) and 1 (runtime failure); unknown errors exit 1.
protocol ExitCodeProviding: Error {
    var exitCode: Int32 { get }
}

/// The engine's errors carry their own code: 2 for invalid data/model/checkpoint, 1 for NaN aborts and I/O.
extension EngineError: ExitCodeProviding {}

/// Exit codes of every command (DESIGN §1).
enum ExitStatus {
    /// Runtime failure: I/O, download, NaN abort.
    static let runtimeFailure: Int32 = 1
    /// Usage error or invalid config/checkpoint/device.
    static let usage: Int32 = 2

    /// The exit code for an error thrown by a command.
    static func code(for error: Error) -> Int32 {
        switch error {
        case let e as ExitCodeProviding: return e.exitCode
        case is ConfigError, is DeviceError, is DeviceReportError, is JSONParseError, is BLASError: return usage
        case let e as CheckpointError:
            // A checkpoint that cannot be read is bad input (missing, not a file, unreadable);
            // failing to write, fsync or rename one is a runtime I/O failure.
            if case .io(_, let operation, _) = e, !operation.hasPrefix("read") { return runtimeFailure }
            return usage
        default: return runtimeFailure
        }
    }

    /// The user-facing text of an error: ntrain's typed errors give their `description`
    /// (CustomStringConvertible); Foundation's errors their localized description. Never a stack trace.
    static func message(for error: Error) -> String {
        if error is CocoaError || error is POSIXError || type(of: error) == NSError.self { return error.localizedDescription }
        return String(describing: error)
    }
}

/// Runs a command body, turning a thrown error into `error: <message>` on stderr and the
/// matching exit code (via swift-argument-parser's `ExitCode`, which prints nothing itself).
func reportingFailures(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        printError("error: \(ExitStatus.message(for: error))")
        throw ExitCode(ExitStatus.code(for: error))
    }
}

/// Writes a line to standard error.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Writes text to standard output exactly as given (flushed, so output is not lost on exit).
func printOutput(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}
