import CFloatMath
import Foundation
import NTrainCore

/// Adam (Kingma & Ba), exactly as `torch.optim.Adam` (single-tensor CPU path):
///
///     t += 1
///     g = grad + weight_decay·p                       (L2; AdamW decays p instead)
///     m = lerp(m, g, 1 − β1)
///     v = β2·v + (1 − β2)·g²
///     v̂ = amsgrad ? (vmax = max(vmax, v)) : v
///     p = p − lr/(1 − β1ᵗ) · m / (√v̂ / √(1 − β2ᵗ) + eps)
///
/// Defaults are PyTorch's: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0, amsgrad off.
/// State per stepped parameter: `"<i>.exp_avg"`, `"<i>.exp_avg_sq"`, `"<i>.max_exp_avg_sq"`
/// (amsgrad only) and the scalar `"<i>.step"`.
public class Adam: Optimizer {
    public var name: String { decoupledWeightDecay ? "adamw" : "adam" }
    public let parameters: [Tensor]
    public var learningRate: Float
    /// Settable, for a 1cycle schedule (`cycledMomentum`).
    public var beta1: Float
    public let beta2: Float
    public let eps: Float
    public let weightDecay: Float
    public let amsgrad: Bool
    /// AdamW's decoupled decay `p ← p·(1 − lr·weight_decay)` instead of adding it to the gradient.
    public let decoupledWeightDecay: Bool
    private var states: [ParameterState?]

    public init(parameters: [Tensor], learningRate: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999), eps: Float = 1e-8,
                weightDecay: Float = 0, amsgrad: Bool = false, decoupledWeightDecay: Bool = false) throws {
        let kind = decoupledWeightDecay ? "adamw" : "adam"
        try HyperparameterCheck.floatParameters(parameters, kind)
        try HyperparameterCheck.nonNegative(Double(learningRate), "lr", kind)
        try HyperparameterCheck.unitInterval(Double(betas.0), "betas[0]", kind)
        try HyperparameterCheck.unitInterval(Double(betas.1), "betas[1]", kind)
        try HyperparameterCheck.nonNegative(Double(eps), "eps", kind)
        try HyperparameterCheck.nonNegative(Double(weightDecay), "weight_decay", kind)
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = betas.0
        self.beta2 = betas.1
        self.eps = eps
        self.weightDecay = weightDecay
        self.amsgrad = amsgrad
        self.decoupledWeightDecay = decoupledWeightDecay
        self.states = Array(repeating: nil, count: parameters.count)
    }

    private var tensorKeys: [String] { amsgrad ? ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"] : ["exp_avg", "exp_avg_sq"] }

    public var cycledMomentum: Float? {
        get { beta1 }
        set { if let newValue { beta1 = newValue } }
    }

    public func step() {
        // Scalar factors in double precision, as PyTorch computes them in Python floats.
        let lr = Double(learningRate), b1 = Double(beta1), b2 = Double(beta2), wdD = Double(weightDecay)
        let w1 = Float(1 - b1), decay2 = beta2, w2 = Float(1 - b2), eps = self.eps
        let l2 = decoupledWeightDecay ? 0 : weightDecay
        let shrink = Float(1 - lr * wdD)
        let shrinks = decoupledWeightDecay && weightDecay != 0
        for (i, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            precondition(grad.shape == p.shape, "Adam: gradient shape \(grad.shape) ≠ parameter shape \(p.shape)")
            if states[i] == nil {
                states[i] = ParameterState(tensors: tensorKeys.map { _ in Tensor.zeros(p.shape, device: p.device) }, scalars: [0])
            }
            states[i]!.scalars[0] += 1
            let t = states[i]!.scalars[0]
            let stepSize = lr / (1 - pow(b1, t))
            let negStep = Float(-stepSize)
            let bc2Sqrt = Float((1 - pow(b2, t)).squareRoot())
            let s = states[i]!.tensors
            p.backend.adamStep(p, grad: grad, m: s[0], v: s[1], vmax: amsgrad ? s[2] : nil,
                               AdamUpdate(shrink: shrinks ? shrink : nil, l2: l2, w1: w1, decay2: decay2, w2: w2, bc2Sqrt: bc2Sqrt,
                                          eps: eps, negativeStep: negStep))
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
