import NTrainCore

/// Batch normalisation over the channel dimension of [N, C] (1-d) or [N, C, H, W] (2-d) input,
/// as PyTorch's `nn.BatchNorm1d/2d`: batch statistics in training (updating running statistics
/// with `momentum`), running statistics in eval. Without `affine` there is no weight or bias
/// (PyTorch's `affine=False`): the output is the normalised input.
public final class BatchNorm: Module {
    public let features: Int
    public let spatial: Bool
    public let eps: Float
    public let momentum: Float
    /// The per-channel scale and shift; nil without `affine`.
    public let weight: Tensor?
    public let bias: Tensor?
    public let runningMean: Tensor
    public let runningVar: Tensor
    /// Counts training batches, as PyTorch's `num_batches_tracked` (kept for state-dict parity).
    public let batchesTracked: Tensor

    public init(features: Int, spatial: Bool, eps: Float = 1e-5, momentum: Float = 0.1, affine: Bool = true) {
        self.features = features
        self.spatial = spatial
        self.eps = eps
        self.momentum = momentum
        if affine {
            let weight = Tensor.ones([features]), bias = Tensor.zeros([features])
            weight.requiresGrad = true
            bias.requiresGrad = true
            (self.weight, self.bias) = (weight, bias)
        } else {
            (weight, bias) = (nil, nil)
        }
        runningMean = Tensor.zeros([features])
        runningVar = Tensor.ones([features])
        batchesTracked = Tensor.zeros([], dtype: .int64)
    }

    public override func forward(_ input: Tensor) -> Tensor {
        if isTraining { batchesTracked.int64Data[0] += 1 }
        return input.batchNorm(runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias,
                               training: isTraining, momentum: momentum, eps: eps)
    }

    public override func outputShape(for input: Shape) throws -> Shape {
        let rank = spatial ? 4 : 2
        guard input.rank == rank, input[1] == features else {
            throw ModuleError.badInput(layer: summary, expected: spatial ? "[N, \(features), H, W]" : "[N, \(features)]", got: input)
        }
        return input
    }

    public override var localParameters: [(String, Tensor)] {
        guard let weight, let bias else { return [] }
        return [("weight", weight), ("bias", bias)]
    }
    public override var localBuffers: [(String, Tensor)] {
        [("running_mean", runningMean), ("running_var", runningVar), ("num_batches_tracked", batchesTracked)]
    }
    public override var summary: String { "BatchNorm\(spatial ? "2d" : "1d")(\(features)\(weight == nil ? ", affine: false" : ""))" }
}
