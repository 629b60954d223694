import NTrainCore

/// A network component with named parameters, buffers and children, as PyTorch's `nn.Module`.
///
/// Subclasses override `forward(_:)`, `outputShape(for:)`, and list their own state in
/// `localParameters` / `localBuffers` and their sub-modules in `children`. Names compose with dots:
/// `conv1.weight`, `bn1.running_mean`, `0.bias` inside a `Sequential`.
open class Module {
    /// Training mode switches Dropout and BatchNorm behaviour; set with `train()` / `eval()`.
    public private(set) var isTraining = true

    public init() {}

    /// Computes the output for a batch.
    open func forward(_ input: Tensor) -> Tensor { fatalError("\(type(of: self)) must override forward(_:)") }

    /// The output shape for an input shape (batch dimension included), or a `ModuleError` when the
    /// input does not fit (used to infer layer sizes and print the model summary).
    open func outputShape(for input: Shape) throws -> Shape { input }

    /// This module's own trainable tensors, by local name.
    open var localParameters: [(String, Tensor)] { [] }
    /// This module's own non-trainable state (running statistics, generator state), by local name.
    open var localBuffers: [(String, Tensor)] { [] }
    /// Direct sub-modules, by local name.
    open var children: [(String, Module)] { [] }
    /// A short human-readable description of the layer's configuration, for summaries.
    open var summary: String { String(describing: type(of: self)) }

    public func callAsFunction(_ input: Tensor) -> Tensor { forward(input) }

    /// Switches this module and all descendants to training mode.
    public func train(_ on: Bool = true) {
        isTraining = on
        for (_, child) in children { child.train(on) }
    }

    /// Switches to evaluation mode (Dropout off, BatchNorm uses running statistics).
    public func eval() { train(false) }

    /// All trainable tensors with dotted names, in registration order.
    public func namedParameters(prefix: String = "") -> [(String, Tensor)] {
        var out = localParameters.map { (prefix + $0.0, $0.1) }
        for (name, child) in children { out += child.namedParameters(prefix: prefix + name + ".") }
        return out
    }

    /// All trainable tensors, in registration order (what optimizers take).
    public var parameters: [Tensor] { namedParameters().map(\.1) }

    /// All buffers with dotted names.
    public func namedBuffers(prefix: String = "") -> [(String, Tensor)] {
        var out = localBuffers.map { (prefix + $0.0, $0.1) }
        for (name, child) in children { out += child.namedBuffers(prefix: prefix + name + ".") }
        return out
    }

    /// Every module in the tree with its dotted name ("" for self), depth first.
    public func namedModules(prefix: String = "") -> [(String, Module)] {
        var out: [(String, Module)] = [(prefix, self)]
        for (name, child) in children {
            out += child.namedModules(prefix: prefix.isEmpty ? name : prefix + "." + name)
        }
        return out
    }

    /// Number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Parameters and buffers by dotted name; the tensors are the live ones (not copies).
    public func stateDict() -> [(String, Tensor)] { namedParameters() + namedBuffers() }

    /// Copies values from `state` into this module's tensors. Names and shapes must match exactly:
    /// missing, unexpected or mis-shaped entries throw `ModuleError` and nothing is changed.
    public func load(stateDict state: [String: Tensor]) throws {
        let own = stateDict()
        let ownNames = Set(own.map(\.0))
        let missing = own.map(\.0).filter { state[$0] == nil }
        let unexpected = state.keys.filter { !ownNames.contains($0) }.sorted()
        if !missing.isEmpty || !unexpected.isEmpty {
            throw ModuleError.stateMismatch(missing: missing, unexpected: unexpected)
        }
        for (name, tensor) in own {
            let src = state[name]!
            guard src.shape == tensor.shape, src.dtype == tensor.dtype else {
                throw ModuleError.shapeMismatch(name: name, expected: tensor.shape, expectedType: tensor.dtype, got: src.shape, gotType: src.dtype)
            }
        }
        for (name, tensor) in own { tensor.assign(state[name]!) }
    }

    /// Clears every parameter's gradient.
    /// Moves every float parameter and buffer to `device` in place (PyTorch's `module.to(device)`);
    /// an optimizer made earlier keeps working on the moved parameters. Gradients are dropped.
    /// Integer buffers (a dropout layer's generator state) are host state and stay on the CPU.
    public func to(_ device: Device) {
        for (_, t) in namedParameters() + namedBuffers() where t.dtype == .float32 { t.moveStorage(to: device) }
    }

    /// The device of the first parameter or buffer (the CPU for a module without any).
    public var device: Device { (namedParameters() + namedBuffers()).first?.1.device ?? .cpu }

    public func zeroGrad() {
        for p in parameters { p.grad = nil }
    }
}

/// Errors from building, shaping or loading modules.
public enum ModuleError: Error, CustomStringConvertible, Equatable {
    case stateMismatch(missing: [String], unexpected: [String])
    case shapeMismatch(name: String, expected: Shape, expectedType: DType, got: Shape, gotType: DType)
    case badInput(layer: String, expected: String, got: Shape)
    case invalidOption(layer: String, message: String)

    public var description: String {
        switch self {
        case let .stateMismatch(missing, unexpected):
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing \(missing.joined(separator: ", "))") }
            if !unexpected.isEmpty { parts.append("unexpected \(unexpected.joined(separator: ", "))") }
            return "state dict does not match the model: " + parts.joined(separator: "; ")
                + ". The checkpoint was written for a different model; check the config's model section."
        case let .shapeMismatch(name, expected, et, got, gt):
            return "\(name): the model expects \(et) \(expected), the state dict has \(gt) \(got)"
        case let .badInput(layer, expected, got):
            return "\(layer): expected input \(expected), got shape \(got)"
        case let .invalidOption(layer, message):
            return "\(layer): \(message)"
        }
    }
}
