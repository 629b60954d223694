import CFloatMath
import NTrainCore

/// RMSprop (Hinton), exactly as `torch.optim.RMSprop`:
///
///     g = grad + weight_decay·p
///     s = α·s + (1 − α)·g²
///     centered:  ḡ = lerp(ḡ, g, 1 − α);  d = √(s − ḡ²) + eps
///     otherwise: d = √s + eps
///     momentum > 0: b = momentum·b + g/d;  p = p − lr·b
///     otherwise:    p = p − lr·g/d
///
/// Defaults are PyTorch's: lr 1e-2, alpha 0.99, eps 1e-8, weight decay 0, momentum 0, not centered.
/// State per stepped parameter: `"<i>.square_avg"`, `"<i>.momentum_buffer"` (momentum > 0),
/// `"<i>.grad_avg"` (centered) and the scalar `"<i>.step"`.
public final class RMSprop: Optimizer {
    public let name = "rmsprop"
    public let parameters: [Tensor]
    public var learningRate: Float
    public let alpha: Float
    public let eps: Float
    public let weightDecay: Float
    /// Settable, for a 1cycle schedule (`cycledMomentum`).
    public var momentum: Float
    public let centered: Bool
    private var states: [ParameterState?]

    public init(parameters: [Tensor], learningRate: Float = 1e-2, alpha: Float = 0.99, eps: Float = 1e-8,
                weightDecay: Float = 0, momentum: Float = 0, centered: Bool = false) throws {
        try HyperparameterCheck.floatParameters(parameters, name)
        try HyperparameterCheck.nonNegative(Double(learningRate), "lr", name)
        try HyperparameterCheck.nonNegative(Double(alpha), "alpha", name)
        try HyperparameterCheck.nonNegative(Double(eps), "eps", name)
        try HyperparameterCheck.nonNegative(Double(weightDecay), "weight_decay", name)
        try HyperparameterCheck.nonNegative(Double(momentum), "momentum", name)
        self.parameters = parameters
        self.learningRate = learningRate
        self.alpha = alpha
        self.eps = eps
        self.weightDecay = weightDecay
        self.momentum = momentum
        self.centered = centered
        self.states = Array(repeating: nil, count: parameters.count)
    }

    /// Slot order: square_avg, then momentum_buffer (if momentum > 0), then grad_avg (if centered).
    private var tensorKeys: [String] {
        ["square_avg"] + (momentum > 0 ? ["momentum_buffer"] : []) + (centered ? ["grad_avg"] : [])
    }

    public var cycledMomentum: Float? {
        get { momentum }
        set { if let newValue { momentum = newValue } }
    }

    public func step() {
        let decay = alpha, keep = Float(1 - Double(alpha)), eps = self.eps, wd = weightDecay
        let mom = momentum, negLR = -learningRate, centered = self.centered
        let keys = tensorKeys
        for (i, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            precondition(grad.shape == p.shape, "RMSprop: gradient shape \(grad.shape) ≠ parameter shape \(p.shape)")
            if states[i] == nil {
                states[i] = ParameterState(tensors: keys.map { _ in Tensor.zeros(p.shape, device: p.device) }, scalars: [0])
            }
            states[i]!.scalars[0] += 1
            let slots = states[i]!.tensors
            p.backend.rmspropStep(p, grad: grad, squareAverage: slots[0], buffer: mom > 0 ? slots[1] : nil,
                                  gradAverage: centered ? slots[slots.count - 1] : nil,
                                  RMSpropUpdate(decay: decay, keep: keep, eps: eps, weightDecay: wd, momentum: mom, negativeLR: negLR))
        }
    }

    public func stateDict() -> OptimizerState {
        OptimizerState(optimizer: name, learningRate: learningRate, tensorKeys: tensorKeys, scalarKeys: ["step"], states: states)
    }

    public func load(state: OptimizerState) throws {
        let loaded = try state.parameterStates(optimizer: name, parameters: parameters, tensorKeys: tensorKeys, scalarKeys: ["step"])
        learningRate = loaded.learningRate
        states = loaded.states
    }
}
