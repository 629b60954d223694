import ArgumentParser
import Foundation
import NTrainCPU
import NTrainCore
import NTrainEngine

@main
struct NTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ntrain",
        abstract: "Train and evaluate classic vision models from one JSON experiment file.",
        discussion: "Exit status: 0 ok, 1 runtime failure (I/O, download, NaN abort), 2 usage error or invalid config, checkpoint or device.",
        version: NTrainVersion.string,
        subcommands: [TrainCommand.self, EvalCommand.self, PredictCommand.self, ExportCommand.self, DownloadCommand.self, InspectCommand.self, DevicesCommand.self])

    /// swift-argument-parser exits 64 (EX_USAGE) on bad arguments; ntrain's contract (DESIGN §1)
    /// is 2 for every usage error, so parsing failures are remapped here. Help, `--version` and
    /// commands' own `ExitCode`s pass through unchanged.
    static func main() {
        // Before anything touches the engine, which may be compiled for newer CPUs than this one.
        if let problem = EngineCPU.problem() {
            printError("error: " + problem)
            Foundation.exit(ExitStatus.usage)
        }
        // A tensor that cannot be allocated ends the run with a message, not a trap and a backtrace.
        BufferPool.outOfMemory = { bytes in
            printError("error: out of memory: a tensor of \(bytes) bytes (\(String(format: "%.1f", Double(bytes) / 1_073_741_824)) GiB) "
                + "could not be allocated; lower data.batch_size or the model's size (the estimate under the model summary "
                + "shows what training needs), or free memory. Checkpoints already written are intact.")
            Foundation.exit(ExitStatus.runtimeFailure)
        }
        if let problem = unknownSubcommand(Array(CommandLine.arguments.dropFirst())) {
            printError("error: " + problem)
            Foundation.exit(ExitStatus.usage)
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                printError(fullMessage(for: error))
                Foundation.exit(ExitStatus.usage)
            }
            exit(withError: error)
        }
    }

    /// "unknown command 'trian'; did you mean train?" for a first word that names no subcommand
    /// (swift-argument-parser would take it for a stray argument).
    static func unknownSubcommand(_ arguments: [String]) -> String? {
        guard let first = arguments.first, !first.hasPrefix("-") else { return nil }
        let names = configuration.subcommands.compactMap { $0.configuration.commandName } + ["help"]
        guard !names.contains(first) else { return nil }
        let hint = nearest(first, in: names).map { "did you mean \($0)? " } ?? ""
        return "unknown command '\(first)'; \(hint)commands: \(names.filter { $0 != "help" }.joined(separator: ", ")) (ntrain --help)"
    }
}
