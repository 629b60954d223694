import Foundation
import NTrainCore

/// Mean cross-entropy of `logits` [N, C] against class indices `targets` (int32 [N]), with label
/// smoothing ε (targets become (1−ε)·onehot + ε/C), fused with log-softmax as PyTorch's
/// `F.cross_entropy`. Backward is (softmax − q) / N.
public func crossEntropy(_ logits: Tensor, _ targets: Tensor, labelSmoothing: Float = 0) -> Tensor {
    let (n, c) = checkClassInputs(logits, targets, "cross_entropy")
    let (loss, backward) = logits.backend.crossEntropy(logits, targets.to(logits.device), n: n, c: c, labelSmoothing: labelSmoothing)
    return loss.recorded("cross_entropy", inputs: [logits]) { g in [backward(g)] }
}

/// Mean negative log-likelihood of log-probabilities [N, C] at class indices [N] (`F.nll_loss`).
public func nllLoss(_ logProbabilities: Tensor, _ targets: Tensor) -> Tensor {
    let (n, c) = checkClassInputs(logProbabilities, targets, "nll")
    let (loss, backward) = logProbabilities.backend.nllLoss(logProbabilities, targets.to(logProbabilities.device), n: n, c: c)
    return loss.recorded("nll", inputs: [logProbabilities]) { g in [backward(g)] }
}

private func checkClassInputs(_ scores: Tensor, _ targets: Tensor, _ name: String) -> (Int, Int) {
    precondition(scores.rank == 2, "\(name): expected scores [N, C], got \(scores.shape)")
    precondition(targets.dtype == .int32 && targets.shape == [scores.shape[0]], "\(name): expected int32 targets [\(scores.shape[0])], got \(targets.dtype) \(targets.shape)")
    let n = scores.shape[0], c = scores.shape[1]
    // Checked on the host (targets on a GPU are read back; the trainer passes host targets).
    let host = targets.to(.cpu)
    for i in 0..<n {
        let k = Int(host.int32Data[i])
        precondition(k >= 0 && k < c, "\(name): target \(k) at index \(i) is outside 0..<\(c)")
    }
    return (n, c)
}
