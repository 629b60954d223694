/// The fused conv → activation → pool ops on a GPU: no fused kernel, the separate device ops
/// chained, forward and backward (ReLU maps NaN to 0 before the pool, as the CPU's fused pass).
extension CUDABackend {
    public func conv2dReluMaxPool(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry: Conv2dGeometry, pool: Pool2dGeometry) -> Differentiated {
        chain(conv2d(x, weight: weight, bias: bias, geometry: geometry), .relu) { maxPool2d($0, geometry: pool) }
    }

    public func conv2dGeluAvgPool(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry: Conv2dGeometry, pool: Pool2dGeometry) -> Differentiated {
        chain(conv2d(x, weight: weight, bias: bias, geometry: geometry), .gelu) { avgPool2d($0, geometry: pool) }
    }

    public func reluMaxPool2d(_ x: Tensor, geometry: Pool2dGeometry) -> Differentiated {
        chain((x, { [$0] }), .relu) { maxPool2d($0, geometry: geometry) }
    }

    /// `first`, then `activation`, then `pool` as one differentiable op: the backward runs the three
    /// backwards in reverse, giving `first`'s input gradients.
    private func chain(_ first: Differentiated, _ activation: UnaryOp, _ pool: (Tensor) -> Differentiated) -> Differentiated {
        let (a, saved) = unary(activation, first.output, recording: true)
        let (out, poolBackward) = pool(a)
        return (out, { grad in
            guard let ga = poolBackward(grad)[0], let saved else { return [] }
            return first.backward(unaryBackward(activation, ga, saved: saved))
        })
    }
}
