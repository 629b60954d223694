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
    public func relu() -> Tensor {
        if device != .cpu { return gpuActivation("relu") }
        let x = self
        return Kernels.map(x) { x, o, r in for i in r { o[i] = x[i] > 0 ? x[i] : 0 } }
            .recorded("relu", inputs: [x]) { g in
                [Kernels.map2(g, x) { g, x, o, r in for i in r { let gv = g[i]; o[i] = x[i] > 0 ? gv : 0 } }]
            }
    }

    /// x for x > 0, else slope·x.
    public func leakyRelu(slope: Float = 0.01) -> Tensor {
        if device != .cpu { return gpuActivation("leaky_relu", slope) }
        let x = self
        return Kernels.map(x) { x, o, r in for i in r { let xv = x[i]; o[i] = xv > 0 ? xv : xv * slope } }
            .recorded("leaky_relu", inputs: [x]) { g in
                [Kernels.map2(g, x) { g, x, o, r in for i in r { let gv = g[i]; o[i] = x[i] > 0 ? gv : gv * slope } }]
            }
    }

    /// Exact GELU, x·Φ(x) (erf form, PyTorch's default). When recorded for backward, GELU′(x) is
    /// computed in the forward pass and kept, so the backward pass is one multiply.
    public func gelu() -> Tensor {
        if device != .cpu { return gpuActivation("gelu") }
        let x = self
        guard GradMode.isEnabled, x.requiresGrad else {
            return Kernels.map(x) { x, o, r in for i in r { o[i] = Kernels.gelu(x[i]) } }
        }
        let derivative = Tensor(uninitialized: shape)
        let pd = derivative.data
        return Kernels.map(x) { x, o, r in
            Kernels.gelu(x + r.lowerBound, into: o + r.lowerBound, derivative: pd + r.lowerBound, count: r.count)
        }
        .recorded("gelu", inputs: [x]) { g in
            [Kernels.map2(g, derivative) { g, d, o, r in for i in r { o[i] = g[i] * d[i] } }]
        }
    }

    /// Logistic sigmoid 1 / (1 + e⁻ˣ).
    public func sigmoid() -> Tensor {
        if device != .cpu { return gpuActivation("sigmoid", savesOutput: true) }
        let y = Kernels.map(self) { x, o, r in Kernels.sigmoid(x + r.lowerBound, into: o + r.lowerBound, count: r.count) }
        return y.recorded("sigmoid", inputs: [self]) { g in
            [Kernels.map2(g, y) { g, y, o, r in for i in r { o[i] = g[i] * y[i] * (1 - y[i]) } }]
        }
    }

    /// Hyperbolic tangent.
    public func tanh() -> Tensor {
        if device != .cpu { return gpuActivation("tanh", savesOutput: true) }
        let y = Kernels.map(self) { x, o, r in Kernels.tanh(x + r.lowerBound, into: o + r.lowerBound, count: r.count) }
        return y.recorded("tanh", inputs: [self]) { g in
            [Kernels.map2(g, y) { g, y, o, r in for i in r { o[i] = g[i] * (1 - y[i] * y[i]) } }]
        }
    }
}
