import ArgumentParser
import NTrainEngine

@main
struct NTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ntrain",
        abstract: "Train and evaluate classic vision models from one JSON experiment file.",
        version: NTrainVersion.string,
        subcommands: [DownloadCommand.self])
}
