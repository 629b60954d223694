import ArgumentParser
import Foundation
import NTrainData
import NTrainCore
import NTrainEngine

/// `ntrain eval CHECKPOINT.mge`: evaluate a checkpoint on its dataset.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a checkpoint: loss, accuracy (top-1, top-5), per-class accuracy, confusion matrix; MSE/MAE for regression.",
        discussion: "The checkpoint holds its config, so the model and data are rebuilt from it alone.\nExit status: 0 ok, 1 runtime failure, 2 invalid checkpoint or usage.")

    @Argument(help: "An ntrain checkpoint (.mge).", completion: .file(extensions: ["mge"]))
    var checkpoint: String

    @Option(help: "Which split to evaluate: test or train.", completion: .list(["test", "train"]))
    var split: String = "test"

    @Option(help: ArgumentHelp("Dataset root (default: the config's data.root, NTRAIN_DATA, ~/.cache/ntrain/datasets).", valueName: "DIR"), completion: .directory)
    var dataRoot: String?

    @Option(help: "Evaluation batch size (default: the config's data.eval_batch_size).")
    var batchSize: Int?

    @Option(help: "Device: cpux, cpuN, gpux, gpuN or xpux.", completion: .list(["cpux", "gpux", "xpux", "cpu0", "gpu0"]))
    var device: String?

    @Option(help: "Test-time augmentation: none, or flip (average each image's logits with its mirror image's). Default: the config's train.tta.", completion: .list(["none", "flip"]))
    var tta: String?

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard DatasetSplit(rawValue: split) != nil else { throw ValidationError("--split must be test or train, not '\(split)'") }
        if let tta, TestTimeAugmentation(rawValue: tta) == nil { throw ValidationError("--tta must be none or flip, not '\(tta)'") }
    }

    func run() throws {
        try reportingFailures {
            // First, before any other thread starts: the kernel choice sets OPENBLAS_CORETYPE around the load.
            try BLAS.load()
            let result = try CheckpointEvaluation.run(checkpoint: checkpoint, split: DatasetSplit(rawValue: split)!, dataRoot: dataRoot,
                                                      batchSize: batchSize, device: device,
                                                      tta: tta.flatMap(TestTimeAugmentation.init(rawValue:))) { if !json { printError($0) } }
            printOutput(json ? EvaluationReport.json(result).serialized(pretty: true) + "\n" : EvaluationReport.text(result))
        }
    }
}
