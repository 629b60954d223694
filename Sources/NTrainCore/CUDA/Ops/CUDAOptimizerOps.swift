/// The fused optimizer updates on a GPU (one kernel per parameter), called by NTrainNN's
/// optimizers for parameters on a GPU. The optimizers compute the per-step scalars on the host,
/// exactly as their CPU paths do, so both paths apply the same float expressions.
extension CUDAOps {
    /// `torch.optim.SGD` on `w` in place; `buffer` is the momentum buffer (nil without momentum),
    /// `first` on a parameter's first step with momentum.
    public static func sgdStep(_ w: Tensor, grad g: Tensor, buffer: Tensor?, negativeLR: Float, weightDecay: Float,
                               momentum: Float, keep: Float, nesterov: Bool, first: Bool) {
        checkSameDevice("sgd", [w, g] + (buffer.map { [$0] } ?? []))
        launch(w.device, "sgd_f32", elements: w.count, CUDAKernelArguments()
            .pointer(address(w)).pointer(address(g)).pointer(buffer.map(address) ?? 0).int64(w.count)
            .float(negativeLR).float(weightDecay).float(momentum).float(keep).int32(nesterov ? 1 : 0).int32(first ? 1 : 0))
    }

    /// Adam / AdamW on `w` in place (see `adam_f32` for the scalars); `vmax` only with amsgrad.
    public static func adamStep(_ w: Tensor, grad g: Tensor, m: Tensor, v: Tensor, vmax: Tensor?, shrink: Float?, l2: Float,
                                w1: Float, decay2: Float, w2: Float, bc2Sqrt: Float, eps: Float, negativeStep: Float) {
        checkSameDevice("adam", [w, g, m, v] + (vmax.map { [$0] } ?? []))
        launch(w.device, "adam_f32", elements: w.count, CUDAKernelArguments()
            .pointer(address(w)).pointer(address(g)).pointer(address(m)).pointer(address(v)).pointer(vmax.map(address) ?? 0)
            .int64(w.count).int32(shrink == nil ? 0 : 1).float(shrink ?? 1).float(l2).float(w1).float(decay2).float(w2)
            .float(bc2Sqrt).float(eps).float(negativeStep).int32(vmax == nil ? 0 : 1))
    }

    /// NAdam on `w` in place (see `nadam_f32` for the scalars).
    public static func nadamStep(_ w: Tensor, grad g: Tensor, m: Tensor, v: Tensor, shrink: Float?, l2: Float, w1: Float,
                                 decay2: Float, w2: Float, bc2: Float, eps: Float, gradCoefficient: Float, averageCoefficient: Float) {
        checkSameDevice("nadam", [w, g, m, v])
        launch(w.device, "nadam_f32", elements: w.count, CUDAKernelArguments()
            .pointer(address(w)).pointer(address(g)).pointer(address(m)).pointer(address(v)).int64(w.count)
            .int32(shrink == nil ? 0 : 1).float(shrink ?? 1).float(l2).float(w1).float(decay2).float(w2).float(bc2).float(eps)
            .float(gradCoefficient).float(averageCoefficient))
    }

    /// Adagrad on `w` in place; `negativeCLR` = −lr / (1 + (t − 1)·lr_decay).
    public static func adagradStep(_ w: Tensor, grad g: Tensor, sum: Tensor, weightDecay: Float, eps: Float, negativeCLR: Float) {
        checkSameDevice("adagrad", [w, g, sum])
        launch(w.device, "adagrad_f32", elements: w.count, CUDAKernelArguments()
            .pointer(address(w)).pointer(address(g)).pointer(address(sum)).int64(w.count).float(weightDecay).float(eps).float(negativeCLR))
    }

    /// RMSprop on `w` in place; `buffer` only with momentum, `gradAverage` only when centered.
    public static func rmspropStep(_ w: Tensor, grad g: Tensor, squareAverage: Tensor, buffer: Tensor?, gradAverage: Tensor?,
                                   decay: Float, keep: Float, eps: Float, weightDecay: Float, momentum: Float, negativeLR: Float) {
        checkSameDevice("rmsprop", [w, g, squareAverage] + [buffer, gradAverage].compactMap { $0 })
        launch(w.device, "rmsprop_f32", elements: w.count, CUDAKernelArguments()
            .pointer(address(w)).pointer(address(g)).pointer(address(squareAverage)).pointer(buffer.map(address) ?? 0)
            .pointer(gradAverage.map(address) ?? 0).int64(w.count).float(decay).float(keep).float(eps).float(weightDecay)
            .float(momentum).float(negativeLR))
    }

    /// Whether every element of some GPU tensors (one device) is finite: 0·x is 0 for finite x and
    /// NaN for ±Inf and NaN, so the sum of 0·x is 0 exactly when all are finite. Reads one float back.
    public static func allFinite(_ tensors: [Tensor]) -> Bool {
        guard var total = tensors.first.map({ sumAll(scale($0, 0)) }) else { return true }
        for t in tensors.dropFirst() { total = binary("add", total, sumAll(scale(t, 0))) }
        return total.scalars.first == 0
    }
}
