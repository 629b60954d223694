/// The backend of tensors on an NVIDIA GPU: one CUDA kernel per update (CUDAOptimizerKernels).
public struct CUDABackend: Backend {
    public init() {}

    public func synchronize(_ device: Device) throws(BackendError) {
        do {
            try CUDARuntime.synchronize(device)
        } catch let e as CUDAUnsupportedOp {
            throw .unsupported(op: e.op, device: e.device)
        } catch let e as CUDAOpFailure {
            throw .failed(device: device, op: e.op, reason: "\(e.underlying)")
        } catch {
            throw .failed(device: device, op: "a queued kernel", reason: "\(error)")
        }
    }

    public func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) -> Tensor { CUDAOps.binary(op.name, a, b) }

    public func scale(_ a: Tensor, _ s: Float) -> Tensor { CUDAOps.scale(a, s) }

    public func addScalar(_ a: Tensor, _ s: Float) -> Tensor { CUDAOps.addScalar(a, s) }

    public func sumToShape(_ g: Tensor, _ shape: Shape) -> Tensor { CUDAOps.sumToShape(g, shape) }

    public func unary(_ op: UnaryOp, _ x: Tensor, recording: Bool) -> (output: Tensor, saved: Tensor?) {
        let y = CUDAOps.unary(op, x)
        return (y, op.saves == .output ? y : x)
    }

    public func unaryBackward(_ op: UnaryOp, _ g: Tensor, saved: Tensor) -> Tensor {
        CUDAOps.unaryBackward(op, g, saved)
    }

    public func sgdStep(_ w: Tensor, grad: Tensor, buffer: Tensor?, _ u: SGDUpdate) {
        CUDAOps.sgdStep(w, grad: grad, buffer: buffer, negativeLR: u.negativeLR, weightDecay: u.weightDecay, momentum: u.momentum,
                        keep: u.keep, nesterov: u.nesterov, first: u.first)
    }

    public func adamStep(_ w: Tensor, grad: Tensor, m: Tensor, v: Tensor, vmax: Tensor?, _ u: AdamUpdate) {
        CUDAOps.adamStep(w, grad: grad, m: m, v: v, vmax: vmax, shrink: u.shrink, l2: u.l2, w1: u.w1, decay2: u.decay2, w2: u.w2,
                         bc2Sqrt: u.bc2Sqrt, eps: u.eps, negativeStep: u.negativeStep)
    }

    public func nadamStep(_ w: Tensor, grad: Tensor, m: Tensor, v: Tensor, _ u: NAdamUpdate) {
        CUDAOps.nadamStep(w, grad: grad, m: m, v: v, shrink: u.shrink, l2: u.l2, w1: u.w1, decay2: u.decay2, w2: u.w2, bc2: u.bc2,
                          eps: u.eps, gradCoefficient: u.gradCoefficient, averageCoefficient: u.averageCoefficient)
    }

    public func adagradStep(_ w: Tensor, grad: Tensor, sum: Tensor, _ u: AdagradUpdate) {
        CUDAOps.adagradStep(w, grad: grad, sum: sum, weightDecay: u.weightDecay, eps: u.eps, negativeCLR: u.negativeCLR)
    }

    public func rmspropStep(_ w: Tensor, grad: Tensor, squareAverage: Tensor, buffer: Tensor?, gradAverage: Tensor?, _ u: RMSpropUpdate) {
        CUDAOps.rmspropStep(w, grad: grad, squareAverage: squareAverage, buffer: buffer, gradAverage: gradAverage, decay: u.decay,
                            keep: u.keep, eps: u.eps, weightDecay: u.weightDecay, momentum: u.momentum, negativeLR: u.negativeLR)
    }

    public func allFinite(_ tensors: [Tensor]) -> Bool { CUDAOps.allFinite(tensors) }

    // Clipping is rare enough that a round trip through host copies is simpler than GPU norm
    // kernels, and it gives the CPU's values exactly.
    public func clipGradNorm(_ grads: [Tensor], maxNorm: Float, normType: Float) -> Float {
        onHostCopies(grads) { CPUBackend().clipGradNorm($0, maxNorm: maxNorm, normType: normType) }
    }

    public func clipGradValue(_ grads: [Tensor], clipValue: Float) {
        onHostCopies(grads) { CPUBackend().clipGradValue($0, clipValue: clipValue) }
    }

    /// Runs `body` on host copies of `tensors` and copies the results back.
    private func onHostCopies<R>(_ tensors: [Tensor], _ body: ([Tensor]) -> R) -> R {
        let hosts = tensors.map { $0.to(.cpu) }
        let result = body(hosts)
        for (t, h) in zip(tensors, hosts) { t.assign(h) }
        return result
    }

    public func crossEntropy(_ logits: Tensor, _ targets: Tensor, n: Int, c: Int, labelSmoothing: Float) -> (loss: Tensor, backward: (Tensor) -> Tensor) {
        CUDAOps.crossEntropy(logits, targets, n: n, c: c, labelSmoothing: labelSmoothing)
    }

    public func nllLoss(_ logProbabilities: Tensor, _ targets: Tensor, n: Int, c: Int) -> (loss: Tensor, backward: (Tensor) -> Tensor) {
        CUDAOps.nllLoss(logProbabilities, targets, n: n, c: c)
    }

    /// On host copies (regression outputs are small): the value moves to the prediction's device,
    /// and the gradients back to each input's device.
    public func meanLoss(_ prediction: Tensor, _ target: Tensor, targetNeedsGradient: Bool, value: @escaping (Float, Float) -> Float,
                         derivative: @escaping (Float, Float) -> Float) -> (loss: Tensor, backward: (Tensor) -> (Tensor, Tensor?)) {
        let (loss, backward) = CPUBackend().meanLoss(prediction.to(.cpu), target.to(.cpu), targetNeedsGradient: targetNeedsGradient,
                                                     value: value, derivative: derivative)
        return (loss.to(prediction.device), { g in
            let (gp, gt) = backward(g.to(.cpu))
            return (gp.to(prediction.device), gt?.to(target.device))
        })
    }
}
