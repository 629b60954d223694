import Foundation
import NTrainCore

/// Weight initialisation schemes (PyTorch's `nn.init` and MindSpore's `Normal(0.02)`).
public enum Initializer: Equatable, Sendable {
    /// PyTorch's default for Linear/Conv: kaiming_uniform with a = √5, i.e. U(−1/√fan_in, 1/√fan_in).
    case kaimingUniform
    /// He normal: N(0, √(2 / fan_in)) (ReLU gain).
    case kaimingNormal
    /// Glorot uniform: U(−√(6/(fan_in+fan_out)), +…).
    case xavierUniform
    /// Glorot normal: N(0, √(2/(fan_in+fan_out))).
    case xavierNormal
    /// N(0, std), e.g. MindSpore's Normal(0.02).
    case normal(std: Float)
    case uniform(low: Float, high: Float)
    case zeros
    case constant(Float)

    /// Fills `tensor` in place. `fanIn`/`fanOut` are the layer's (in·kh·kw, out·kh·kw for conv).
    public func fill(_ tensor: Tensor, fanIn: Int, fanOut: Int, generator: inout RandomGenerator) {
        let p = tensor.data, n = tensor.count
        let fi = Float(max(1, fanIn)), fo = Float(max(1, fanOut))
        switch self {
        case .kaimingUniform:
            let bound = 1 / fi.squareRoot()
            for i in 0..<n { p[i] = generator.uniform(-bound, bound) }
        case .kaimingNormal:
            let std = (2 / fi).squareRoot()
            for i in 0..<n { p[i] = generator.normal(std: std) }
        case .xavierUniform:
            let bound = (6 / (fi + fo)).squareRoot()
            for i in 0..<n { p[i] = generator.uniform(-bound, bound) }
        case .xavierNormal:
            let std = (2 / (fi + fo)).squareRoot()
            for i in 0..<n { p[i] = generator.normal(std: std) }
        case .normal(let std):
            for i in 0..<n { p[i] = generator.normal(std: std) }
        case .uniform(let lo, let hi):
            for i in 0..<n { p[i] = generator.uniform(lo, hi) }
        case .zeros:
            tensor.zero()
        case .constant(let v):
            for i in 0..<n { p[i] = v }
        }
    }

    /// Bias initialisation that goes with this weight scheme: PyTorch's U(−1/√fan_in, 1/√fan_in)
    /// for kaiming_uniform, zeros otherwise (MindSpore and Keras zero their biases).
    public var biasInitializer: Initializer {
        self == .kaimingUniform ? .kaimingUniform : .zeros
    }
}

extension Initializer {
    /// A trainable weight of `shape` and, when `bias`, a trainable bias of `biasCount`, filled with
    /// this scheme (and its bias scheme) for the given fans.
    func makeParameters(weight shape: Shape, bias: Bool, biasCount: Int, fanIn: Int, fanOut: Int,
                        generator: inout RandomGenerator) -> (weight: Tensor, bias: Tensor?) {
        let w = Tensor(uninitialized: shape)
        fill(w, fanIn: fanIn, fanOut: fanOut, generator: &generator)
        w.requiresGrad = true
        guard bias else { return (w, nil) }
        let b = Tensor(uninitialized: [biasCount])
        biasInitializer.fill(b, fanIn: fanIn, fanOut: fanOut, generator: &generator)
        b.requiresGrad = true
        return (w, b)
    }
}
