import NTrainCore

/// The losses an experiment can name (DESIGN §2), applied as `loss(output, target)`.
public enum Loss: Equatable, Sendable {
    case crossEntropy(labelSmoothing: Float)
    case nll
    case mse
    case l1
    case smoothL1(beta: Float)
    case binaryCrossEntropy
    case binaryCrossEntropyWithLogits

    /// Whether targets are class indices (int32 [N]) rather than float tensors shaped like the output.
    public var usesClassTargets: Bool {
        switch self {
        case .crossEntropy, .nll: return true
        default: return false
        }
    }

    public func callAsFunction(_ output: Tensor, _ target: Tensor) -> Tensor {
        switch self {
        case .crossEntropy(let eps): return NTrainNN.crossEntropy(output, target, labelSmoothing: eps)
        case .nll: return nllLoss(output, target)
        case .mse: return mseLoss(output, target)
        case .l1: return l1Loss(output, target)
        case .smoothL1(let beta): return smoothL1Loss(output, target, beta: beta)
        case .binaryCrossEntropy: return NTrainNN.binaryCrossEntropy(output, target)
        case .binaryCrossEntropyWithLogits: return NTrainNN.binaryCrossEntropyWithLogits(output, target)
        }
    }
}
