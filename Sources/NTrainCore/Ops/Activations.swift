import Foundation

extension Kernels {
    /// Logistic function 1 / (1 + e⁻ˣ), computed without overflow for large |x|.
    @inline(__always)
    public static func sigmoid(_ x: Float) -> Float {
        if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
        let e = Foundation.exp(x)
        return e / (1 + e)
    }

    /// Exact GELU, x·Φ(x) with Φ the standard normal CDF (PyTorch's default `approximate='none'`).
    @inline(__always)
    public static func gelu(_ x: Float) -> Float {
        0.5 * x * (1 + erff(x * 0.70710678118654752))
    }

    /// d/dx of exact GELU: Φ(x) + x·φ(x).
    @inline(__always)
    public static func geluDerivative(_ x: Float) -> Float {
        let cdf = 0.5 * (1 + erff(x * 0.70710678118654752))
        let pdf = 0.39894228040143268 * Foundation.exp(-0.5 * x * x)
        return cdf + x * pdf
    }
}

extension Tensor {
    /// max(x, 0). The gradient at 0 is 0, as in PyTorch.
    public func relu() -> Tensor {
        let x = self
        return Kernels.map(x) { x, o, r in for i in r { o[i] = x[i] > 0 ? x[i] : 0 } }
            .recorded("relu", inputs: [x]) { g in
                [Kernels.map2(g, x) { g, x, o, r in for i in r { o[i] = x[i] > 0 ? g[i] : 0 } }]
            }
    }

    /// x for x > 0, else slope·x.
    public func leakyRelu(slope: Float = 0.01) -> Tensor {
        let x = self
        return Kernels.map(x) { x, o, r in for i in r { o[i] = x[i] > 0 ? x[i] : x[i] * slope } }
            .recorded("leaky_relu", inputs: [x]) { g in
                [Kernels.map2(g, x) { g, x, o, r in for i in r { o[i] = x[i] > 0 ? g[i] : g[i] * slope } }]
            }
    }

    /// Exact GELU, x·Φ(x) (erf form, PyTorch's default).
    public func gelu() -> Tensor {
        let x = self
        return Kernels.map(x) { x, o, r in for i in r { o[i] = Kernels.gelu(x[i]) } }
            .recorded("gelu", inputs: [x]) { g in
                [Kernels.map2(g, x) { g, x, o, r in for i in r { o[i] = g[i] * Kernels.geluDerivative(x[i]) } }]
            }
    }

    /// Logistic sigmoid 1 / (1 + e⁻ˣ).
    public func sigmoid() -> Tensor {
        let y = Kernels.map(self) { x, o, r in for i in r { o[i] = Kernels.sigmoid(x[i]) } }
        return y.recorded("sigmoid", inputs: [self]) { g in
            [Kernels.map2(g, y) { g, y, o, r in for i in r { o[i] = g[i] * y[i] * (1 - y[i]) } }]
        }
    }

    /// Hyperbolic tangent.
    public func tanh() -> Tensor {
        let y = Kernels.map(self) { x, o, r in for i in r { o[i] = Foundation.tanh(x[i]) } }
        return y.recorded("tanh", inputs: [self]) { g in
            [Kernels.map2(g, y) { g, y, o, r in for i in r { o[i] = g[i] * (1 - y[i] * y[i]) } }]
        }
    }
}
