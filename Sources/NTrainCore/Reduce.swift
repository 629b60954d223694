extension Tensor {
    /// Sum of all elements, as a scalar tensor.
    public func sum() -> Tensor {
        let p = data
        var s: Float = 0
        for i in 0..<count { s += p[i] }
        let shape = self.shape
        return Tensor(s).recorded("sum", inputs: [self]) { g in [Tensor.full(shape, g.item())] }
    }
}
