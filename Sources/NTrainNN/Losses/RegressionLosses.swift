import Foundation
import NTrainCore

/// Elementwise losses reduced by the mean, each given as value and derivative in the difference
/// d = prediction − target (or in the prediction for the binary ones).
private func meanLoss(_ name: String, _ prediction: Tensor, _ target: Tensor,
                      value: @escaping (Float, Float) -> Float, derivative: @escaping (Float, Float) -> Float) -> Tensor {
    precondition(prediction.shape == target.shape, "\(name): prediction \(prediction.shape) and target \(target.shape) must have the same shape")
    let (loss, backward) = Tensor.backend(for: [prediction, target])
        .meanLoss(prediction, target, targetNeedsGradient: target.requiresGrad, value: value, derivative: derivative)
    return loss.recorded(name, inputs: [prediction, target]) { g in
        let (gp, gt) = backward(g)
        return [gp, gt]
    }
}

/// Mean squared error (`F.mse_loss`).
public func mseLoss(_ prediction: Tensor, _ target: Tensor) -> Tensor {
    meanLoss("mse", prediction, target, value: { ($0 - $1) * ($0 - $1) }, derivative: { 2 * ($0 - $1) })
}

/// Mean absolute error (`F.l1_loss`); the derivative at 0 is 0 as in PyTorch.
public func l1Loss(_ prediction: Tensor, _ target: Tensor) -> Tensor {
    meanLoss("l1", prediction, target, value: { abs($0 - $1) }, derivative: { d, t in
        let x = d - t
        return x > 0 ? 1 : (x < 0 ? -1 : 0)
    })
}

/// Huber-style smooth L1 (`F.smooth_l1_loss`): 0.5·d²/β where |d| < β, else |d| − 0.5·β.
public func smoothL1Loss(_ prediction: Tensor, _ target: Tensor, beta: Float = 1) -> Tensor {
    meanLoss("smooth_l1", prediction, target, value: { p, t in
        let d = abs(p - t)
        return d < beta ? 0.5 * d * d / beta : d - 0.5 * beta
    }, derivative: { p, t in
        let d = p - t
        return abs(d) < beta ? d / beta : (d > 0 ? 1 : -1)
    })
}

/// Binary cross-entropy of probabilities in [0, 1] (`F.binary_cross_entropy`, logs clamped at −100).
public func binaryCrossEntropy(_ probabilities: Tensor, _ target: Tensor) -> Tensor {
    meanLoss("binary_cross_entropy", probabilities, target, value: { p, t in
        -(t * max(Foundation.log(p), -100) + (1 - t) * max(Foundation.log(1 - p), -100))
    }, derivative: { p, t in
        (p - t) / max((1 - p) * p, 1e-12)
    })
}

/// Binary cross-entropy on logits, computed stably (`F.binary_cross_entropy_with_logits`).
public func binaryCrossEntropyWithLogits(_ logits: Tensor, _ target: Tensor) -> Tensor {
    meanLoss("binary_cross_entropy_with_logits", logits, target, value: { x, t in
        max(x, 0) - x * t + Foundation.log1p(Foundation.exp(-abs(x)))
    }, derivative: { x, t in
        1 / (1 + Foundation.exp(-x)) - t
    })
}
