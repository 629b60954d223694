import NTrainCore

/// An elementwise or softmax-style activation as a layer (`relu`, `gelu`, `log_softmax`, …).
public final class Activation: Module {
    public enum Kind: Equatable, Sendable {
        case relu
        case leakyRelu(slope: Float)
        case gelu
        case sigmoid
        case tanh
        case softmax(axis: Int)
        case logSoftmax(axis: Int)
    }

    public let kind: Kind

    public init(_ kind: Kind) { self.kind = kind }

    public override func forward(_ input: Tensor) -> Tensor {
        switch kind {
        case .relu: return input.relu()
        case .leakyRelu(let slope): return input.leakyRelu(slope: slope)
        case .gelu: return input.gelu()
        case .sigmoid: return input.sigmoid()
        case .tanh: return input.tanh()
        case .softmax(let axis): return input.softmax(axis: axis)
        case .logSoftmax(let axis): return input.logSoftmax(axis: axis)
        }
    }

    /// Softmax axes are checked against the input's rank here, where the model is built: the
    /// reduction kernels index with them unchecked.
    public override func outputShape(for input: Shape) throws -> Shape {
        switch kind {
        case .softmax(let axis), .logSoftmax(let axis):
            guard (-input.rank..<input.rank).contains(axis) else {
                throw ModuleError.invalidOption(layer: summary, message: "axis \(axis) is out of range for input \(input) "
                    + "(rank \(input.rank): use -\(input.rank)...\(input.rank - 1), usually -1 for the class axis)")
            }
            return input
        default:
            return input
        }
    }

    public override var summary: String {
        switch kind {
        case .relu: return "ReLU"
        case .leakyRelu(let s): return "LeakyReLU(\(s))"
        case .gelu: return "GELU"
        case .sigmoid: return "Sigmoid"
        case .tanh: return "Tanh"
        case .softmax(let a): return "Softmax(axis: \(a))"
        case .logSoftmax(let a): return "LogSoftmax(axis: \(a))"
        }
    }
}
