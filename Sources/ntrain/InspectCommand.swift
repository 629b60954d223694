import ArgumentParser
import NTrainEngine

/// `ntrain inspect CHECKPOINT.mge [--json]`: validate a checkpoint and show its contents.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Validate a .mge checkpoint and print its header, metadata and tensor table.",
        discussion: """
            Every checksum is verified. Files that are not ntrain checkpoints (MegEngine or PyTorch pickles, \
            MegEngine graph dumps, zip archives) are recognised and refused.

            Exit status: 0 ok, 2 missing, unreadable or invalid checkpoint.
            """)

    @Argument(help: "An ntrain checkpoint, e.g. runs/lenet-mnist/<time>/checkpoints/last.mge.", completion: .file(extensions: ["mge"]))
    var checkpoint: String

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        try reportingFailures {
            let inspection = try CheckpointInspector.inspect(path: checkpoint)
            printOutput(json ? inspection.json().serialized(pretty: true) + "\n" : inspection.text())
        }
    }
}
