import Foundation
import NTrainCore
import NTrainNN

/// A model's state dict as a safetensors file and back, under the model's own dotted names, which
/// are the names the equivalent PyTorch module uses (docs/interop.md).
public enum SafetensorsWeights {
    /// The model's parameters and buffers (BatchNorm's `num_batches_tracked` included, as PyTorch
    /// saves it), with `metadata` as `__metadata__`.
    public static func file(of model: Module, metadata: [String: String]) -> SafetensorsFile {
        var file = SafetensorsFile(metadata: metadata)
        for (name, tensor) in stateDict(of: model) { file.append(name, tensor) }
        return file
    }

    /// The state dict PyTorch's equivalent module has: ntrain's, less the state PyTorch keeps
    /// elsewhere (a dropout layer's generator, which PyTorch draws from the global one).
    public static func stateDict(of model: Module) -> [(String, Tensor)] {
        let hostOnly = Set(model.namedModules().filter { $0.1 is Dropout }.flatMap { name, module in
            module.localBuffers.map { name.isEmpty ? $0.0 : name + "." + $0.0 }
        })
        return model.stateDict().filter { !hostOnly.contains($0.0) }
    }

    /// Copies the tensors of `file` into `model`. Every model tensor must be present with its
    /// shape (BatchNorm's `num_batches_tracked` may be left out); floats may be stored as F32, F64,
    /// F16 or BF16. Every problem is collected and reported at once, and on any problem nothing is
    /// changed. Returns how many tensors were loaded.
    @discardableResult
    public static func load(_ file: SafetensorsFile, into model: Module, path: String, modelName: String) throws -> Int {
        let stored = Dictionary(file.entries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let own = stateDict(of: model)
        var problems: [String] = []
        var values: [(Tensor, [Float]?, [Int64]?)] = []
        for (name, tensor) in own {
            guard let entry = stored[name] else {
                if !name.hasSuffix("num_batches_tracked") {
                    problems.append("\(name): expected \(tensor.dtype.shortName) \(tensor.shape.dims), found no such tensor")
                }
                continue
            }
            let expected = "\(tensor.dtype.shortName) \(tensor.shape.dims)"
            guard entry.shape == tensor.shape.dims || (entry.shape.isEmpty && tensor.count == 1) || (tensor.shape.dims.isEmpty && entry.shape == [1]) else {
                problems.append("\(name): expected \(expected), found \(entry.dtype) \(entry.shape)")
                continue
            }
            if tensor.dtype == .float32 {
                guard let floats = SafetensorsFile.floats(of: entry) else {
                    problems.append("\(name): expected \(expected), found \(entry.dtype) \(entry.shape) (floats must be F32, F64, F16 or BF16)")
                    continue
                }
                values.append((tensor, floats, nil))
            } else if tensor.dtype == .int64 {
                guard let ints = SafetensorsFile.integers(of: entry) else {
                    problems.append("\(name): expected \(expected), found \(entry.dtype) \(entry.shape) (integers must be I64, I32 or U8)")
                    continue
                }
                values.append((tensor, nil, ints))
            } else {
                problems.append("\(name): \(tensor.dtype) tensors are not imported")
            }
        }
        let ownNames = Set(own.map(\.0))
        for entry in file.entries where !ownNames.contains(entry.name) {
            problems.append("\(entry.name): expected no such tensor, found \(entry.dtype) \(entry.shape)")
        }
        guard problems.isEmpty else { throw InteropError.weightsMismatch(path: path, model: modelName, problems: problems) }
        for (tensor, floats, ints) in values {
            if let floats {
                tensor.assign(Tensor(shape: tensor.shape, scalars: floats))
            } else if let ints {
                let host = Tensor.zeros(tensor.shape, dtype: .int64)
                for (i, v) in ints.enumerated() { host.int64Data[i] = v }
                tensor.assign(host)
            }
        }
        return values.count
    }
}
