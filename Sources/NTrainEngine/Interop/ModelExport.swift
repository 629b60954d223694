import Foundation
import NTrainNN

/// The formats `ntrain export` writes.
public enum ExportFormat: String, CaseIterable, Sendable {
    case onnx, safetensors

    public var fileExtension: String { rawValue }
}

/// `ntrain export`: a checkpoint's eval-mode model as an ONNX graph or a safetensors state dict,
/// written atomically (a failure leaves no partial file and the target untouched).
public enum ModelExport {
    public struct Result {
        public var output: String
        public var bytes: Int
        public var tensors: Int
        public var usesAverage: Bool
        /// ONNX only: the operator set the graph declares.
        public var opset: Int?
    }

    public static func run(checkpoint path: String, format: ExportFormat, output: String?) throws -> Result {
        let source = try CheckpointModel.load(path)
        let url = try outputURL(checkpoint: path, format: format, output: output)
        let data: Data
        var opset: Int?
        switch format {
        case .safetensors:
            var metadata = source.exportMetadata
            metadata["format"] = "pt"  // what transformers' loaders check for a PyTorch state dict
            data = try SafetensorsWeights.file(of: source.model, metadata: metadata).serialized()
        case .onnx:
            let graph = try ONNXExporter(source: source)
            data = try graph.serialized()
            opset = ONNXExporter.opset
        }
        do {
            try CheckpointWriter.writeAtomically(data, to: url)
        } catch let error as CheckpointError {
            throw EngineError.io("cannot write \(url.path): \(error)")
        }
        return Result(output: url.path, bytes: data.count, tensors: SafetensorsWeights.stateDict(of: source.model).count, usesAverage: source.usesAverage,
                      opset: opset)
    }

    /// `-o FILE` as given, `-o DIR/` → `DIR/<checkpoint name>.<ext>`, none → beside the checkpoint.
    /// The folder must exist: a mistyped path is an error, not a new tree of folders.
    static func outputURL(checkpoint: String, format: ExportFormat, output: String?) throws -> URL {
        let base = URL(fileURLWithPath: checkpoint).deletingPathExtension().lastPathComponent + "." + format.fileExtension
        var url: URL
        var isDir: ObjCBool = false
        if let output {
            url = URL(fileURLWithPath: output)
            if FileManager.default.fileExists(atPath: output, isDirectory: &isDir), isDir.boolValue {
                url = url.appendingPathComponent(base)
            } else if output.hasSuffix("/") {
                throw EngineError.invalidData("-o \(output): the folder does not exist; create it first or name a file in an existing folder")
            }
        } else {
            url = URL(fileURLWithPath: checkpoint).deletingLastPathComponent().appendingPathComponent(base)
        }
        let folder = url.deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
            throw EngineError.invalidData("-o \(url.path): the folder \(folder) does not exist; create it first or choose another path")
        }
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue {
            throw EngineError.invalidData("-o \(url.path) is a folder")
        }
        return url
    }
}
