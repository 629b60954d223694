import ArgumentParser
import Foundation
import NTrainEngine

/// `ntrain export CHECKPOINT.mge --format onnx|safetensors [-o FILE]`.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a checkpoint's model as ONNX (for onnxruntime and other runtimes) or as a safetensors state dict (for PyTorch).",
        discussion: """
            The eval-mode model is exported with the weights ntrain eval uses (the moving average where \
            train.ema kept one). ONNX: input "input" [N, C, H, W] (dynamic N) after the data transforms, \
            output "logits"; the class names, transforms and config are in metadata_props. safetensors: \
            the state dict under PyTorch's names (docs/interop.md), the same metadata in __metadata__. \
            The file is written atomically: on failure nothing is left behind.
            Exit status: 0 ok, 1 write failure, 2 invalid checkpoint or usage.
            """)

    @Argument(help: "An ntrain checkpoint (.mge).", completion: .file(extensions: ["mge"]))
    var checkpoint: String

    @Option(help: "onnx or safetensors.", completion: .list(ExportFormat.allCases.map(\.rawValue)))
    var format: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Output file or existing folder (default: beside the checkpoint, with the format's extension).", valueName: "FILE"), completion: .file(extensions: ["onnx", "safetensors"]))
    var output: String?

    func validate() throws {
        guard ExportFormat(rawValue: format) != nil else {
            throw ValidationError("--format must be \(ExportFormat.allCases.map(\.rawValue).joined(separator: " or ")), not '\(format)'")
        }
    }

    func run() throws {
        try reportingFailures {
            let result = try ModelExport.run(checkpoint: checkpoint, format: ExportFormat(rawValue: format)!, output: output)
            let weights = result.usesAverage ? " (the moving-average weights)" : ""
            let opset = result.opset.map { ", ONNX opset \($0)" } ?? ""
            printOutput("wrote \(result.output): \(result.tensors) tensors\(weights), \(result.bytes) bytes\(opset)\n")
        }
    }
}
