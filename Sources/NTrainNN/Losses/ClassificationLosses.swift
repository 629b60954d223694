import Foundation
import NTrainCore

/// Mean cross-entropy of `logits` [N, C] against class indices `targets` (int32 [N]), with label
/// smoothing ε (targets become (1−ε)·onehot + ε/C), fused with log-softmax as PyTorch's
/// `F.cross_entropy`. Backward is (softmax − q) / N.
public func crossEntropy(_ logits: Tensor, _ targets: Tensor, labelSmoothing: Float = 0) -> Tensor {
    let (n, c) = checkClassInputs(logits, targets, "cross_entropy")
    if logits.device != .cpu {
        let (loss, backward) = CUDAOps.crossEntropy(logits, targets.to(logits.device), n: n, c: c, labelSmoothing: labelSmoothing)
        return loss.recorded("cross_entropy", inputs: [logits]) { g in [backward(g)] }
    }
    let x = logits.data, t = targets.int32Data
    let probs = Tensor(uninitialized: [n, c])
    let pp = probs.data
    var total = 0.0
    let eps = labelSmoothing
    for i in 0..<n {
        let row = x + i * c, prow = pp + i * c
        var m = -Float.infinity
        for j in 0..<c { m = max(m, row[j]) }
        var s: Float = 0
        for j in 0..<c {
            let e = Foundation.exp(row[j] - m)
            prow[j] = e
            s += e
        }
        let logZ = m + Foundation.log(s)
        let inv = 1 / s
        var sumLogP: Float = 0
        for j in 0..<c {
            prow[j] *= inv
            sumLogP += row[j] - logZ
        }
        let target = Int(t[i])
        let nll = -(row[target] - logZ)
        total += Double((1 - eps) * nll - eps / Float(c) * sumLogP)
    }
    let loss = Tensor(Float(total / Double(n)))
    return loss.recorded("cross_entropy", inputs: [logits]) { g in
        // Read through the tensors (not the pointers above) so their storage outlives the forward.
        let pp = probs.data, t = targets.int32Data
        let scale = g.item() / Float(n)
        let grad = Tensor(uninitialized: [n, c])
        let gp = grad.data
        let off = eps / Float(c)
        for i in 0..<n {
            for j in 0..<c { gp[i * c + j] = (pp[i * c + j] - off) * scale }
            gp[i * c + Int(t[i])] -= (1 - eps) * scale
        }
        return [grad]
    }
}

/// Mean negative log-likelihood of log-probabilities [N, C] at class indices [N] (`F.nll_loss`).
public func nllLoss(_ logProbabilities: Tensor, _ targets: Tensor) -> Tensor {
    let (n, c) = checkClassInputs(logProbabilities, targets, "nll")
    if logProbabilities.device != .cpu {
        let (loss, backward) = CUDAOps.nllLoss(logProbabilities, targets.to(logProbabilities.device), n: n, c: c)
        return loss.recorded("nll", inputs: [logProbabilities]) { g in [backward(g)] }
    }
    let x = logProbabilities.data, t = targets.int32Data
    var total = 0.0
    for i in 0..<n { total -= Double(x[i * c + Int(t[i])]) }
    return Tensor(Float(total / Double(n))).recorded("nll", inputs: [logProbabilities]) { g in
        let t = targets.int32Data
        let grad = Tensor.zeros([n, c])
        let v = -g.item() / Float(n)
        for i in 0..<n { grad.data[i * c + Int(t[i])] = v }
        return [grad]
    }
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
