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
        subcommands: [TrainCommand.self, EvalCommand.self, DownloadCommand.self, InspectCommand.self, DevicesCommand.self])

    /// swift-argument-parser exits 64 (EX_USAGE) on bad arguments; ntrain's contract (DESIGN §1)
    /// is 2 for every usage error, so parsing failures are remapped here. Help, `--version` and
    /// commands' own `ExitCode`s pass through unchanged.
    static func main() {
        // Before anything touches the engine, which may be compiled for newer CPUs than this one.
        if let problem = EngineCPU.problem() {
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
}
