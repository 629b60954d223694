/// The operations that are done one way on the CPU and another on a GPU, behind one protocol
/// (candle's `BackendStorage`): a tensor picks its backend from its storage's device once
/// (`Tensor.backend`), and the layers above (NTrainNN, NTrainEngine) call the backend instead of
/// branching on the device or naming CUDA types.
///
/// It holds storage allocation, fills and copies, copies and gathers, matmul, linear, convolution,
/// pooling and batch norm, reductions and softmax, elementwise arithmetic, the unary ops and
/// activations (`UnaryOp`, each defined once for both backends), the fused optimizer updates,
/// gradient clipping and its finite check, and the losses (docs/library.md).
/// Each update applies, element by element, exactly the float expressions its CPU loop does, with
/// the per-step scalars computed once on the host by the optimizer, so both backends give the
/// same values (checked on the CUDA emulator).
public protocol Backend: Sendable {
    /// A sync point: waits for the work queued on `device` and throws the first op that failed
    /// since the last sync point (ops cannot throw, so a failed GPU op is held until here and the
    /// ops after it are skipped). Callers sync where a value is read back, before a checkpoint is
    /// written, and at the end of each step. Nothing to wait for on the CPU.
    func synchronize(_ device: Device) throws(BackendError)

    // Storage: allocation, fills and copies of this backend's device memory.
    /// Uninitialised storage of `byteCount` bytes on `device`.
    func allocate(byteCount: Int, device: Device) -> Storage
    /// Every 4-byte element of `t` set to `pattern` (a float's or an int's bits; 0 zeroes any dtype).
    func fill(_ t: Tensor, pattern: UInt32)
    /// A new tensor with `t`'s contents on the same device.
    func copy(_ t: Tensor) -> Tensor
    /// `dst`'s contents replaced by `src`'s (same shape and dtype; `src` may be on another device).
    func assign(_ src: Tensor, into dst: Tensor)
    /// A copy of `t` on `device`, where `t` or `device` is this backend's (host↔device, or device
    /// to device); `t` itself when it is already there.
    func transfer(_ t: Tensor, to device: Device) -> Tensor
    /// Whether gradients on this backend's devices can be averaged across processes (the MPI
    /// all-reduce works on host memory; NCCL for GPUs is planned, docs/distributed.md).
    var supportsDataParallel: Bool { get }

    // Copies and gathers (what permute, pad, flip, concat and broadcast are made of).
    /// dst[dstOffset + Σ i·dstStrides] = src[srcOffset + Σ i·srcStrides] over every index i of
    /// `shape` (strides may be negative or zero); both tensors on this backend's device.
    func stridedCopy(shape: [Int], src: Tensor, srcOffset: Int, srcStrides: [Int], dst: Tensor, dstOffset: Int, dstStrides: [Int])
    /// `a` broadcast (NumPy rules) to `shape`, as a fresh contiguous tensor.
    func broadcast(_ a: Tensor, to shape: Shape) -> Tensor
    /// `a` with its axes reordered (result axis i is input axis `axes[i]`).
    func permute(_ a: Tensor, _ axes: [Int]) -> Tensor
    /// y += x elementwise, in place.
    func accumulate(_ y: Tensor, _ x: Tensor)
    /// out[i] = scores[i, classes[i]] for scores [n, c]; the backward scatters into zeros.
    func gatherRows(_ scores: Tensor, classes: [Int]) -> Differentiated
    /// Float one-hot rows [indices.count, classes] of host class indices, on `device`.
    func oneHot(_ indices: [Int], classes: Int, device: Device) -> Tensor

    // Linear algebra, convolution, pooling and batch norm (shapes checked by the tensor op first).
    /// [m, k]·[k, n], [B, m, k]·[k, n] and (CPU) [B, m, k]·[B, k, n].
    func matmul(_ a: Tensor, _ b: Tensor) -> Differentiated
    /// x·Wᵀ + b over the last axis of `x`; the backward gives x, weight (and bias) gradients.
    func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Differentiated
    func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry: Conv2dGeometry) -> Differentiated
    func maxPool2d(_ x: Tensor, geometry: Pool2dGeometry) -> Differentiated
    func avgPool2d(_ x: Tensor, geometry: Pool2dGeometry) -> Differentiated
    /// The fused conv → ReLU → max pool, conv → GELU → average pool and ReLU → max pool (the same
    /// values as the separate ops; the CPU runs them as one pass, a GPU composes them).
    func conv2dReluMaxPool(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry: Conv2dGeometry, pool: Pool2dGeometry) -> Differentiated
    func conv2dGeluAvgPool(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry: Conv2dGeometry, pool: Pool2dGeometry) -> Differentiated
    func reluMaxPool2d(_ x: Tensor, geometry: Pool2dGeometry) -> Differentiated
    /// Batch norm of x viewed as [n, c, s]; in training it updates the running statistics in place.
    /// The backward gives x's gradient, then weight's and bias's where they are given.
    func batchNorm(_ x: Tensor, n: Int, c: Int, s: Int, runningMean: Tensor, runningVar: Tensor, weight: Tensor?, bias: Tensor?,
                   training: Bool, momentum: Float, eps: Float) -> Differentiated

    // Reductions (axes resolved and non-negative) and softmax: the output and its backward.
    func sumAll(_ x: Tensor) -> Differentiated
    func sum(_ x: Tensor, axes: [Int], keepDims: Bool) -> Differentiated
    /// Mean of squared deviations, divided by n − 1 when `unbiased`.
    func variance(_ x: Tensor, axes: [Int], keepDims: Bool, unbiased: Bool) -> Differentiated
    /// Maximum along `axis`; the gradient goes to the first maximum, as in PyTorch.
    func maxAlong(_ x: Tensor, axis: Int, keepDims: Bool) -> Differentiated
    /// Index of the first maximum along `axis` (int32, that axis removed).
    func argmax(_ x: Tensor, axis: Int) -> Tensor
    /// Softmax (or log-softmax) along `axis`, numerically stable.
    func softmax(_ x: Tensor, axis: Int, log: Bool) -> Differentiated

    /// `op(a, b)` elementwise with NumPy broadcasting (both on this backend's device).
    func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) -> Tensor
    /// a·s.
    func scale(_ a: Tensor, _ s: Float) -> Tensor
    /// a + s.
    func addScalar(_ a: Tensor, _ s: Float) -> Tensor
    /// `g` (shaped like a broadcast result) summed down to `shape`: the gradient of broadcasting.
    func sumToShape(_ g: Tensor, _ shape: Shape) -> Tensor
    /// `op` applied elementwise, and the tensor its backward needs (nil when nothing will be
    /// recorded and the op keeps nothing); `recording` says whether a backward will follow.
    func unary(_ op: UnaryOp, _ x: Tensor, recording: Bool) -> (output: Tensor, saved: Tensor?)
    /// The input gradient of `op` for the output gradient `g`, from what `unary` saved.
    func unaryBackward(_ op: UnaryOp, _ g: Tensor, saved: Tensor) -> Tensor
    /// `torch.optim.SGD` on `w` in place; `buffer` is the momentum buffer (nil without momentum),
    /// uninitialised and filled here on a parameter's first step (`first`).
    func sgdStep(_ w: Tensor, grad: Tensor, buffer: Tensor?, _ u: SGDUpdate)
    /// Adam / AdamW on `w` in place; `vmax` only with amsgrad.
    func adamStep(_ w: Tensor, grad: Tensor, m: Tensor, v: Tensor, vmax: Tensor?, _ u: AdamUpdate)
    /// NAdam on `w` in place.
    func nadamStep(_ w: Tensor, grad: Tensor, m: Tensor, v: Tensor, _ u: NAdamUpdate)
    /// Adagrad on `w` in place; `sum` is the accumulator.
    func adagradStep(_ w: Tensor, grad: Tensor, sum: Tensor, _ u: AdagradUpdate)
    /// RMSprop on `w` in place; `buffer` only with momentum, `gradAverage` only when centered.
    func rmspropStep(_ w: Tensor, grad: Tensor, squareAverage: Tensor, buffer: Tensor?, gradAverage: Tensor?, _ u: RMSpropUpdate)
    /// Whether every element of `tensors` (all on this backend's device) is finite.
    func allFinite(_ tensors: [Tensor]) -> Bool
    /// Scales `grads` in place so that their global `normType`-norm is at most `maxNorm`; returns
    /// the norm before clipping (PyTorch's `clip_grad_norm_`, norms accumulated in double).
    func clipGradNorm(_ grads: [Tensor], maxNorm: Float, normType: Float) -> Float
    /// Clamps every element of `grads` into [−clipValue, clipValue] in place (NaN stays NaN).
    func clipGradValue(_ grads: [Tensor], clipValue: Float)
    /// Mean cross-entropy of `logits` [n, c] at int32 class indices (same device), fused with
    /// log-softmax and label smoothing `labelSmoothing`; the backward maps the loss gradient to
    /// the logits' gradient, (softmax − q)·g / n.
    func crossEntropy(_ logits: Tensor, _ targets: Tensor, n: Int, c: Int, labelSmoothing: Float) -> (loss: Tensor, backward: (Tensor) -> Tensor)
    /// Mean negative log-likelihood of log-probabilities [n, c] at int32 class indices.
    func nllLoss(_ logProbabilities: Tensor, _ targets: Tensor, n: Int, c: Int) -> (loss: Tensor, backward: (Tensor) -> Tensor)
    /// The mean over elements of `value(prediction, target)` (the regression and binary losses),
    /// summed in double; the backward gives `derivative`·g / n for the prediction and, with
    /// `targetNeedsGradient`, its negative for the target (the difference-based losses).
    func meanLoss(_ prediction: Tensor, _ target: Tensor, targetNeedsGradient: Bool, value: @escaping (Float, Float) -> Float,
                  derivative: @escaping (Float, Float) -> Float) -> (loss: Tensor, backward: (Tensor) -> (Tensor, Tensor?))
}

/// Why a device could not run the work queued on it, thrown at a sync point.
public enum BackendError: Error, CustomStringConvertible, Equatable {
    /// An op with no kernel on the device (a batched 3-D matmul on a GPU, say).
    case unsupported(op: String, device: Device)
    /// A driver or memory failure of the device while running `op` (a kernel's name, a copy, an
    /// allocation), as its runtime reported it.
    case failed(device: Device, op: String, reason: String)

    public var description: String {
        switch self {
        case let .unsupported(op, device):
            return "\(op) has no GPU kernel yet, so it cannot run on \(device); train this model with --device cpux (docs/gpu.md lists what runs on a GPU)"
        case let .failed(device, op, reason): return "\(op) failed on \(device): \(reason)"
        }
    }
}

/// An op's output and its backward: the gradient of each input (nil where none is needed) from the
/// output's gradient. `Tensor.recorded` puts it in the autograd graph.
public typealias Differentiated = (output: Tensor, backward: (Tensor) -> [Tensor?])

extension Device {
    /// The backend of this device's memory: the one place that looks at the device kind.
    public var backend: any Backend { self == .cpu ? CPUBackend() : CUDABackend() }
}

extension Tensor {
    /// `op`'s output, recorded for backward as `name`: how a tensor op uses a backend's
    /// differentiable primitive.
    func recording(_ name: String, inputs: [Tensor], _ op: Differentiated) -> Tensor {
        op.output.recorded(name, inputs: inputs, backward: op.backward)
    }

    /// The backend that runs ops on this tensor's storage.
    public var backend: any Backend { device.backend }

    /// The backend that moves tensors between `a` and `b`: the device one's (the CPU's for two hosts).
    static func backend(between a: Device, _ b: Device) -> any Backend { a != .cpu ? a.backend : b.backend }

    /// The backend for an op over `tensors` that may sit on different devices (a model being moved,
    /// gradients of a tied parameter): the first device tensor's, whose host round trips read host
    /// tensors too, else the CPU's.
    public static func backend(for tensors: [Tensor]) -> any Backend {
        tensors.first { $0.device != .cpu }?.backend ?? CPUBackend()
    }

    /// `tensors` grouped by device, in first-seen order (for ops each backend runs on its own).
    public static func byDevice(_ tensors: [Tensor]) -> [[Tensor]] {
        var groups: [(Device, [Tensor])] = []
        for t in tensors {
            if let k = groups.firstIndex(where: { $0.0 == t.device }) { groups[k].1.append(t) } else { groups.append((t.device, [t])) }
        }
        return groups.map(\.1)
    }
}

/// SGD's per-step scalars.
public struct SGDUpdate: Sendable {
    public var negativeLR: Float, weightDecay: Float, momentum: Float
    /// 1 − dampening.
    public var keep: Float
    public var nesterov: Bool
    /// The parameter's first step with momentum: the buffer becomes the (decayed) gradient.
    public var first: Bool

    public init(negativeLR: Float, weightDecay: Float, momentum: Float, keep: Float, nesterov: Bool, first: Bool) {
        (self.negativeLR, self.weightDecay, self.momentum, self.keep, self.nesterov, self.first) = (negativeLR, weightDecay, momentum, keep, nesterov, first)
    }
}

/// Adam's and AdamW's per-step scalars (`w1` = 1 − β1, `decay2` = β2, `w2` = 1 − β2).
public struct AdamUpdate: Sendable {
    /// AdamW's decoupled decay factor 1 − lr·wd (nil for Adam).
    public var shrink: Float?
    public var l2: Float, w1: Float, decay2: Float, w2: Float, bc2Sqrt: Float, eps: Float, negativeStep: Float

    public init(shrink: Float?, l2: Float, w1: Float, decay2: Float, w2: Float, bc2Sqrt: Float, eps: Float, negativeStep: Float) {
        (self.shrink, self.l2, self.w1, self.decay2, self.w2, self.bc2Sqrt, self.eps, self.negativeStep) = (shrink, l2, w1, decay2, w2, bc2Sqrt, eps, negativeStep)
    }
}

/// NAdam's per-step scalars.
public struct NAdamUpdate: Sendable {
    public var shrink: Float?
    public var l2: Float, w1: Float, decay2: Float, w2: Float, bc2: Float, eps: Float, gradCoefficient: Float, averageCoefficient: Float

    public init(shrink: Float?, l2: Float, w1: Float, decay2: Float, w2: Float, bc2: Float, eps: Float, gradCoefficient: Float,
                averageCoefficient: Float) {
        (self.shrink, self.l2, self.w1, self.decay2, self.w2, self.bc2, self.eps) = (shrink, l2, w1, decay2, w2, bc2, eps)
        (self.gradCoefficient, self.averageCoefficient) = (gradCoefficient, averageCoefficient)
    }
}

/// Adagrad's per-step scalars; `negativeCLR` = −lr / (1 + (t − 1)·lr_decay).
public struct AdagradUpdate: Sendable {
    public var weightDecay: Float, eps: Float, negativeCLR: Float

    public init(weightDecay: Float, eps: Float, negativeCLR: Float) {
        (self.weightDecay, self.eps, self.negativeCLR) = (weightDecay, eps, negativeCLR)
    }
}

/// RMSprop's per-step scalars (`decay` = α, `keep` = 1 − α).
public struct RMSpropUpdate: Sendable {
    public var decay: Float, keep: Float, eps: Float, weightDecay: Float, momentum: Float, negativeLR: Float

    public init(decay: Float, keep: Float, eps: Float, weightDecay: Float, momentum: Float, negativeLR: Float) {
        (self.decay, self.keep, self.eps, self.weightDecay, self.momentum, self.negativeLR) = (decay, keep, eps, weightDecay, momentum, negativeLR)
    }
}
