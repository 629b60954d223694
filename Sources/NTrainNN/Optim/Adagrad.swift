import CFloatMath
import NTrainCore

/// Adagrad (Duchi et al.), exactly as `torch.optim.Adagrad`:
///
///     t += 1
///     g = grad + weight_decay·p
///     clr = lr / (1 + (t − 1)·lr_decay)
///     s = s + g²                      (s starts at initial_accumulator_value)
///     p = p − clr · g / (√s + eps)
///
/// Defaults are PyTorch's: lr 1e-2, lr decay 0, weight decay 0, initial accumulator 0, eps 1e-10.
/// As in PyTorch the state exists for every parameter from construction: `"<i>.sum"` and the
/// scalar `"<i>.step"`.
public final class Adagrad: Optimizer {
    public let name = "adagrad"
    public let parameters: [Tensor]
    public var learningRate: Float
    public let lrDecay: Float
    public let weightDecay: Float
    public let initialAccumulatorValue: Float
    public let eps: Float
    private var states: [ParameterState?]

    public init(parameters: [Tensor], learningRate: Float = 1e-2, lrDecay: Float = 0, weightDecay: Float = 0,
                initialAccumulatorValue: Float = 0, eps: Float = 1e-10) throws {
        try HyperparameterCheck.floatParameters(parameters, name)
        try HyperparameterCheck.nonNegative(Double(learningRate), "lr", name)
        try HyperparameterCheck.nonNegative(Double(lrDecay), "lr_decay", name)
        try HyperparameterCheck.nonNegative(Double(weightDecay), "weight_decay", name)
        try HyperparameterCheck.nonNegative(Double(initialAccumulatorValue), "initial_accumulator_value", name)
        try HyperparameterCheck.nonNegative(Double(eps), "eps", name)
        self.parameters = parameters
        self.learningRate = learningRate
        self.lrDecay = lrDecay
        self.weightDecay = weightDecay
        self.initialAccumulatorValue = initialAccumulatorValue
        self.eps = eps
        self.states = parameters.map { ParameterState(tensors: [Tensor.full($0.shape, initialAccumulatorValue, device: $0.device)], scalars: [0]) }
    }

    public func step() {
        let lr = Double(learningRate), decay = Double(lrDecay), wd = weightDecay, eps = self.eps
        for (i, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            precondition(grad.shape == p.shape, "Adagrad: gradient shape \(grad.shape) ≠ parameter shape \(p.shape)")
            if states[i] == nil {
                states[i] = ParameterState(tensors: [Tensor.full(p.shape, initialAccumulatorValue, device: p.device)], scalars: [0])
            }
            states[i]!.scalars[0] += 1
            let t = states[i]!.scalars[0]
            let negCLR = Float(-(lr / (1 + (t - 1) * decay)))
            p.backend.adagradStep(p, grad: grad, sum: states[i]!.tensors[0], AdagradUpdate(weightDecay: wd, eps: eps, negativeCLR: negCLR))
        }
    }

    public func stateDict() -> OptimizerState {
        OptimizerState(optimizer: name, learningRate: learningRate, tensorKeys: ["sum"], scalarKeys: ["step"], states: states)
    }

    public func load(state: OptimizerState) throws {
        let loaded = try state.parameterStates(optimizer: name, parameters: parameters, tensorKeys: ["sum"], scalarKeys: ["step"])
        learningRate = loaded.learningRate
        // Parameters absent from the saved state keep a fresh accumulator, as after construction.
        states = zip(parameters, loaded.states).map { p, s in
            s ?? ParameterState(tensors: [Tensor.full(p.shape, initialAccumulatorValue, device: p.device)], scalars: [0])
        }
    }
}
