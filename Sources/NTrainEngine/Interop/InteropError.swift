/// Problems reading or writing the formats other tools use (safetensors, ONNX) and mapping their
/// tensors onto an ntrain model.
public enum InteropError: Error, CustomStringConvertible {
    /// The file is not a valid file of the format (exit 2).
    case invalidFile(path: String, format: String, problem: String)
    /// The file is valid but its tensors do not fit the model (exit 2): each line names one
    /// tensor, what the model expects and what the file holds.
    case weightsMismatch(path: String, model: String, problems: [String])
    /// The model holds a layer the target format cannot express (exit 2).
    case unsupportedLayer(format: String, layer: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidFile(path, format, problem):
            return "\(path): not a usable \(format) file: \(problem)"
        case let .weightsMismatch(path, model, problems):
            let shown = problems.prefix(40).map { "  " + $0 }.joined(separator: "\n")
            let more = problems.count > 40 ? "\n  ... and \(problems.count - 40) more" : ""
            return "\(path) does not fit the configured model (\(model)); \(problems.count) problem(s), expected vs found:\n"
                + shown + more
                + "\nExport the state dict of the equivalent PyTorch module (docs/interop.md lists the names each model uses)."
        case let .unsupportedLayer(format, layer, reason):
            return "cannot export to \(format): \(layer): \(reason)"
        }
    }

    public var exitCode: Int32 { 2 }
}
