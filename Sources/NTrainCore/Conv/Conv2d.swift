extension Tensor {
    /// 2-D convolution of `self` [N, C, H, W] with `weight` [O, C/groups, kh, kw] plus an optional
    /// `bias` [O], giving [N, O, oh, ow] (PyTorch's `conv2d`: cross-correlation, zero padding).
    ///
    /// Shapes must fit (a programmer error otherwise); layers check user configurations first with
    /// `Conv2dGeometry(input:weight:...)`, which throws a `ConvError` explaining the mismatch.
    public func conv2d(
        weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
        dilation: (Int, Int) = (1, 1), groups: Int = 1
    ) -> Tensor {
        let g = validGeometry {
            try Conv2dGeometry(input: shape, weight: weight.shape, stride: stride, padding: padding, dilation: dilation, groups: groups)
        }
        let x = self
        if device != .cpu { return gpuConv2d(weight: weight, bias: bias, geometry: g) }
        // Training keeps the unfolded input for the weight gradient instead of unfolding it twice.
        let columns = GradMode.isEnabled && weight.requiresGrad && !g.isPointwise && g.batch > 0
            ? Tensor(uninitialized: [g.batch, g.columnFloatsPerImage]) : nil
        let out = Kernels.conv2d(x, weight: weight, bias: bias, geometry: g, columns: columns?.data)
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        return out.recorded("conv2d", inputs: inputs) { grad in
            let r = Kernels.conv2dBackward(
                grad, input: x, weight: weight, geometry: g,
                inputGrad: x.requiresGrad, weightGrad: weight.requiresGrad, biasGrad: bias?.requiresGrad ?? false,
                columns: columns.map { UnsafePointer($0.data) })
            return bias == nil ? [r.input, r.weight] : [r.input, r.weight, r.bias]
        }
    }
}
