import CFloatMath
import Foundation
import NTrainCore

/// NAdam (Dozat): Adam with Nesterov momentum and a momentum-decay schedule, exactly as
/// `torch.optim.NAdam`:
///
///     t += 1
///     μₜ = β1·(1 − ½·0.96^(t·ψ)),  μₜ₊₁ = β1·(1 − ½·0.96^((t+1)·ψ))     (ψ = momentum_decay)
///     Πₜ = Πₜ₋₁·μₜ                                                       (mu_product, float32)
///     m = lerp(m, g, 1 − β1);  v = β2·v + (1 − β2)·g²
///     d = √(v / (1 − β2ᵗ)) + eps
///     p = p − lr·(1 − μₜ)/(1 − Πₜ) · g/d − lr·μₜ₊₁/(1 − Πₜ·μₜ₊₁) · m/d
///
/// Weight decay is L2 (added to g) unless `decoupledWeightDecay` (AdamW-style shrink of p).
/// Defaults are PyTorch's: lr 2e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0,
/// momentum decay 4e-3. State per stepped parameter: `"<i>.exp_avg"`, `"<i>.exp_avg_sq"` and the
/// scalars `"<i>.step"`, `"<i>.mu_product"`.
public final class NAdam: Optimizer {
    public let name = "nadam"
    public let parameters: [Tensor]
    public var learningRate: Float
    /// Settable, for a 1cycle schedule (`cycledMomentum`).
    public var beta1: Float
    public let beta2: Float
    public let eps: Float
    public let weightDecay: Float
    public let momentumDecay: Float
    public let decoupledWeightDecay: Bool
    private var states: [ParameterState?]
    private let tensorKeys = ["exp_avg", "exp_avg_sq"]
    private let scalarKeys = ["step", "mu_product"]

    public init(parameters: [Tensor], learningRate: Float = 2e-3, betas: (Float, Float) = (0.9, 0.999), eps: Float = 1e-8,
                weightDecay: Float = 0, momentumDecay: Float = 4e-3, decoupledWeightDecay: Bool = false) throws {
        try HyperparameterCheck.floatParameters(parameters, name)
        try HyperparameterCheck.nonNegative(Double(learningRate), "lr", name)
        try HyperparameterCheck.unitInterval(Double(betas.0), "betas[0]", name)
        try HyperparameterCheck.unitInterval(Double(betas.1), "betas[1]", name)
        try HyperparameterCheck.nonNegative(Double(eps), "eps", name)
        try HyperparameterCheck.nonNegative(Double(weightDecay), "weight_decay", name)
        try HyperparameterCheck.nonNegative(Double(momentumDecay), "momentum_decay", name)
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = betas.0
        self.beta2 = betas.1
        self.eps = eps
        self.weightDecay = weightDecay
        self.momentumDecay = momentumDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        self.states = Array(repeating: nil, count: parameters.count)
    }

    public var cycledMomentum: Float? {
        get { beta1 }
        set { if let newValue { beta1 = newValue } }
    }

    public func step() {
        let lr = Double(learningRate), b1 = Double(beta1), b2 = Double(beta2), psi = Double(momentumDecay)
        let w1 = Float(1 - b1), decay2 = beta2, w2 = Float(1 - b2), eps = self.eps
        let l2 = decoupledWeightDecay ? 0 : weightDecay
        let shrinks = decoupledWeightDecay && weightDecay != 0
        let shrink = Float(1 - lr * Double(weightDecay))
        for (i, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            precondition(grad.shape == p.shape, "NAdam: gradient shape \(grad.shape) ≠ parameter shape \(p.shape)")
            if states[i] == nil {
                states[i] = ParameterState(tensors: [Tensor.zeros(p.shape, device: p.device), Tensor.zeros(p.shape, device: p.device)],
                                           scalars: [0, 1])
            }
            states[i]!.scalars[0] += 1
            let t = states[i]!.scalars[0]
            let bc2 = Float(1 - pow(b2, t))
            let mu = b1 * (1 - 0.5 * pow(0.96, t * psi))
            let muNext = b1 * (1 - 0.5 * pow(0.96, (t + 1) * psi))
            // PyTorch keeps mu_product in a float32 tensor: multiply in float32.
            let muProduct = Float(states[i]!.scalars[1]) * Float(mu)
            states[i]!.scalars[1] = Double(muProduct)
            let muProductNext = Double(muProduct) * muNext
            let gradCoef = Float(-lr * (1 - mu) / (1 - Double(muProduct)))
            let avgCoef = Float(-lr * muNext / (1 - muProductNext))

            let s = states[i]!.tensors
            p.backend.nadamStep(p, grad: grad, m: s[0], v: s[1],
                                NAdamUpdate(shrink: shrinks ? shrink : nil, l2: l2, w1: w1, decay2: decay2, w2: w2, bc2: bc2, eps: eps,
                                            gradCoefficient: gradCoef, averageCoefficient: avgCoef))
        }
    }

    public func stateDict() -> OptimizerState {
        OptimizerState(optimizer: name, learningRate: learningRate, tensorKeys: tensorKeys, scalarKeys: scalarKeys, states: states)
    }

    public func load(state: OptimizerState) throws {
        let loaded = try state.parameterStates(optimizer: name, parameters: parameters, tensorKeys: tensorKeys, scalarKeys: scalarKeys)
        learningRate = loaded.learningRate
        states = loaded.states
    }
}
