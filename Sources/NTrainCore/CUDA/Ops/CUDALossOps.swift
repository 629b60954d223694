/// Losses on a GPU: cross-entropy fused with log-softmax (and label smoothing), NLL. The loss is a
/// rank-0 GPU tensor; the backward kernels read the upstream gradient on the device, so a
/// training step needs no host sync until the loss value is read.
extension CUDAOps {
    /// Mean cross-entropy of `logits` [N, C] at int32 `targets` [N] (targets checked on the host).
    public static func crossEntropy(_ logits: Tensor, _ targets: Tensor, n: Int, c: Int, labelSmoothing eps: Float)
        -> (loss: Tensor, backward: (Tensor) -> Tensor) {
        checkSameDevice("cross_entropy", [logits, targets])
        let device = logits.device
        let probs = Tensor(uninitialized: [n, c], device: device), rowLoss = Tensor(uninitialized: [n], device: device)
        launch(device, "cross_entropy_rows_f32", rows: n, CUDAKernelArguments()
            .pointer(address(logits)).pointer(address(targets)).pointer(address(probs)).pointer(address(rowLoss))
            .int64(n).int64(c).float(eps))
        let loss = Tensor(uninitialized: [], device: device)
        launch(device, "mean_f32", grid: (1, 1, 1), block: (CUDAKernels.blockSize, 1, 1),
               CUDAKernelArguments().pointer(address(rowLoss)).pointer(address(loss)).int64(n).float(1))
        return (loss, { g in
            let grad = Tensor(uninitialized: [n, c], device: device)
            launch(device, "cross_entropy_backward_f32", elements: n * c, CUDAKernelArguments()
                .pointer(address(probs)).pointer(address(targets)).pointer(address(g)).pointer(address(grad))
                .int64(n).int64(c).float(eps))
            return grad
        })
    }

    /// Mean negative log-likelihood of log-probabilities [N, C] at int32 `targets` [N].
    public static func nllLoss(_ logp: Tensor, _ targets: Tensor, n: Int, c: Int) -> (loss: Tensor, backward: (Tensor) -> Tensor) {
        checkSameDevice("nll", [logp, targets])
        let device = logp.device
        let picked = Tensor(uninitialized: [n], device: device)
        launch(device, "nll_pick_f32", elements: n, CUDAKernelArguments()
            .pointer(address(logp)).pointer(address(targets)).pointer(address(picked)).int64(n).int64(c))
        let loss = Tensor(uninitialized: [], device: device)
        launch(device, "mean_f32", grid: (1, 1, 1), block: (CUDAKernels.blockSize, 1, 1),
               CUDAKernelArguments().pointer(address(picked)).pointer(address(loss)).int64(n).float(-1))
        return (loss, { g in
            let grad = filled([n, c], pattern: 0, device: device)
            launch(device, "nll_backward_f32", elements: n, CUDAKernelArguments()
                .pointer(address(targets)).pointer(address(g)).pointer(address(grad)).int64(n).int64(c))
            return grad
        })
    }
}
