import NTrainCore

/// The saveable state of an optimizer: named tensors plus named scalars.
///
/// Tensor entries are `"<parameter index>.<key>"` (`"0.momentum_buffer"`, `"3.exp_avg"`), with the
/// keys PyTorch uses; scalar entries are per-parameter counters (`"3.step"`, `"3.mu_product"`) and
/// the learning rate (`"lr"`). A checkpoint stores `tensors` as tensors and `metadata` (which is
/// `Codable`) as JSON, and rebuilds the state with `init(metadata:tensors:)`.
public struct OptimizerState {
    /// The optimizer kind (`"sgd"`, `"adam"`, …).
    public var optimizer: String
    /// Per-parameter buffers by entry name (`"3.exp_avg"`), float32, shaped like their parameter.
    public var tensors: [String: Tensor]
    /// Step counts and other per-parameter numbers (`"3.step"`, `"3.mu_product"`) and `"lr"`.
    public var scalars: [String: Double]

    /// The JSON part of the state: everything except tensor data.
    public struct Metadata: Codable, Equatable, Sendable {
        public var optimizer: String
        public var scalars: [String: Double]
        /// Names of the tensor entries, sorted (lets a reader check that none is missing).
        public var tensorNames: [String]

        public init(optimizer: String, scalars: [String: Double], tensorNames: [String]) {
            self.optimizer = optimizer
            self.scalars = scalars
            self.tensorNames = tensorNames
        }
    }

    public init(optimizer: String, tensors: [String: Tensor] = [:], scalars: [String: Double] = [:]) {
        self.optimizer = optimizer
        self.tensors = tensors
        self.scalars = scalars
    }

    /// Rebuilds a state from its JSON metadata and the tensors stored beside it. Throws when a
    /// tensor listed in the metadata is absent or an unlisted one is present.
    public init(metadata: Metadata, tensors: [String: Tensor]) throws {
        for name in metadata.tensorNames where tensors[name] == nil {
            throw OptimizerStateError.missingEntry(name, optimizer: metadata.optimizer)
        }
        let listed = Set(metadata.tensorNames)
        if let extra = tensors.keys.sorted().first(where: { !listed.contains($0) }) {
            throw OptimizerStateError.unknownEntry(extra, optimizer: metadata.optimizer)
        }
        self.init(optimizer: metadata.optimizer, tensors: tensors, scalars: metadata.scalars)
    }

    public var metadata: Metadata {
        Metadata(optimizer: optimizer, scalars: scalars, tensorNames: tensors.keys.sorted())
    }
}

/// A saved optimizer state that does not fit the optimizer it is loaded into.
public enum OptimizerStateError: Error, CustomStringConvertible, Equatable {
    case wrongOptimizer(expected: String, found: String)
    case unknownEntry(String, optimizer: String)
    case missingEntry(String, optimizer: String)
    case parameterOutOfRange(entry: String, parameterCount: Int)
    case shapeMismatch(entry: String, expected: Shape, found: Shape)
    case wrongDType(entry: String, found: DType)
    case invalidScalar(entry: String, value: Double)

    public var description: String {
        let hint = "the state was saved for a different model or optimizer settings; resume with the config it was saved with, or start a fresh run"
        switch self {
        case let .wrongOptimizer(expected, found):
            return "optimizer state is for '\(found)' but the optimizer is '\(expected)'; \(hint)"
        case let .unknownEntry(name, opt):
            return "optimizer state entry '\(name)' is not used by this \(opt) optimizer; \(hint)"
        case let .missingEntry(name, opt):
            return "optimizer state lacks entry '\(name)' that this \(opt) optimizer needs; \(hint)"
        case let .parameterOutOfRange(name, count):
            return "optimizer state entry '\(name)' refers to a parameter the model does not have (it has \(count)); \(hint)"
        case let .shapeMismatch(name, expected, found):
            return "optimizer state entry '\(name)' has shape \(found) but its parameter has shape \(expected); \(hint)"
        case let .wrongDType(name, found):
            return "optimizer state entry '\(name)' is \(found), expected float32; the state is corrupt"
        case let .invalidScalar(name, value):
            return "optimizer state value '\(name)' = \(value) is invalid (expected a finite number ≥ 0); the state is corrupt"
        }
    }
}

/// One parameter's state: tensors and scalars in the order of the optimizer's key lists.
struct ParameterState {
    var tensors: [Tensor]
    var scalars: [Double]
}

extension OptimizerState {
    /// Builds the named state from per-parameter slots (tensors are copied).
    init(optimizer: String, learningRate: Float, tensorKeys: [String], scalarKeys: [String], states: [ParameterState?]) {
        self.init(optimizer: optimizer)
        scalars["lr"] = Double(learningRate)
        for (i, state) in states.enumerated() {
            guard let state else { continue }
            for (key, t) in zip(tensorKeys, state.tensors) { tensors["\(i).\(key)"] = t.copy() }
            for (key, v) in zip(scalarKeys, state.scalars) { scalars["\(i).\(key)"] = v }
        }
    }

    /// Validates this state against `parameters` and returns the learning rate and per-parameter
    /// slots (tensors copied). Every parameter has either all of the keys or none of them.
    func parameterStates(optimizer expected: String, parameters: [Tensor], tensorKeys: [String], scalarKeys: [String]) throws -> (learningRate: Float, states: [ParameterState?]) {
        guard optimizer == expected else { throw OptimizerStateError.wrongOptimizer(expected: expected, found: optimizer) }
        guard let lr = scalars["lr"] else { throw OptimizerStateError.missingEntry("lr", optimizer: expected) }
        guard lr.isFinite, lr >= 0 else { throw OptimizerStateError.invalidScalar(entry: "lr", value: lr) }

        // Every entry must name a known key of an existing parameter.
        var present = Set<Int>()
        func index(of name: String, keys: [String]) throws -> Int {
            guard let dot = name.firstIndex(of: "."), let i = Int(name[..<dot]),
                  keys.contains(String(name[name.index(after: dot)...])) else {
                throw OptimizerStateError.unknownEntry(name, optimizer: expected)
            }
            guard i >= 0, i < parameters.count else {
                throw OptimizerStateError.parameterOutOfRange(entry: name, parameterCount: parameters.count)
            }
            return i
        }
        for name in tensors.keys.sorted() { present.insert(try index(of: name, keys: tensorKeys)) }
        for name in scalars.keys.sorted() where name != "lr" { present.insert(try index(of: name, keys: scalarKeys)) }

        var states = [ParameterState?](repeating: nil, count: parameters.count)
        for i in present.sorted() {
            var slot = ParameterState(tensors: [], scalars: [])
            for key in tensorKeys {
                let name = "\(i).\(key)"
                guard let t = tensors[name] else { throw OptimizerStateError.missingEntry(name, optimizer: expected) }
                guard t.dtype == .float32 else { throw OptimizerStateError.wrongDType(entry: name, found: t.dtype) }
                guard t.shape == parameters[i].shape else {
                    throw OptimizerStateError.shapeMismatch(entry: name, expected: parameters[i].shape, found: t.shape)
                }
                // On the parameter's device (a checkpoint's state is read on the CPU).
                let device = parameters[i].device
                slot.tensors.append(t.device == device ? t.copy() : t.to(device).detached())
            }
            for key in scalarKeys {
                let name = "\(i).\(key)"
                guard let v = scalars[name] else { throw OptimizerStateError.missingEntry(name, optimizer: expected) }
                guard v.isFinite, v >= 0 else { throw OptimizerStateError.invalidScalar(entry: name, value: v) }
                slot.scalars.append(v)
            }
            states[i] = slot
        }
        return (Float(lr), states)
    }
}
