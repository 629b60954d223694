import Foundation

extension Kernels {
    /// Exact GELU, x·Φ(x) with Φ the standard normal CDF (PyTorch's default `approximate='none'`).
    @inline(__always)
    public static func gelu(_ x: Float) -> Float {
        x * normalCDF(x)
    }
}

extension Tensor {
    /// max(x, 0). The gradient at 0 is 0, as in PyTorch.
    public func relu() -> Tensor { applying(.relu) }

    /// x for x > 0, else slope·x.
    public func leakyRelu(slope: Float = 0.01) -> Tensor { applying(.leakyRelu(slope: slope)) }

    /// Exact GELU, x·Φ(x) (erf form, PyTorch's default). When recorded for backward, GELU′(x) is
    /// computed in the forward pass and kept, so the backward pass is one multiply.
    public func gelu() -> Tensor { applying(.gelu) }

    /// Logistic sigmoid 1 / (1 + e⁻ˣ).
    public func sigmoid() -> Tensor { applying(.sigmoid) }

    /// Hyperbolic tangent.
    public func tanh() -> Tensor { applying(.tanh) }
}
