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
        return recording("conv2d", inputs: bias.map { [self, weight, $0] } ?? [self, weight],
                         backend.conv2d(self, weight: weight, bias: bias, geometry: g))
    }
}
