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
extension DistributedError: ExitCodeProviding {}
extension InteropError: ExitCodeProviding {}

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

    /// Whether every rank of a data-parallel run meets `error` alike (it comes from the config,
    /// the data or the model, which every rank builds the same way), so one copy of it is enough.
    static func isAlikeOnEveryRank(_ error: Error) -> Bool {
        switch error {
        case is ConfigError, is DeviceError: return true
        case let e as EngineError:
            switch e {
            case .invalidData, .invalidModel, .nonFinite: return true
            default: return false
            }
        case let e as DistributedError:
            if case .unsupported = e { return true }
            return false
        default: return false
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
/// `printed: false` (the other ranks of a data-parallel run) exits with the code but leaves the
/// message to rank 0, which meets the same error.
func reportingFailures(printed: Bool = true, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        if printed { printError("error: \(ExitStatus.message(for: error))") }
        throw ExitCode(ExitStatus.code(for: error))
    }
}

/// Runs the part of a command in which the ranks of `group` work together. A failure on one rank
/// stops all of them with MPI_Abort (the others may be waiting for it in a collective and would
/// otherwise hang): rank 0 prints the error, another rank prints it when only it can know it.
func stoppingEveryRankOnFailure(_ group: any ProcessGroup, _ body: () throws -> Void) throws {
    guard group.size > 1 else { return try body() }
    do {
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        if group.isLeader || !ExitStatus.isAlikeOnEveryRank(error) {
            printError((group.isLeader ? "" : "rank \(group.rank): ") + "error: \(ExitStatus.message(for: error))")
        }
        group.abort(code: ExitStatus.code(for: error))
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
