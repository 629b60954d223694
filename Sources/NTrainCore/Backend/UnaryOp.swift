/// The elementwise unary operations and activations a backend runs, forward and backward.
public enum UnaryOp: Sendable, Equatable {
    case exp, log, sqrt, abs
    case pow(Float)
    /// Clamp to [min, max] (±infinity for an open side).
    case clamp(Float, Float)
    case relu
    case leakyRelu(slope: Float)
    /// Exact GELU, x·Φ(x).
    case gelu
    case sigmoid, tanh

    /// The op's name in the autograd graph and the CUDA kernels (`<name>_f32`, `<name>_backward_f32`).
    public var name: String {
        switch self {
        case .exp: return "exp"
        case .log: return "log"
        case .sqrt: return "sqrt"
        case .abs: return "abs"
        case .pow: return "pow"
        case .clamp: return "clamp"
        case .relu: return "relu"
        case .leakyRelu: return "leaky_relu"
        case .gelu: return "gelu"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        }
    }

    /// The scalar arguments the kernels take after the tensors.
    public var parameters: [Float] {
        switch self {
        case .pow(let p): return [p]
        case .clamp(let lo, let hi): return [lo, hi]
        case .leakyRelu(let slope): return [slope]
        default: return []
        }
    }

    /// Whether the gradient is a function of the output (eˣ, √x, σ, tanh) rather than the input.
    public var gradientFromOutput: Bool {
        switch self {
        case .exp, .sqrt, .sigmoid, .tanh: return true
        default: return false
        }
    }
}

extension Tensor {
    /// `op` applied elementwise, recorded for backward: the one dispatch of every unary op.
    func unary(_ op: UnaryOp) -> Tensor {
        let backend = self.backend
        let (y, saved) = backend.unary(op, self, recording: GradMode.isEnabled && requiresGrad)
        guard let saved else { return y }
        return y.recorded(op.name, inputs: [self]) { g in [backend.unaryBackward(op, g, saved: saved)] }
    }
}
