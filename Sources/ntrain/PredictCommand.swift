import ArgumentParser
import Foundation
import NTrainCore
import NTrainEngine

/// `ntrain predict CHECKPOINT.mge IMAGE|DIR ... [--top K] [--json]`.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify image files (PNG, JPEG, PGM) with a checkpoint's model.",
        discussion: """
            Each image is converted to the channels the model was trained on (RGB to gray with \
            ITU-R 601-2 luma, as PIL's convert("L"); gray to RGB by repetition; an alpha channel \
            dropped), resized to the training images' size (antialiased bilinear, as torchvision's \
            Resize; the aspect ratio is not kept), then given the checkpoint's eval transforms. \
            Folders are searched recursively for .png, .jpg, .jpeg and .pgm files.
            A file that cannot be read or decoded is reported and the others are still predicted.
            Exit status: 0 all predicted, 1 some file failed, 2 invalid checkpoint or usage.
            """)

    @Argument(help: "An ntrain checkpoint (.mge).", completion: .file(extensions: ["mge"]))
    var checkpoint: String

    @Argument(help: "Image files or folders of images.", completion: .file(extensions: ["png", "jpg", "jpeg", "pgm"]))
    var images: [String]

    @Option(help: "How many classes to show per image, most probable first.")
    var top: Int = 5

    @Option(help: "Images per batch.")
    var batchSize: Int = 64

    @Flag(help: "Print one JSON object per file (JSON lines).")
    var json = false

    func validate() throws {
        if images.isEmpty { throw ValidationError("give at least one image file or folder") }
        if top < 1 { throw ValidationError("--top must be at least 1") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        var failed = 0
        try reportingFailures {
            try BLAS.load()
            let predictor = try Predictor(checkpoint: checkpoint, batchSize: batchSize)
            let files = Predictor.files(images)
            guard !files.isEmpty else {
                throw EngineError.invalidData("no .png, .jpg, .jpeg or .pgm files in \(images.joined(separator: ", "))")
            }
            let bar = LiveBar()
            let showBar = files.count > 1 && !json
            var done = 0
            predictor.predict(files, top: top) { result in
                done += 1
                if result.error != nil { failed += 1 }
                if json {
                    printOutput(Self.json(result).serialized() + "\n")
                } else {
                    bar.clear()
                    if let error = result.error { printError("error: \(error)") } else { printOutput(Self.text(result) + "\n") }
                    if showBar { bar.draw(fraction: Double(done) / Double(files.count), "predict \(done)/\(files.count)") }
                }
            }
            bar.clear()
            if failed > 0 && !json { printError("\(failed) of \(counted(files.count, "file")) could not be predicted") }
        }
        if failed > 0 { throw ExitCode(ExitStatus.runtimeFailure) }
    }

    static func text(_ p: Prediction) -> String {
        let ranked = p.top.map { String(format: "%@ %.1f%%", $0.name, $0.probability * 100) }
        let values = p.values.map { String(format: "%.6g", $0) }
        let note = p.adjustments.isEmpty ? "" : "  (" + p.adjustments.joined(separator: ", ") + ")"
        return "\(p.file): " + (ranked.isEmpty ? values : ranked).joined(separator: ", ") + note
    }

    static func json(_ p: Prediction) -> JSONValue {
        var o: [String: JSONValue] = ["file": .string(p.file)]
        if let error = p.error {
            o["error"] = .string(error)
        } else if !p.top.isEmpty {
            o["top"] = .array(p.top.map { .object(["class": .string($0.name), "index": .integer(Int64($0.index)), "probability": .double($0.probability)]) })
        } else {
            o["values"] = .array(p.values.map { .double($0) })
        }
        if !p.adjustments.isEmpty { o["adjustments"] = .array(p.adjustments.map { .string($0) }) }
        return .object(o)
    }
}
