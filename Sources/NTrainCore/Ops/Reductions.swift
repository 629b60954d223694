extension Tensor {
    /// Sum of all elements, as a scalar tensor.
    public func sum() -> Tensor { recording("sum", inputs: [self], backend.sumAll(self)) }

    /// Sum over `axes` (negative allowed). With `keepDims` the reduced axes stay as size 1.
    /// An empty `axes` reduces nothing (the result is a copy).
    public func sum(axes: [Int], keepDims: Bool = false) -> Tensor {
        recording("sum_axes", inputs: [self], backend.sum(self, axes: Kernels.reductionAxes(axes, of: shape), keepDims: keepDims))
    }

    /// Mean of all elements, as a scalar tensor: the sum divided by the count (composed, not a
    /// backend primitive: a kernel of its own measured no faster, docs/benchmarks.md).
    public func mean() -> Tensor { sum() / Tensor.full([], Float(count), device: device) }

    /// Mean over `axes` (negative allowed), keeping them as size 1 with `keepDims`.
    public func mean(axes: [Int], keepDims: Bool = false) -> Tensor {
        let n = Kernels.reductionAxes(axes, of: shape).reduce(1) { $0 * shape[$1] }
        return sum(axes: axes, keepDims: keepDims) / Tensor.full([], Float(n), device: device)
    }

    /// Maximum values along `axis`; the gradient goes to the first maximal element, as in PyTorch.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor {
        recording("max", inputs: [self], backend.maxAlong(self, axis: shape.axis(axis), keepDims: keepDims))
    }

    /// Index of the first maximum along `axis`, as int32 with that axis removed (not differentiable).
    public func argmax(axis: Int) -> Tensor { backend.argmax(self, axis: shape.axis(axis)) }

    /// Variance over `axes`: mean of squared deviations, divided by n − 1 when `unbiased`
    /// (PyTorch's `correction=1`) and by n otherwise.
    public func variance(axes: [Int], keepDims: Bool = false, unbiased: Bool = false) -> Tensor {
        recording("variance", inputs: [self],
                  backend.variance(self, axes: Kernels.reductionAxes(axes, of: shape), keepDims: keepDims, unbiased: unbiased))
    }
}
