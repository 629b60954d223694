import Foundation
import NTrainCore
import NTrainData
import NTrainNN

/// One file's result from `ntrain predict`.
public struct Prediction {
    public struct Ranked: Equatable {
        public var index: Int
        public var name: String
        public var probability: Double
    }

    public var file: String
    /// The most probable classes, best first (classification).
    public var top: [Ranked] = []
    /// The model's outputs (regression).
    public var values: [Double] = []
    /// What was done to fit the image to the model (resized, converted to gray, alpha dropped).
    public var adjustments: [String] = []
    /// Why the file could not be predicted (then `top` and `values` are empty).
    public var error: String?
}

/// Classifies image files with a checkpoint's model: each image is decoded (PNG, JPEG, PGM),
/// converted to the channels the model was trained on (RGB to gray as PIL's `convert("L")`, gray to
/// RGB by repetition, an alpha channel dropped), resized to the training images' size (antialiased
/// bilinear, as torchvision's `Resize`), put through the eval transforms and run in batches.
public final class Predictor {
    public let source: CheckpointModel
    private let pipeline: TransformPipeline
    private let image: (channels: Int, height: Int, width: Int)
    public let batchSize: Int

    public init(checkpoint path: String, batchSize: Int = 64) throws {
        source = try CheckpointModel.load(path)
        guard let shape = source.imageShape, shape.count == 3, source.inputShape.rank == 3 else {
            throw EngineError.unusableCheckpoint(path: path, reason: "its model takes \(source.inputShape) features, not images; predict reads image files")
        }
        image = (shape[0], shape[1], shape[2])
        pipeline = try TransformPipeline(source.evalTransforms.compactMap(DataFactory.transform), channels: shape[0], height: shape[1], width: shape[2])
        guard pipeline.outputShape(training: false) == source.inputShape.dims else {
            throw EngineError.unusableCheckpoint(path: path, reason: "its transforms give \(pipeline.outputShape(training: false)) but the model takes \(source.inputShape)")
        }
        self.batchSize = max(1, batchSize)
    }

    /// The image files named by `paths`: files as given, folders searched recursively for .png,
    /// .jpg, .jpeg and .pgm files (sorted). A path that does not exist is kept, to be reported.
    public static func files(_ paths: [String]) -> [String] {
        let fm = FileManager.default
        var out: [String] = []
        for path in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
                out.append(path)
                continue
            }
            out += ImageFiles.relativePaths(in: path).map { (path as NSString).appendingPathComponent($0) }
        }
        return out
    }

    /// Predicts every file, calling `report` in file order as each batch finishes.
    public func predict(_ files: [String], top: Int, report: (Prediction) -> Void) {
        var start = 0
        while start < files.count {
            let chunk = Array(files[start..<min(start + batchSize, files.count)])
            start += chunk.count
            var ready: [(Int, [Float])] = []
            var results = chunk.map { Prediction(file: $0) }
            for (i, file) in chunk.enumerated() {
                do {
                    let (sample, adjustments) = try prepare(file)
                    ready.append((i, sample))
                    results[i].adjustments = adjustments
                } catch {
                    results[i].error = "\(error)"
                }
            }
            if !ready.isEmpty {
                let batch = Tensor(shape: Shape([ready.count] + source.inputShape.dims), scalars: ready.flatMap(\.1))
                let outputs = Denormals.withFlushedToZero(source.config.train.flushDenormals) { source.model(batch) }
                let width = outputs.shape[1]
                let values = outputs.scalars
                for (row, (i, _)) in ready.enumerated() {
                    let out = Array(values[(row * width)..<((row + 1) * width)])
                    if source.isRegression {
                        results[i].values = out.map(Double.init)
                    } else {
                        results[i].top = ranked(out, top: top)
                    }
                }
            }
            results.forEach(report)
        }
    }

    /// The model input for one file, and what was changed to fit it.
    func prepare(_ file: String) throws -> ([Float], [String]) {
        var decoded = try ImageDecoder.decode(path: file, dropAlpha: true)
        var adjustments: [String] = []
        if decoded.channels != image.channels {
            guard let converted = decoded.converted(toChannels: image.channels) else {
                throw DatasetError.invalidImage(path: file, reason: "\(decoded.channels) channels cannot become the model's \(image.channels)")
            }
            adjustments.append(image.channels == 1 ? "converted RGB to gray" : "converted gray to RGB")
            decoded = converted
        }
        if decoded.height != image.height || decoded.width != image.width {
            adjustments.append("resized \(decoded.width)x\(decoded.height) to \(image.width)x\(image.height)")
            decoded = decoded.resized(height: image.height, width: image.width)
        }
        var out = [Float](repeating: 0, count: source.inputShape.count)
        var generator = RandomGenerator(seed: 0)  // eval transforms draw nothing
        decoded.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                pipeline.apply(src.baseAddress!, into: dst.baseAddress!, training: false, generator: &generator)
            }
        }
        return (out, adjustments)
    }

    /// Class probabilities (a softmax of the logits; the outputs as they are where the model ends
    /// in a softmax, their exponent where it ends in a log-softmax or trains with nll), best first.
    func ranked(_ outputs: [Float], top: Int) -> [Prediction.Ranked] {
        let probabilities: [Double]
        let x = outputs.map(Double.init)
        switch outputKind {
        case .probabilities: probabilities = x
        case .logProbabilities: probabilities = x.map { Foundation.exp($0) }
        case .logits:
            let m = x.max() ?? 0
            let e = x.map { Foundation.exp($0 - m) }
            let total = e.reduce(0, +)
            probabilities = e.map { $0 / total }
        }
        return probabilities.indices.sorted { probabilities[$0] > probabilities[$1] || (probabilities[$0] == probabilities[$1] && $0 < $1) }
            .prefix(max(1, top))
            .map { Prediction.Ranked(index: $0, name: $0 < source.classNames.count ? source.classNames[$0] : String($0), probability: probabilities[$0]) }
    }

    enum OutputKind { case logits, probabilities, logProbabilities }

    var outputKind: OutputKind {
        switch source.config.model.layers?.last {
        case .softmax?: return .probabilities
        case .logSoftmax?: return .logProbabilities
        default: return source.config.loss.type == .nll ? .logProbabilities : .logits
        }
    }
}
