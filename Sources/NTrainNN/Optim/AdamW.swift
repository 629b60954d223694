import NTrainCore

/// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, exactly as `torch.optim.AdamW`.
/// Each step first shrinks the parameter, `p ← p·(1 − lr·weight_decay)`, then applies the Adam
/// update without any L2 term in the gradient.
///
/// Defaults are PyTorch's: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 1e-2, amsgrad off.
/// State keys are Adam's; saved state is tagged `"adamw"`.
public final class AdamW: Adam {
    public init(parameters: [Tensor], learningRate: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999), eps: Float = 1e-8,
                weightDecay: Float = 1e-2, amsgrad: Bool = false) throws {
        try super.init(parameters: parameters, learningRate: learningRate, betas: betas, eps: eps,
                       weightDecay: weightDecay, amsgrad: amsgrad, decoupledWeightDecay: true)
    }
}
