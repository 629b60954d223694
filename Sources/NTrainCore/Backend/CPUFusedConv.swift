/// The fused conv → activation → pool ops on the CPU: one pass that never writes the activation map
/// (Conv/ConvReluMaxPool.swift, Conv/ConvGeluAvgPool.swift, Conv/ReluMaxPool.swift).
extension CPUBackend {
    public func conv2dReluMaxPool(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: Conv2dGeometry, pool pg: Pool2dGeometry) -> Differentiated {
        let (out, indices) = Kernels.conv2dReluMaxPool(x, weight: weight, bias: bias, geometry: g, pool: pg)
        return (out, { [unowned out] grad in
            let r = Kernels.conv2dReluMaxPoolBackward(
                grad, output: out, indices: indices, input: x, weight: weight, geometry: g, pool: pg,
                inputGrad: x.requiresGrad, weightGrad: weight.requiresGrad, biasGrad: bias?.requiresGrad ?? false)
            return bias == nil ? [r.input, r.weight] : [r.input, r.weight, r.bias]
        })
    }

    public func conv2dGeluAvgPool(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: Conv2dGeometry, pool pg: Pool2dGeometry) -> Differentiated {
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        let saving = GradMode.isEnabled && inputs.contains { $0.requiresGrad }
        let (out, derivative) = Kernels.conv2dGeluAvgPool(x, weight: weight, bias: bias, geometry: g, pool: pg, saving: saving)
        guard let derivative else { return (out, { _ in [] }) }  // nothing will be recorded
        return (out, { grad in
            let r = Kernels.conv2dGeluAvgPoolBackward(
                grad, derivative: derivative, input: x, weight: weight, geometry: g, pool: pg,
                inputGrad: x.requiresGrad, weightGrad: weight.requiresGrad, biasGrad: bias?.requiresGrad ?? false)
            return bias == nil ? [r.input, r.weight] : [r.input, r.weight, r.bias]
        })
    }

    public func reluMaxPool2d(_ x: Tensor, geometry g: Pool2dGeometry) -> Differentiated {
        let (out, indices) = Kernels.reluMaxPool2d(x, geometry: g)
        return (out, { [unowned out] grad in [Kernels.reluMaxPool2dBackward(grad, output: out, indices: indices, geometry: g)] })
    }
}
