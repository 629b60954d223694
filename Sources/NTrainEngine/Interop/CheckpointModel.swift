import Foundation
import NTrainCore
import NTrainData
import NTrainNN

/// A trained model rebuilt from a checkpoint alone, in evaluation mode on the CPU, with what a
/// consumer outside training needs: the example shape, class names and the eval transforms.
/// What `ntrain export` and `ntrain predict` start from; no dataset is read.
public struct CheckpointModel {
    public let path: String
    public let config: ExperimentConfig
    public let model: Module
    /// One example's shape after the transforms: `[C, H, W]` or `[F]`.
    public let inputShape: Shape
    /// The stored images' `[C, H, W]` before the transforms (nil for feature data).
    public let imageShape: [Int]?
    /// Index = class; empty for regression.
    public let classNames: [String]
    /// Whether the weights are the moving average (`train.ema`) rather than the live ones.
    public let usesAverage: Bool

    public var isRegression: Bool { classNames.isEmpty }

    /// The data transforms applied at evaluation (augmentations skipped).
    public var evalTransforms: [TransformSpec] { config.data.transforms.filter { !$0.isTrainingOnly } }

    /// Reads `path` and rebuilds its model with the weights training evaluated (the moving average
    /// where the run kept one, as `ntrain eval` does).
    public static func load(_ path: String) throws -> CheckpointModel {
        let checkpoint = try CheckpointReader.read(contentsOf: URL(fileURLWithPath: path))
        let config = try TrainingCheckpoint.config(of: checkpoint, path: path)
        func ints(_ key: String) -> [Int]? {
            checkpoint.metadata[key]?.arrayValue.flatMap { a in
                let v = a.compactMap(\.intValue)
                return v.count == a.count && v.allSatisfy { $0 > 0 } ? v : nil
            }
        }
        guard let input = ints("input_shape"), !input.isEmpty else {
            throw EngineError.unusableCheckpoint(path: path, reason: "metadata.input_shape is missing or malformed; it was not written by ntrain train")
        }
        let names = checkpoint.metadata["class_names"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let model = try ModelFactory.make(config.model, input: Shape(input), outputs: names.isEmpty ? 1 : names.count,
                                          seed: UInt64(config.seed))
        try TrainingCheckpoint.loadModel(model, from: checkpoint, path: path, preferAverage: true)
        model.eval()
        return CheckpointModel(path: path, config: config, model: model, inputShape: Shape(input),
                               imageShape: ints("image_shape") ?? config.data.dataset.builtinImageShape ?? (input.count == 3 ? input : nil),
                               classNames: names, usesAverage: !checkpoint.tensors(withPrefix: "ema.").isEmpty)
    }

    /// What exported files carry besides the weights: the config, the class names, the shapes and
    /// the eval transforms, each as JSON text.
    public var exportMetadata: [String: String] {
        var out: [String: String] = [
            "producer": "ntrain \(NTrainVersion.string)",
            "ntrain_config": config.jsonValue.serialized(),
            "class_names": JSONValue.array(classNames.map { .string($0) }).serialized(),
            "input_shape": JSONValue.array(inputShape.dims.map { .integer(Int64($0)) }).serialized(),
            "transforms": (try? JSONValue(encoding: evalTransforms).serialized()) ?? "[]",
        ]
        if let imageShape { out["image_shape"] = JSONValue.array(imageShape.map { .integer(Int64($0)) }).serialized() }
        if let (mean, std) = normalization {
            out["normalize_mean"] = JSONValue.array(mean.map { .double($0) }).serialized()
            out["normalize_std"] = JSONValue.array(std.map { .double($0) }).serialized()
        }
        return out
    }

    /// The eval normalisation as torchvision's `ToTensor` + `Normalize` take it (0...1 units), where
    /// the value steps are exactly one `normalize` (with `scale` the pair would mislead).
    public var normalization: (mean: [Double], std: [Double])? {
        guard !evalTransforms.contains(where: { if case .scale = $0 { return true } else { return false } }) else { return nil }
        for case let .normalize(mean, std) in evalTransforms {
            let pixel = NormalizeUnits.infer(mean: mean.map(Float.init), std: std.map(Float.init)) == .pixel
            return pixel ? (mean.map { $0 / 255 }, std.map { $0 / 255 }) : (mean, std)
        }
        return nil
    }
}
