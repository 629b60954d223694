import Foundation
import NTrainCore

/// Elementwise losses reduced by the mean, each given as value and derivative in the difference
/// d = prediction − target (or in the prediction for the binary ones).
private func meanLoss(_ name: String, _ prediction: Tensor, _ target: Tensor,
                      value: (Float, Float) -> Float, derivative: @escaping (Float, Float) -> Float) -> Tensor {
    precondition(prediction.shape == target.shape, "\(name): prediction \(prediction.shape) and target \(target.shape) must have the same shape")
    if prediction.device != .cpu || target.device != .cpu {
        return onHost(name, prediction, target) { meanLoss(name, $0, $1, value: value, derivative: derivative) }
    }
    let n = prediction.count
    let p = prediction.data, t = target.data
    var total = 0.0
    for i in 0..<n { total += Double(value(p[i], t[i])) }
    return Tensor(Float(total / Double(max(1, n)))).recorded(name, inputs: [prediction, target]) { g in
        let s = g.item() / Float(max(1, n))
        let gp = Tensor(uninitialized: prediction.shape)
        for i in 0..<n { gp.data[i] = derivative(p[i], t[i]) * s }
        // d/dtarget is −d/dprediction for the difference-based losses; binary ones give none.
        let gt: Tensor? = target.requiresGrad ? Kernels.scale(gp, -1) : nil
        return [gp, gt]
    }
}

/// A loss of GPU tensors computed on host copies (regression outputs are small): the value moves
/// to the prediction's device, and the gradients back to each input's device.
private func onHost(_ name: String, _ prediction: Tensor, _ target: Tensor, _ loss: (Tensor, Tensor) -> Tensor) -> Tensor {
    let device = prediction.device
    let p = prediction.to(.cpu).detached(), t = target.to(.cpu).detached()
    p.requiresGrad = prediction.requiresGrad
    t.requiresGrad = target.requiresGrad
    let hostLoss = loss(p, t)
    return hostLoss.detached().to(device).recorded(name, inputs: [prediction, target]) { g in
        hostLoss.backward(g.to(.cpu))
        return [p.grad?.to(prediction.device), t.grad?.to(target.device)]
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
