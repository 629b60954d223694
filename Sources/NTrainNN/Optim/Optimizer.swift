import NTrainCore

/// A first-order optimizer over a fixed list of parameters, with PyTorch's `torch.optim` semantics.
///
/// Parameters are float32 leaf tensors; `step()` reads each one's `.grad` and updates its data in
/// place (parameters whose `.grad` is nil are skipped, as in PyTorch). There is a single parameter
/// group, so `learningRate` is the one learning rate that schedulers adjust.
///
/// The optimizer's state (momentum buffers, Adam moments, step counts) is saved with `stateDict()`
/// and restored with `load(state:)`, so a resumed run continues bit-identically. Entries are named
/// `"<parameter index>.<PyTorch state key>"`, e.g. `"0.momentum_buffer"` or `"3.exp_avg"`.
public protocol Optimizer: AnyObject {
    /// The kind recorded in saved state (`"sgd"`, `"adam"`, …); loading checks it.
    var name: String { get }
    /// The parameters, in the order state entries are numbered.
    var parameters: [Tensor] { get }
    /// The learning rate used by the next `step()` (schedulers set it).
    var learningRate: Float { get set }
    /// The momentum a 1cycle schedule cycles (PyTorch's `cycle_momentum`): SGD's and RMSprop's
    /// `momentum`, Adam's and NAdam's β1; nil for an optimizer without one (setting it then does nothing).
    var cycledMomentum: Float? { get set }
    /// Applies one update to every parameter that has a gradient.
    func step()
    /// A copy of the optimizer's state (tensors are copied, so later steps do not change it).
    func stateDict() -> OptimizerState
    /// Restores state saved by `stateDict()` of an optimizer of the same kind, settings and
    /// parameter shapes. Validates everything before changing anything; throws
    /// `OptimizerStateError` naming the offending entry.
    func load(state: OptimizerState) throws
}

extension Optimizer {
    public var cycledMomentum: Float? {
        get { nil }
        set {}  // swiftlint:disable:this unused_setter_value
    }

    /// Clears the gradients of all parameters. As in PyTorch (`set_to_none=True` by default) the
    /// gradients are released; with `setToNone: false` they are zero-filled in place instead.
    public func zeroGrad(setToNone: Bool = true) {
        for p in parameters {
            if setToNone { p.grad = nil } else { p.grad?.zero() }
        }
    }
}

/// An invalid optimizer setting (from a config file or code).
public enum OptimizerError: Error, CustomStringConvertible, Equatable {
    /// `parameter` of `optimizer` has a value outside its valid range.
    case invalidHyperparameter(optimizer: String, parameter: String, value: Double, expected: String)
    /// A combination of settings PyTorch also rejects (e.g. Nesterov without momentum).
    case invalidCombination(optimizer: String, reason: String)
    /// A parameter is not a float32 tensor.
    case notFloatParameter(optimizer: String, index: Int, dtype: DType)

    public var description: String {
        switch self {
        case let .invalidHyperparameter(opt, parameter, value, expected):
            return "optimizer \(opt): invalid \(parameter) \(value); expected \(expected). Fix optimizer.\(parameter) in the config"
        case let .invalidCombination(opt, reason):
            return "optimizer \(opt): \(reason)"
        case let .notFloatParameter(opt, index, dtype):
            return "optimizer \(opt): parameter \(index) is \(dtype), but only float32 parameters can be optimized"
        }
    }
}

/// Shared argument checks, mirroring PyTorch's `ValueError`s.
enum HyperparameterCheck {
    static func nonNegative(_ value: Double, _ parameter: String, _ optimizer: String) throws {
        guard value >= 0, value.isFinite else {
            throw OptimizerError.invalidHyperparameter(optimizer: optimizer, parameter: parameter, value: value, expected: "a finite value ≥ 0")
        }
    }

    static func unitInterval(_ value: Double, _ parameter: String, _ optimizer: String) throws {
        guard value >= 0, value < 1 else {
            throw OptimizerError.invalidHyperparameter(optimizer: optimizer, parameter: parameter, value: value, expected: "a value in [0, 1)")
        }
    }

    static func floatParameters(_ parameters: [Tensor], _ optimizer: String) throws {
        for (i, p) in parameters.enumerated() where p.dtype != .float32 {
            throw OptimizerError.notFloatParameter(optimizer: optimizer, index: i, dtype: p.dtype)
        }
    }
}
