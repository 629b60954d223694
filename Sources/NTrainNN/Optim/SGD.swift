import NTrainCore

/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight
/// decay, exactly as `torch.optim.SGD`:
///
///     g = grad + weight_decay·p
///     b = g                                   (first step: the buffer starts as a copy of g)
///     b = momentum·b + (1 − dampening)·g      (later steps)
///     g = nesterov ? g + momentum·b : b       (when momentum ≠ 0)
///     p = p − lr·g
///
/// Defaults are PyTorch's: lr 1e-3, momentum 0, dampening 0, weight decay 0, no Nesterov.
/// State: `"<i>.momentum_buffer"` per parameter once it has been stepped (only with momentum).
public final class SGD: Optimizer {
    public let name = "sgd"
    public let parameters: [Tensor]
    public var learningRate: Float
    /// Settable, for a 1cycle schedule (`cycledMomentum`).
    public var momentum: Float
    public let dampening: Float
    public let weightDecay: Float
    public let nesterov: Bool
    private var buffers: [ParameterState?]

    public init(parameters: [Tensor], learningRate: Float = 1e-3, momentum: Float = 0, dampening: Float = 0,
                weightDecay: Float = 0, nesterov: Bool = false) throws {
        try HyperparameterCheck.floatParameters(parameters, name)
        try HyperparameterCheck.nonNegative(Double(learningRate), "lr", name)
        try HyperparameterCheck.nonNegative(Double(momentum), "momentum", name)
        try HyperparameterCheck.nonNegative(Double(weightDecay), "weight_decay", name)
        guard dampening.isFinite else {
            throw OptimizerError.invalidHyperparameter(optimizer: name, parameter: "dampening", value: Double(dampening), expected: "a finite value")
        }
        if nesterov && (momentum <= 0 || dampening != 0) {
            throw OptimizerError.invalidCombination(optimizer: name, reason: "Nesterov momentum requires momentum > 0 and dampening = 0 (got momentum \(momentum), dampening \(dampening))")
        }
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        self.buffers = Array(repeating: nil, count: parameters.count)
    }

    public var cycledMomentum: Float? {
        get { momentum }
        set { if let newValue { momentum = newValue } }
    }

    private var tensorKeys: [String] { momentum != 0 ? ["momentum_buffer"] : [] }

    public func step() {
        let negLR = -learningRate, wd = weightDecay, mom = momentum
        let keep = Float(1 - Double(dampening))
        for (i, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            precondition(grad.shape == p.shape, "SGD: gradient shape \(grad.shape) ≠ parameter shape \(p.shape)")
            let first = mom != 0 && buffers[i] == nil
            if first { buffers[i] = ParameterState(tensors: [Tensor(uninitialized: p.shape, device: p.device)], scalars: []) }
            p.backend.sgdStep(p, grad: grad, buffer: mom == 0 ? nil : buffers[i]!.tensors[0],
                              SGDUpdate(negativeLR: negLR, weightDecay: wd, momentum: mom, keep: keep, nesterov: nesterov, first: first))
        }
    }

    public func stateDict() -> OptimizerState {
        OptimizerState(optimizer: name, learningRate: learningRate, tensorKeys: tensorKeys, scalarKeys: [], states: buffers)
    }

    public func load(state: OptimizerState) throws {
        let loaded = try state.parameterStates(optimizer: name, parameters: parameters, tensorKeys: tensorKeys, scalarKeys: [])
        learningRate = loaded.learningRate
        buffers = loaded.states
    }
}
