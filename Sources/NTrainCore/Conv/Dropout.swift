extension Kernels {
    /// An inverted-dropout mask shaped `shape`: each element is 0 with probability `p`, else 1/(1 − p).
    /// Draws one uniform per element from `generator`, in row-major order (deterministic for a seed).
    public static func dropoutMask(_ shape: Shape, p: Float, generator: inout RandomGenerator) -> Tensor {
        precondition(p >= 0 && p <= 1, "dropout: probability must be in [0, 1], got \(p)")
        let mask = Tensor(uninitialized: shape)
        let keep: Float = p < 1 ? 1 / (1 - p) : 0
        let pm = mask.data
        for i in 0..<shape.count { pm[i] = generator.uniform() < p ? 0 : keep }
        return mask
    }
}

extension Tensor {
    /// Inverted dropout (PyTorch's `dropout`): in training each element is zeroed with probability
    /// `p` and the kept ones scaled by 1/(1 − p), so the expected value is unchanged; in eval (or
    /// with p = 0) it returns `self`. The mask comes from `generator`, so runs are reproducible.
    public func dropout(p: Float, training: Bool, generator: inout RandomGenerator) -> Tensor {
        precondition(p >= 0 && p <= 1, "dropout: probability must be in [0, 1], got \(p)")
        guard training, p > 0 else { return self }
        // On a GPU the mask is drawn on the host (the same mask as on the CPU) and copied over.
        let mask = Kernels.dropoutMask(shape, p: p, generator: &generator).to(device)
        return Kernels.mul(self, mask).recorded("dropout", inputs: [self]) { g in [Kernels.mul(g, mask)] }
    }
}
